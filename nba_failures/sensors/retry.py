"""`correctable_failures_sensor`: reruns what classification found correctable once its data is there, and
closes the loop (the decisions are `retry_plan.plan_retries`; this module reads and writes their inputs).

The failure store, the registry's identities and pandas are imported where used: loading the code location only
defines the sensor.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dagster import (
    AssetSelection,
    ConfigurableResource,
    DefaultSensorStatus,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)
from pydantic import Field

from nba_failures import settings
from nba_failures.failures.records import OPEN_STATUSES, RETRIED_TYPES, ResolutionStatus
from nba_failures.failures.retry_plan import PrerequisiteVersions, RetryDecision, RetrySettings, plan_retries
from nba_failures.landing.contract import game_date_of, landed_game_files, read_registry
from nba_failures.resources import LandingZone
from nba_failures.sensors.runs import run_state, runs_in_flight, window_run_request
from nba_failures.warehouse.base import Warehouse

if TYPE_CHECKING:
    import pandas as pd

PIPELINE = AssetSelection.groups("raw", "analytics", "precompute", "predictions", "failures")
# Phase 2 and 3 are rerun with any retry: they are cheap, and a late file's players reach every table.
ALWAYS_RERUN = AssetSelection.groups("raw", "analytics") | AssetSelection.assets("classified_failures")
# What the planner reads: failures it reruns, open or given up (a given-up one is rearmed when its data changes).
_CANDIDATES = {"resolution_status": [*OPEN_STATUSES, ResolutionStatus.PERMANENT.value], "failure_type": list(RETRIED_TYPES)}


class RetryPolicy(ConfigurableResource):
    """Bounds on retrying one failure."""

    # No pydantic bounds on fields that may come from EnvVar: they are checked when resolved, in settings().
    max_attempts: int = Field(default=3, description="Reruns with its data present before it is PERMANENT (≥ 1).")
    backoff_seconds: int = Field(
        default=300, description="Wait before rerunning again with the same data (≥ 0); doubles per attempt."
    )
    max_wait_hours: float = Field(
        default=72.0, description="How long a failure waits for missing data before it is PERMANENT (> 0)."
    )

    def settings(self) -> RetrySettings:
        if self.max_attempts < 1 or self.backoff_seconds < 0 or self.max_wait_hours <= 0:
            raise ValueError(
                "RetryPolicy needs max_attempts >= 1, backoff_seconds >= 0 and max_wait_hours > 0, "
                f"got {self.max_attempts}, {self.backoff_seconds}, {self.max_wait_hours}"
            )
        return RetrySettings(self.max_attempts, self.backoff_seconds, self.max_wait_hours)


class LandedPrerequisites:
    """Versions of prerequisites in the landing directory: a game file's size and modification time (a
    re-delivered file is a change), a registry entry's id and key (None when the registry does not know him)."""

    def __init__(self, landing: LandingZone) -> None:
        self.root = landing.root

    def game_file(self, game_id: str) -> str | None:
        path = self._landed_on(game_date_of(game_id)).get(game_id)
        if path is None:
            return None
        stat = path.stat()
        return f"{stat.st_size}:{stat.st_mtime_ns}"

    @functools.cache
    def _landed_on(self, day: dt.date) -> dict[str, Path]:
        """A day's game files by game id, by the same listing the raw asset reads (any letter case)."""
        return {landed.game_id: landed.path for landed in landed_game_files(self.root, day, day + dt.timedelta(days=1))}

    def registry_entry(self, player_lookup: str) -> str | None:
        return self._registry.get(player_lookup)

    @cached_property
    def _registry(self) -> dict[str, str]:
        from nba_failures.identity import registry_index

        index = registry_index(read_registry(self.root).assign(snapshot_date=None))
        return dict(zip(index["player_lookup"], index["universal_player_id"] + ":" + index["registry_lookup"]))

    def versions(self) -> PrerequisiteVersions:
        return PrerequisiteVersions(game_file=self.game_file, registry_entry=self.registry_entry)


@sensor(
    name="correctable_failures_sensor",
    target=PIPELINE,
    minimum_interval_seconds=settings.sensor_interval_seconds(),
    # Running by default: closing the loop without a human is the point of these sensors.
    default_status=DefaultSensorStatus.RUNNING,
    description="Reruns correctable failures once the data their fix needs has landed; gives up after max_attempts reruns "
    "with that data, or when it never arrives within max_wait_hours.",
)
def correctable_failures_sensor(
    context: SensorEvaluationContext, warehouse: Warehouse, landing: LandingZone, retry_policy: RetryPolicy
):
    import pandas as pd

    return retry_tick(context, warehouse, landing, retry_policy, pd.Timestamp.now(tz="UTC"))


def retry_tick(
    context: SensorEvaluationContext, warehouse: Warehouse, landing: LandingZone, retry_policy: RetryPolicy, now: pd.Timestamp
) -> SensorResult:
    """One evaluation of the sensor at `now` (the clock is an input, so a test can tick hours or days later)."""
    in_flight = runs_in_flight(context.instance)
    if in_flight:
        return SensorResult(
            skip_reason=SkipReason(f"waiting for {in_flight} sensor-launched runs to finish"), cursor=context.cursor
        )
    candidates = read_candidates(warehouse)
    if candidates.empty:
        return SensorResult(skip_reason=SkipReason("no open correctable failures"), cursor=context.cursor)
    graph = context.repository_def.asset_graph
    decision = plan_retries(
        candidates,
        now,
        retry_policy.settings(),
        LandedPrerequisites(landing).versions(),
        upstream_assets=lambda processor: _assets_to_rerun(graph, processor),
        run_state=lambda run_key: run_state(context.instance, run_key),
    )
    # The cursor remembers launched run keys, so a tick that re-reads a stale store never relaunches one; a
    # request that never became a run is forgotten, so its failure can be requested again.
    lost_runs = set(candidates.loc[candidates["failure_key"].isin(set(decision.lost)), "last_retry_run_id"])
    launched = set(json.loads(context.cursor or "[]")) - lost_runs
    decision.runs = [plan for plan in decision.runs if plan.run_key not in launched]
    record_decision(warehouse, candidates, decision, now)
    requests = [
        window_run_request(
            plan.run_key, "retry", plan.assets, plan.first, plan.last, {"nba_failures/retried_failures": str(len(plan.attempts))}
        )
        for plan in decision.runs
    ]
    context.log.info(
        f"{len(requests)} retry runs for {len(decision.retried)} failures (+{len(decision.riding)} following them); "
        f"{len(decision.waiting)} waiting for data; {len(decision.backing_off)} backing off; "
        f"{len(decision.in_flight)} in flight; "
        f"{len(decision.permanent)} given up"
    )
    cursor = json.dumps(sorted(launched | {plan.run_key for plan in decision.runs})[-5000:])
    if not requests:
        return SensorResult(
            skip_reason=SkipReason(f"nothing ready to retry ({len(decision.waiting)} waiting for data)"), cursor=cursor
        )
    return SensorResult(run_requests=requests, cursor=cursor)


def read_candidates(warehouse: Warehouse) -> pd.DataFrame:
    """Every failure the sensor reruns, open or given up, from the three store tables (canonical columns)."""
    from nba_failures.failures.store import read_failures

    return read_failures(warehouse, where_in=_CANDIDATES)


def _assets_to_rerun(graph, processor: str) -> frozenset[str]:
    selection = AssetSelection.assets(processor).upstream() & PIPELINE | ALWAYS_RERUN
    return frozenset(key.to_user_string() for key in selection.resolve(graph))


def decision_updates(candidates: pd.DataFrame, decision: RetryDecision, now: pd.Timestamp) -> dict[str, dict[str, object]]:
    """The store columns each failure's row gets from this tick (only rows that change)."""
    updates: dict[str, dict[str, object]] = {}
    stored_waiting = dict(zip(candidates["failure_key"], candidates["waiting_for"]))
    for key, attempts in decision.lost.items():
        updates[key] = {"resolution_status": ResolutionStatus.UNRESOLVED.value, "retry_attempts": attempts}
    for key, text in decision.waiting.items():
        if stored_waiting.get(key) != text:
            updates.setdefault(key, {})["waiting_for"] = text
    for key, (plan, attempt) in decision.retried.items():
        updates[key] = {
            "resolution_status": ResolutionStatus.RETRY_REQUESTED.value, "retry_attempts": attempt,
            "last_retry_run_id": plan.run_key, "last_retry_at": now, "prerequisites_state": plan.states[key],
            "waiting_for": None, "permanent_reason": None, "permanent_cause": None,
        }  # fmt: skip
    for key, plan in decision.riding.items():
        # A follower rides without an attempt and stays UNRESOLVED: RETRY_REQUESTED marks a spent attempt.
        updates[key] = {"last_retry_run_id": plan.run_key, "last_retry_at": now, "waiting_for": None}
    for key, give_up in decision.permanent.items():
        updates[key] = {
            "resolution_status": ResolutionStatus.PERMANENT.value, "permanent_reason": give_up.reason,
            "permanent_cause": give_up.cause.value, "prerequisites_state": give_up.state, "waiting_for": None,
        }  # fmt: skip
    return updates


def record_decision(warehouse: Warehouse, candidates: pd.DataFrame, decision: RetryDecision, now: pd.Timestamp) -> None:
    """Write this tick's decisions into the store, one slice update per store table."""
    from nba_failures.failures.store import FAILURE_STORES

    updates = decision_updates(candidates, decision, now)
    touched = candidates[candidates["failure_key"].isin(set(updates))]
    for index, rows in touched.groupby("store_index"):
        store = FAILURE_STORES[index]
        keys = sorted(rows["failure_key"])
        first, last = min(rows["analysis_date"]), max(rows["analysis_date"])

        def update(current: pd.DataFrame, store=store) -> pd.DataFrame:
            frame = store.to_canonical(current).set_index("failure_key", drop=False)
            for key, columns in updates.items():
                if key in frame.index:
                    for column, value in columns.items():
                        frame.at[key, column] = value
            return store.to_table(frame.reset_index(drop=True))

        warehouse.update_slice(store.table, first, last + dt.timedelta(days=1), {"failure_key": keys}, update)
