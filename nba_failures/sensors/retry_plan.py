"""Which correctable failures to retry now, with which runs, and which to give up on. Pure.

A failure is retried only when the data that can fix it is there (its games' raw files have landed, the
registry now knows the player): retrying before that burns attempts on a rerun that cannot succeed.
Each failure's fix is the contiguous window from its earliest missing game to its analysis date, for the
pipeline upstream of its processor; overlapping windows are merged into one run, so a tick launches the
fewest runs that cover every ready failure, and each run is keyed by the (failure, attempt) pairs it serves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from nba_failures.failures.classification import game_date_of
from nba_failures.failures.records import EntityType, FailureCategory, FailureType, ResolutionStatus

RETRY_TRIGGER_TAG = "nba_failures/trigger"
RETRY_FAILURES_TAG = "nba_failures/retry_failures"
OPEN_STATUSES = (ResolutionStatus.UNRESOLVED.value, ResolutionStatus.RETRY_REQUESTED.value)
# A stale failure (COMPLETE: the data is there now) is cleared by rerunning its processor, like a gap.
RETRYABLE_TYPES = (FailureType.DATA_GAP.value, FailureType.MIXED.value, FailureType.COMPLETE.value)


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int
    backoff_seconds: float
    max_wait_hours: float


@dataclass(frozen=True)
class RunPlan:
    """One run: assets for every day of `[first, last]`, serving these failures at these attempts."""

    first: dt.date
    last: dt.date
    assets: frozenset[str]
    attempts: Mapping[str, int]

    @property
    def run_key(self) -> str:
        served = ",".join(f"{key}:{attempt}" for key, attempt in sorted(self.attempts.items()))
        return f"retry-{self.first.isoformat()}-{self.last.isoformat()}-{hashlib.sha256(served.encode()).hexdigest()[:16]}"


@dataclass
class RetryDecision:
    runs: list[RunPlan] = field(default_factory=list)
    permanent: dict[str, str] = field(default_factory=dict)  # failure_key -> reason
    waiting: dict[str, str] = field(default_factory=dict)  # failure_key -> what it waits for
    backing_off: list[str] = field(default_factory=list)


def involved_games(failure: Mapping) -> list[str]:
    """Games whose raw data a failure depends on: its missing and gap games, or the game itself."""
    games = set(failure.get("missing_game_ids") or ()) | set(failure.get("gap_game_ids") or ())
    if failure["entity_type"] == EntityType.GAME.value and failure["failure_category"] in (
        FailureCategory.MISSING_RAW_DATA.value,
    ):
        games.add(failure["entity_id"])
    return sorted(games)


def plan_retries(
    failures: pd.DataFrame,
    now: pd.Timestamp,
    settings: RetrySettings,
    game_landed: Callable[[str], bool],
    player_registered: Callable[[str], bool],
    upstream_assets: Callable[[str], frozenset[str]],
    attempt_settled: Callable[[str | None], bool],
) -> RetryDecision:
    """Decide, for open correctable failures (canonical store rows), what this tick does.

    `upstream_assets(processor)` gives the assets to rerun for a processor's failure (itself included);
    `attempt_settled(run_key)` says whether the last retry's run has finished (or never started).
    """
    decision = RetryDecision()
    candidates = failures[failures["resolution_status"].isin(OPEN_STATUSES) & failures["failure_type"].isin(RETRYABLE_TYPES)]
    ready: list[tuple[Mapping, dt.date]] = []
    for failure in candidates.to_dict("records"):
        key = failure["failure_key"]
        attempts = int(failure["retry_attempts"] or 0)
        if attempts and not (_backoff_elapsed(failure, now, settings) and attempt_settled(failure["last_retry_run_id"])):
            decision.backing_off.append(key)
            continue
        if attempts >= settings.max_attempts:
            decision.permanent[key] = f"still failing after {attempts} retries (max {settings.max_attempts})"
            continue
        missing = [game for game in involved_games(failure) if not game_landed(game)]
        unregistered = failure["failure_category"] == FailureCategory.REGISTRY_LOOKUP_FAILED.value and not player_registered(failure["entity_id"])
        if missing or unregistered:
            waited = (now - pd.Timestamp(failure["first_seen_at"])).total_seconds() / 3600
            if waited > settings.max_wait_hours:
                decision.permanent[key] = f"fix never arrived within {settings.max_wait_hours:g} hours: " + _waiting_for(missing, unregistered, failure)
            else:
                decision.waiting[key] = _waiting_for(missing, unregistered, failure)
            continue
        earliest = min([failure["analysis_date"], *(game_date_of(game) for game in involved_games(failure))])
        ready.append((failure, earliest))
    decision.runs = _merge_windows(ready, upstream_assets)
    return decision


def _backoff_elapsed(failure: Mapping, now: pd.Timestamp, settings: RetrySettings) -> bool:
    last = failure["last_retry_at"]
    if last is None or pd.isna(last):
        return True
    delay = settings.backoff_seconds * 2 ** (int(failure["retry_attempts"]) - 1)
    return (now - pd.Timestamp(last)).total_seconds() >= delay


def _waiting_for(missing: list[str], unregistered: bool, failure: Mapping) -> str:
    parts = []
    if missing:
        parts.append(f"raw box scores of {', '.join(missing)} not landed")
    if unregistered:
        parts.append(f"{failure['entity_id']} not in the player registry")
    return "; ".join(parts)


def _merge_windows(ready: list[tuple[Mapping, dt.date]], upstream_assets: Callable[[str], frozenset[str]]) -> list[RunPlan]:
    """Merge overlapping `[earliest, analysis_date]` windows into single runs (interval merge)."""
    plans: list[RunPlan] = []
    for failure, earliest in sorted(ready, key=lambda item: (item[1], item[0]["analysis_date"])):
        assets = upstream_assets(failure["processor_name"])
        attempt = {failure["failure_key"]: int(failure["retry_attempts"] or 0) + 1}
        if plans and earliest <= plans[-1].last:
            previous = plans[-1]
            plans[-1] = RunPlan(previous.first, max(previous.last, failure["analysis_date"]), previous.assets | assets, {**previous.attempts, **attempt})
        else:
            plans.append(RunPlan(earliest, failure["analysis_date"], assets, attempt))
    return plans
