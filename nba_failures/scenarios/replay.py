"""A live season replayed into a landing directory on an accelerated clock, for a running Dagster daemon.

A seeded scenario (`make_scenario`) is laid out with its game days held back under `.replay/`; then every game day
lands at once at the end of its simulated day, its late files `delivery_delay_hours` after that, the registry fixes
that long after the removed player's first game. The daemon does the rest: the automation conditions process each
day that lands or changes, the retry sensor what a late file or a registry fix makes correctable. Afterwards the
report reads how fresh each landing was (landed -> that day's failures classified, from the instance's
materializations) and what healed (the failure store).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

from nba_failures.landing.build import build_in_place
from nba_failures.landing.contract import GAMEBOOK_DIR, game_day_folder
from nba_failures.scenarios.deliver import land_held_file, restore_registry_rows
from nba_failures.scenarios.faults import FaultKind, GameFileFault, RegistryRemovalFault
from nba_failures.scenarios.make import make_scenario
from nba_failures.scenarios.truth import GroundTruth
from nba_failures.sensors.runs import runs_in_flight

PENDING_DIR = Path(".replay") / GAMEBOOK_DIR  # game days not landed yet (outside `gamebook/`: no reader sees them)
HOURS_PER_DAY = 24.0
CLASSIFIED = AssetKey("classified_failures")


@dataclass(frozen=True)
class ReplayEvent:
    """Something that lands `at_hours` simulated hours after the first game day: a day's files, a late file, a registry fix."""

    at_hours: float
    kind: Literal["day", "late_file", "registry_fix"]
    day: dt.date  # the game day it changes (a registry fix: the removed player's first game of the replay)
    fault: GameFileFault | RegistryRemovalFault | None = None

    @property
    def changes_files(self) -> bool:
        """A day's game files change, so the automation reprocesses the day (a registry fix is the retry sensor's)."""
        return self.kind != "registry_fix"


@dataclass(frozen=True)
class Landed:
    event: ReplayEvent
    at: pd.Timestamp  # wall clock, UTC


def replay_timeline(days: list[dt.date], truth: GroundTruth) -> list[ReplayEvent]:
    """Every event of the replay in landing order: day `i` lands at `i * 24` h, a fault's fix `delivery_delay_hours`
    after the day it concerns (files that never arrive have no event)."""
    landed_at = {day: index * HOURS_PER_DAY for index, day in enumerate(sorted(days))}
    events = [ReplayEvent(hours, "day", day) for day, hours in landed_at.items()]
    for fault in truth.faults:
        if fault.fault_kind == FaultKind.LATE_GAME_FILE and fault.game_date in landed_at:
            events.append(
                ReplayEvent(landed_at[fault.game_date] + fault.delivery_delay_hours, "late_file", fault.game_date, fault)
            )
        if fault.fault_kind == FaultKind.REGISTRY_REMOVAL:
            played = sorted(day for day in fault.played_dates if day in landed_at)
            if played:
                events.append(ReplayEvent(landed_at[played[0]] + fault.delivery_delay_hours, "registry_fix", played[0], fault))
    return sorted(events, key=lambda event: (event.at_hours, event.kind != "day", event.day))


def prepare_replay(landing_dir: Path, seed: int, start: dt.date, end: dt.date) -> list[dt.date]:
    """Lay the scenario out in `landing_dir` with no game day landed (the days of `[start, end]` pending); its days.

    Built in place (`build_in_place`), so a daemon watching the directory never sees the season whole.
    """

    def stage(staging: Path) -> list[dt.date]:
        make_scenario(staging, seed, start=start, end=end)
        pending = staging / PENDING_DIR
        pending.mkdir(parents=True)
        days = []
        for folder in sorted((staging / GAMEBOOK_DIR).iterdir()):
            day = game_day_folder(folder.name)
            if day is not None and start <= day <= end:
                os.replace(folder, pending / folder.name)
                days.append(day)
        shutil.rmtree(staging / GAMEBOOK_DIR)  # days outside the replay never land
        (staging / GAMEBOOK_DIR).mkdir()
        return days

    return build_in_place(landing_dir, stage)


def land(landing_dir: Path, event: ReplayEvent) -> None:
    """Make `event` happen in the landing directory (a day's folder appears whole: one rename)."""
    if event.kind == "day":
        folder = landing_dir / PENDING_DIR / event.day.isoformat()
        for path in folder.iterdir():
            os.utime(path)  # they arrive now
        os.replace(folder, landing_dir / GAMEBOOK_DIR / event.day.isoformat())
    elif event.kind == "late_file":
        land_held_file(landing_dir, event.fault)
    else:
        restore_registry_rows(landing_dir, [event.fault])


def run_replay(
    landing_dir: Path, events: list[ReplayEvent], speed: float, on_event: Callable[[Landed], None] | None = None
) -> list[Landed]:
    """Land every event when its simulated time comes, `speed` simulated seconds per real second."""
    began = time.monotonic()
    landed = []
    for event in events:
        time.sleep(max(0.0, began + event.at_hours * 3600 / speed - time.monotonic()))
        land(landing_dir, event)
        landed.append(Landed(event, pd.Timestamp.now(tz="UTC")))
        if on_event:
            on_event(landed[-1])
    return landed


def classified_after(instance: DagsterInstance, day: dt.date, since: pd.Timestamp) -> pd.Timestamp | None:
    """When `classified_failures` of `day` was first materialized at or after `since` (None: not yet)."""
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=CLASSIFIED, asset_partitions=[day.isoformat()], after_timestamp=since.timestamp()),
        limit=1,
        ascending=True,
    ).records
    return pd.Timestamp(records[0].timestamp, unit="s", tz="UTC") if records else None


def freshness(instance: DagsterInstance, landed: list[Landed], speed: float) -> pd.DataFrame:
    """Per landing of game files: when it landed, when its day's failures were classified, and how long that took
    (real seconds, and simulated hours at the replay's speed)."""
    rows = []
    for item in landed:
        if not item.event.changes_files:
            continue
        classified = classified_after(instance, item.event.day, item.at)
        seconds = (classified - item.at).total_seconds() if classified is not None else None
        what = f"late {item.event.fault.game_id}" if item.event.kind == "late_file" else "day's files"
        rows.append({
            "day": item.event.day, "landed": what, "landed_at": item.at, "classified_at": classified,
            "seconds": seconds, "simulated_hours": seconds * speed / 3600 if seconds is not None else None,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=["day", "landed", "landed_at", "classified_at", "seconds", "simulated_hours"])


def wait_until_classified(
    instance: DagsterInstance, landed: list[Landed], timeout_seconds: float, poll_seconds: float = 2.0
) -> bool:
    """Wait until every landing of game files has its day classified after it; False when `timeout_seconds` ran out."""
    deadline = time.monotonic() + timeout_seconds
    pending = [item for item in landed if item.event.changes_files]
    while pending:
        pending = [item for item in pending if classified_after(instance, item.event.day, item.at) is None]
        if not pending:
            break
        if time.monotonic() > deadline:
            return False
        time.sleep(poll_seconds)
    return True


def wait_until_quiet(instance: DagsterInstance, timeout_seconds: float, quiet_seconds: float, poll_seconds: float = 2.0) -> bool:
    """Wait until no retry or automation run has been in flight for `quiet_seconds` (the sensors found nothing more
    to do); False when `timeout_seconds` ran out."""
    deadline = time.monotonic() + timeout_seconds
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < quiet_seconds:
        if runs_in_flight(instance):
            quiet_since = time.monotonic()
        if time.monotonic() > deadline:
            return False
        time.sleep(poll_seconds)
    return True


def healed(store: pd.DataFrame, days: list[dt.date]) -> pd.DataFrame:
    """The replayed days' failures by resolution status and category: what healed (RESOLVED) and what did not."""
    of_days = store[store["analysis_date"].isin(days)]
    counts = of_days.groupby(["resolution_status", "failure_category"]).size().rename("failures").reset_index()
    return counts.sort_values(["resolution_status", "failures"], ascending=[True, False], ignore_index=True)
