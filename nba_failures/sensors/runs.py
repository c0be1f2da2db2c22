"""Run requests for a window of daily partitions, and what sensors need to know about runs in flight."""

import datetime as dt

from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunRequest, RunsFilter
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from nba_failures.failures.retry_plan import RunState

TRIGGER_TAG = "nba_failures/trigger"
# The trigger of the runs the automation sensor launches (a day's files landed or changed).
AUTOMATION_TRIGGER = "automation"
RUN_KEY_TAG = "dagster/run_key"
# Sensor-launched runs are retried by the sensor, per failure and bounded; Dagster's own run retries
# would double them.
NO_RUN_RETRIES = {"dagster/max_retries": "0"}
_IN_FLIGHT = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.QUEUED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]


def window_run_request(
    run_key: str, trigger: str, assets: frozenset[str], first: dt.date, last: dt.date, tags: dict[str, str] | None = None
) -> RunRequest:
    """One run over `[first, last]` (a single-run backfill when it spans several days)."""
    window_tags = {TRIGGER_TAG: trigger, **NO_RUN_RETRIES, **(tags or {})}
    selection = [AssetKey(name) for name in sorted(assets)]
    if first == last:
        return RunRequest(run_key=run_key, asset_selection=selection, partition_key=first.isoformat(), tags=window_tags)
    window_tags |= {ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()}
    return RunRequest(run_key=run_key, asset_selection=selection, tags=window_tags)


def runs_in_flight(instance: DagsterInstance) -> int:
    """Retry and automation runs not finished yet: a retry tick waits for them, so two runs never race on a day."""
    return len(instance.get_run_ids(RunsFilter(statuses=_IN_FLIGHT, tags={TRIGGER_TAG: ["retry", AUTOMATION_TRIGGER]})))


def run_state(instance: DagsterInstance, run_key: str) -> RunState:
    """Where the run of `run_key` is: finished, in flight, or not (yet) in the instance."""
    runs = instance.get_runs(RunsFilter(tags={RUN_KEY_TAG: run_key}))
    if not runs:
        return RunState.NOT_FOUND
    return RunState.FINISHED if all(run.is_finished for run in runs) else RunState.IN_FLIGHT
