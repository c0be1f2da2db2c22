"""Which failures to rerun now, with which runs, and which to give up on. Pure: the clock, the landing
directory and the run history come in as arguments.

A failure waits for its cause. Its prerequisites (the game files and registry entries its fix needs, carried
down from the root failures it follows) decide when a rerun is worth spending:

- a prerequisite is missing: it waits, spending nothing, until `max_wait_hours` after it was first seen; then
  PERMANENT, DATA_NEVER_ARRIVED;
- all are present: it is rerun at once when it has not been rerun with them yet (first sight, or a
  prerequisite appeared or changed since its last attempt). A rerun with the same data that keeps failing is
  retried with exponential backoff (the failure may be transient) up to `max_attempts`; then PERMANENT,
  RETRIES_EXHAUSTED;
- it follows an open root failure: it spends no attempt of its own; it is rerun with its root and resolves
  (or stays open) with it. It follows a root given up on: it is given up with it;
- a PERMANENT failure whose prerequisites changed since it was given up is rearmed: late data still closes
  the loop after the wait.

Each root's fix is the contiguous window from its earliest prerequisite game to its analysis date (and its
followers' windows), for the pipeline upstream of their processors; overlapping windows are merged into one
run, so a tick launches the fewest runs that cover everything that became ready.

pandas is imported where used: the sensors the code location loads are typed with this module's classes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from nba_failures.failures.records import OPEN_STATUSES, RETRIED_TYPES, PermanentCause, ResolutionStatus
from nba_failures.landing.contract import game_date_of

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int
    backoff_seconds: float
    max_wait_hours: float
    # A requested run that never appears in the instance (lost request) gives its attempt back after this.
    lost_run_seconds: float = 900.0


class RunState(str, Enum):
    FINISHED = "FINISHED"
    IN_FLIGHT = "IN_FLIGHT"
    NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True)
class PrerequisiteVersions:
    """Where prerequisites stand now: a version string for each present one, None for a missing one."""

    game_file: Callable[[str], str | None]
    registry_entry: Callable[[str], str | None]


@dataclass(frozen=True)
class RunPlan:
    """One run: assets for every day of `[first, last]`, serving root failures at these attempts (with the
    prerequisite state each is retried with) and their followers, who ride along without an attempt."""

    first: dt.date
    last: dt.date
    assets: frozenset[str]
    attempts: Mapping[str, int]
    states: Mapping[str, str]
    riders: frozenset[str] = frozenset()

    @property
    def run_key(self) -> str:
        served = ",".join(f"{key}:{attempt}:{self.states[key]}" for key, attempt in sorted(self.attempts.items()))
        served += "|" + ",".join(sorted(self.riders))
        return f"retry-{self.first.isoformat()}-{self.last.isoformat()}-{hashlib.sha256(served.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class GiveUp:
    cause: PermanentCause
    reason: str
    state: str


@dataclass
class RetryDecision:
    runs: list[RunPlan] = field(default_factory=list)
    permanent: dict[str, GiveUp] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)  # failure_key -> what it waits for
    backing_off: list[str] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)
    lost: dict[str, int] = field(default_factory=dict)  # failure_key -> attempts once a lost request's attempt is given back

    @property
    def retried(self) -> dict[str, tuple[RunPlan, int]]:
        return {key: (plan, attempt) for plan in self.runs for key, attempt in plan.attempts.items()}

    @property
    def riding(self) -> dict[str, RunPlan]:
        return {key: plan for plan in self.runs for key in plan.riders}


@dataclass
class _Candidate:
    row: Mapping
    missing: list[str]
    state: str

    @property
    def key(self) -> str:
        return self.row["failure_key"]


def plan_retries(
    failures: pd.DataFrame,
    now: pd.Timestamp,
    settings: RetrySettings,
    versions: PrerequisiteVersions,
    upstream_assets: Callable[[str], frozenset[str]],
    run_state: Callable[[str], RunState],
) -> RetryDecision:
    """Decide, for retried failures (canonical store rows, open or PERMANENT), what this tick does.

    `upstream_assets(processor)` gives the assets to rerun for a processor's failure (itself included);
    `run_state(run_key)` says where the run of a requested retry is.
    """
    decision = RetryDecision()
    rows = failures[failures["failure_type"].isin(RETRIED_TYPES)].to_dict("records")
    candidates = {row["failure_key"]: _examine(row, versions) for row in rows}
    active = {key: c for key, c in candidates.items() if _is_open(c.row) or _rearmed(c)}
    permanent = {key: c for key, c in candidates.items() if key not in active}

    for key, candidate in active.items():
        if _in_flight(candidate, now, settings, run_state, decision):
            decision.in_flight.append(key)
    ready: dict[str, int] = {}
    followers: dict[str, list[str]] = defaultdict(list)
    for key, candidate in active.items():
        if key in decision.in_flight:
            continue
        open_roots = [root for root in _roots(candidate) if root in active]
        given_up_roots = [root for root in _roots(candidate) if root in permanent]
        if open_roots:
            for root in open_roots:
                followers[root].append(key)
        elif given_up_roots:
            root = permanent[given_up_roots[0]].row
            cause = PermanentCause(root.get("permanent_cause") or PermanentCause.RETRIES_EXHAUSTED)
            decision.permanent[key] = _given_up_with(root, cause, root["permanent_reason"], candidate.state)
        else:
            attempt = _decide_root(candidate, now, settings, decision)
            if attempt is not None:
                ready[key] = attempt

    waiting_roots = {key: text for key, text in decision.waiting.items() if key in active}
    riders: dict[str, set[str]] = defaultdict(set)
    for root, keys in followers.items():
        if root in ready:
            riders[root].update(keys)
    ridden = {key for keys in riders.values() for key in keys}
    for root, keys in followers.items():
        for key in keys:
            if key in ridden or key in decision.waiting or key in decision.permanent:
                continue
            root_row = active[root].row
            if root in waiting_roots:
                decision.waiting[key] = f"its root failure {_describe(root_row)}: {waiting_roots[root]}"
            elif root in decision.permanent:
                given_up = decision.permanent[root]
                decision.permanent[key] = _given_up_with(root_row, given_up.cause, given_up.reason, active[key].state)
            else:
                decision.waiting[key] = f"its root failure {_describe(root_row)} being retried"
    decision.runs = _merge_windows(
        [(active[key], attempt, [active[rider] for rider in sorted(riders[key])]) for key, attempt in ready.items()],
        upstream_assets,
    )
    return decision


def _given_up_with(root: Mapping, cause: PermanentCause, reason: str, state: str) -> GiveUp:
    """A follower is given up when the root it follows is, for the same cause."""
    return GiveUp(cause, f"follows {_describe(root)}, given up: {reason}", state)


def _examine(row: Mapping, versions: PrerequisiteVersions) -> _Candidate:
    """Which prerequisites are missing now, and one state string over all of them (what a change compares)."""
    parts, missing = [], []
    for game in _listed(row.get("prerequisite_game_ids")):
        version = versions.game_file(game)
        parts.append(f"game:{game}={version}")
        if version is None:
            missing.append(f"raw box score of {game}")
    for player in _listed(row.get("prerequisite_players")):
        version = versions.registry_entry(player)
        parts.append(f"registry:{player}={version}")
        if version is None:
            missing.append(f"{player} in the player registry")
    state = hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()[:16]
    return _Candidate(row, missing, state)


def _is_open(row: Mapping) -> bool:
    return row["resolution_status"] in OPEN_STATUSES


def _rearmed(candidate: _Candidate) -> bool:
    """A PERMANENT failure whose prerequisites are all present and changed since it was given up."""
    row = candidate.row
    return (
        row["resolution_status"] == ResolutionStatus.PERMANENT.value
        and not candidate.missing
        and candidate.state != row.get("prerequisites_state")
    )


def _roots(candidate: _Candidate) -> list[str]:
    return [root for root in _listed(candidate.row.get("root_failure_keys")) if root != candidate.key]


def _in_flight(
    candidate: _Candidate,
    now: pd.Timestamp,
    settings: RetrySettings,
    run_state: Callable[[str], RunState],
    decision: RetryDecision,
) -> bool:
    """Whether its requested rerun is still to come. RETRY_REQUESTED marks a failure retried on its own (followers
    ride without it), so a lost request gives its attempt back: an attempt counts only for a rerun that ran."""
    row = candidate.row
    if row["resolution_status"] != ResolutionStatus.RETRY_REQUESTED.value or not row.get("last_retry_run_id"):
        return False
    state = run_state(row["last_retry_run_id"])
    if state == RunState.IN_FLIGHT:
        return True
    if state == RunState.NOT_FOUND:
        if _seconds_since(row.get("last_retry_at"), now) < settings.lost_run_seconds:
            return True  # requested this tick or the last: the daemon has not created the run yet
        decision.lost[candidate.key] = max(int(row["retry_attempts"] or 0) - 1, 0)
    return False


def _decide_root(candidate: _Candidate, now: pd.Timestamp, settings: RetrySettings, decision: RetryDecision) -> int | None:
    """The attempt to request now for a failure planned on its own, or None (waiting, backing off, given up)."""
    row, key = candidate.row, candidate.key
    if candidate.missing:
        waiting_for = "; ".join(candidate.missing)
        waited_hours = _seconds_since(row.get("first_seen_at"), now) / 3600
        if waited_hours > settings.max_wait_hours:
            reason = f"data never arrived within {settings.max_wait_hours:g} hours: {waiting_for}"
            decision.permanent[key] = GiveUp(PermanentCause.DATA_NEVER_ARRIVED, reason, candidate.state)
        else:
            decision.waiting[key] = waiting_for
        return None
    attempts = decision.lost.get(key, int(row["retry_attempts"] or 0))
    rearmed = row["resolution_status"] == ResolutionStatus.PERMANENT.value or candidate.state != row.get("prerequisites_state")
    if attempts == 0 or rearmed:
        return 1  # not rerun with this data yet (first sight, or it appeared or changed since): a new round
    if attempts >= settings.max_attempts:
        reason = f"rerun failed {attempts} times with its data present (max {settings.max_attempts})"
        decision.permanent[key] = GiveUp(PermanentCause.RETRIES_EXHAUSTED, reason, candidate.state)
        return None
    delay = settings.backoff_seconds * 2 ** max(attempts - 1, 0)
    if _seconds_since(row.get("last_retry_at"), now) < delay:
        decision.backing_off.append(key)
        return None
    return attempts + 1


def _merge_windows(
    ready: list[tuple[_Candidate, int, list[_Candidate]]], upstream_assets: Callable[[str], frozenset[str]]
) -> list[RunPlan]:
    """Merge overlapping windows (each root's with its riders') into single runs (interval merge)."""
    windows = []
    for root, attempt, riders in ready:
        served = [root, *riders]
        first = min(_earliest(candidate.row) for candidate in served)
        last = max(_as_date(candidate.row["analysis_date"]) for candidate in served)
        assets = frozenset().union(*(upstream_assets(candidate.row["processor_name"]) for candidate in served))
        windows.append(
            RunPlan(first, last, assets, {root.key: attempt}, {root.key: root.state}, frozenset(c.key for c in riders))
        )
    plans: list[RunPlan] = []
    for window in sorted(windows, key=lambda plan: (plan.first, plan.last, plan.run_key)):
        if plans and window.first <= plans[-1].last + dt.timedelta(days=1):
            previous = plans[-1]
            plans[-1] = RunPlan(
                previous.first,
                max(previous.last, window.last),
                previous.assets | window.assets,
                {**previous.attempts, **window.attempts},
                {**previous.states, **window.states},
                previous.riders | window.riders,
            )
        else:
            plans.append(window)
    return plans


def _earliest(row: Mapping) -> dt.date:
    games = [*_listed(row.get("prerequisite_game_ids")), *_listed(row.get("missing_game_ids")), *_listed(row.get("gap_game_ids"))]
    return min([_as_date(row["analysis_date"]), *(game_date_of(game) for game in games)])


def _describe(row: Mapping) -> str:
    return f"{row['processor_name']} {row['failure_category']} {row['entity_id']} {_as_date(row['analysis_date']).isoformat()}"


def _seconds_since(moment, now: pd.Timestamp) -> float:
    import pandas as pd

    if moment is None or pd.isna(moment):
        return float("inf")
    return (now - pd.Timestamp(moment)).total_seconds()


def _listed(values) -> list[str]:
    """A list column's value (list, tuple or array), or nothing for a missing one."""
    return list(values) if isinstance(values, (list, tuple)) or hasattr(values, "tolist") else []


def _as_date(value) -> dt.date:
    import pandas as pd

    return value if type(value) is dt.date else pd.Timestamp(value).date()
