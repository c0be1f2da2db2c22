"""`correctable_failures_sensor`: retries what classification found correctable, and closes the loop."""

import datetime as dt
import functools
import json
from collections.abc import Callable

import pandas as pd
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
from nba_failures.analytics.player_games import registry_index
from nba_failures.failures.classification import game_date_of
from nba_failures.failures.records import ResolutionStatus
from nba_failures.failures.store import FAILURE_STORES
from nba_failures.landing.contract import landed_game_files, read_registry
from nba_failures.resources import LandingZone
from nba_failures.sensors.retry_plan import OPEN_STATUSES, RetryDecision, RetrySettings, plan_retries
from nba_failures.sensors.runs import run_settled, runs_in_flight, window_run_request
from nba_failures.warehouse.base import Warehouse

PIPELINE = AssetSelection.groups("raw", "analytics", "precompute", "predictions", "failures")
# Phase 2 and 3 are rerun with any retry: they are cheap, and a late file's players reach every table.
ALWAYS_RERUN = AssetSelection.groups("raw", "analytics") | AssetSelection.assets("classified_failures")


class RetryPolicy(ConfigurableResource):
    """Bounds on retrying one failure."""

    # No pydantic bounds on fields that may come from EnvVar: they are checked when resolved, in settings().
    max_attempts: int = Field(default=3, description="Retries per failure before it becomes PERMANENT (≥ 1).")
    backoff_seconds: int = Field(default=300, description="Wait after the first retry (≥ 0); doubles per attempt.")
    max_wait_hours: float = Field(default=72.0, gt=0, description="How long to wait for missing data before PERMANENT.")

    def settings(self) -> RetrySettings:
        if self.max_attempts < 1 or self.backoff_seconds < 0:
            raise ValueError(f"RetryPolicy needs max_attempts >= 1 and backoff_seconds >= 0, got {self.max_attempts}, {self.backoff_seconds}")
        return RetrySettings(self.max_attempts, self.backoff_seconds, self.max_wait_hours)


@sensor(
    name="correctable_failures_sensor",
    target=PIPELINE,
    minimum_interval_seconds=settings.sensor_interval_seconds(),
    # Running by default: closing the loop without a human is the point of these sensors.
    default_status=DefaultSensorStatus.RUNNING,
    description="Reruns the partitions that can fix UNRESOLVED correctable failures, at most max_attempts times each.",
)
def correctable_failures_sensor(context: SensorEvaluationContext, warehouse: Warehouse, landing: LandingZone, retry_policy: RetryPolicy):
    in_flight = runs_in_flight(context.instance)
    if in_flight:
        return SensorResult(skip_reason=SkipReason(f"waiting for {in_flight} sensor-launched runs to finish"), cursor=context.cursor)
    open_failures = _open_failures(warehouse)
    if open_failures.empty:
        return SensorResult(skip_reason=SkipReason("no open correctable failures"), cursor=context.cursor)
    now = pd.Timestamp.now(tz="UTC")
    graph = context.repository_def.asset_graph
    decision = plan_retries(
        open_failures,
        now,
        retry_policy.settings(),
        game_landed=_landed_games(landing),
        player_registered=_registered_players(landing),
        upstream_assets=lambda processor: _assets_to_rerun(graph, processor),
        attempt_settled=lambda run_key: run_settled(context.instance, run_key),
    )
    launched = set(json.loads(context.cursor or "[]"))
    plans = [plan for plan in decision.runs if plan.run_key not in launched]
    _record_decision(warehouse, open_failures, decision, plans, now)
    requests = [
        window_run_request(plan.run_key, "retry", plan.assets, plan.first, plan.last, {"nba_failures/retried_failures": str(len(plan.attempts))})
        for plan in plans
    ]
    context.log.info(
        f"{len(requests)} retry runs for {sum(len(p.attempts) for p in plans)} failures; {len(decision.waiting)} waiting for data; "
        f"{len(decision.backing_off)} backing off; {len(decision.permanent)} given up"
    )
    # The cursor remembers launched run keys, so a tick that re-reads a stale store never relaunches one.
    cursor = json.dumps(sorted(launched | {plan.run_key for plan in plans})[-5000:])
    if not requests:
        return SensorResult(skip_reason=SkipReason(f"nothing ready to retry ({len(decision.waiting)} waiting for data)"), cursor=cursor)
    return SensorResult(run_requests=requests, cursor=cursor)


def _open_failures(warehouse: Warehouse) -> pd.DataFrame:
    frames = [store.to_canonical(warehouse.read(store.table, where_in={"resolution_status": OPEN_STATUSES})).assign(_store=index) for index, store in enumerate(FAILURE_STORES)]
    return pd.concat(frames, ignore_index=True)


def _assets_to_rerun(graph, processor: str) -> frozenset[str]:
    selection = AssetSelection.assets(processor).upstream() & PIPELINE | ALWAYS_RERUN
    return frozenset(key.to_user_string() for key in selection.resolve(graph))


def _landed_games(landing: LandingZone) -> Callable[[str], bool]:
    """Whether a game's file is in its day folder, by the same listing the raw asset reads (any letter case)."""

    @functools.cache
    def games_on(day: dt.date) -> frozenset[str]:
        return frozenset(landed.game_id for landed in landed_game_files(landing.root, day, day + dt.timedelta(days=1)))

    return lambda game_id: game_id in games_on(game_date_of(game_id))


def _registered_players(landing: LandingZone) -> Callable[[str], bool]:
    registry = read_registry(landing.root).assign(snapshot_date=None)
    known = set(registry_index(registry)["player_lookup"])
    return known.__contains__


def _record_decision(warehouse: Warehouse, failures: pd.DataFrame, decision: RetryDecision, plans, now: pd.Timestamp) -> None:
    """Attempts, run key and time of each requested retry; PERMANENT with its reason for the given up."""
    requested = {key: (plan.run_key, attempt) for plan in plans for key, attempt in plan.attempts.items()}
    touched = failures[failures["failure_key"].isin(set(requested) | set(decision.permanent))]
    for index, rows in touched.groupby("_store"):
        store = FAILURE_STORES[index]
        keys = sorted(rows["failure_key"])
        first, last = min(rows["analysis_date"]), max(rows["analysis_date"])

        def update(current: pd.DataFrame, store=store) -> pd.DataFrame:
            frame = store.to_canonical(current)
            for key, (run_key, attempt) in requested.items():
                mask = frame["failure_key"] == key
                frame.loc[mask, ["resolution_status", "retry_attempts", "last_retry_run_id", "last_retry_at"]] = [ResolutionStatus.RETRY_REQUESTED.value, attempt, run_key, now]
            for key, reason in decision.permanent.items():
                mask = frame["failure_key"] == key
                frame.loc[mask, ["resolution_status", "permanent_reason"]] = [ResolutionStatus.PERMANENT.value, reason]
            return store.to_table(frame)

        warehouse.update_slice(store.table, first, last + dt.timedelta(days=1), {"failure_key": keys}, update)
