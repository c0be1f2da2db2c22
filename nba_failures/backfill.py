"""Single-run backfills of every partitioned asset, in process (the CLI and the demo use this)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
from dagster import DagsterInstance, Definitions, ExecuteInProcessResult, LoggerDefinition, build_resources, define_asset_job
from dagster._core.definitions.materialize import EPHEMERAL_JOB_NAME
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from nba_failures.failures.records import Phase
from nba_failures.failures.store import read_failures
from nba_failures.failures.views import OUTCOMES, outcome_of
from nba_failures.instance import dagster_instance
from nba_failures.settings import warehouse_pool
from nba_failures.warehouse.base import Warehouse


@dataclass(frozen=True)
class StepEvent:
    """A step of the backfill run started, succeeded or failed (`error`: the failure's message)."""

    step_key: str
    event_type: str  # STEP_START, STEP_SUCCESS or STEP_FAILURE
    total_steps: int
    error: str | None = None


STEP_EVENT_TYPES = ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE")


class _StepEventHandler(logging.Handler):
    def __init__(self, on_step: Callable[[StepEvent], None]) -> None:
        super().__init__(logging.DEBUG)
        self._on_step = on_step
        self.total_steps = 0

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)  # set by Dagster on the records of its structured events
        if event is None or event.event_type_value not in STEP_EVENT_TYPES:
            return
        failure = event.step_failure_data.error if event.event_type_value == "STEP_FAILURE" else None
        error = failure.message.strip() if failure else None
        self._on_step(StepEvent(event.step_key, event.event_type_value, self.total_steps, error))


def run_backfill(
    start: dt.date,
    last: dt.date,
    instance: DagsterInstance | None = None,
    selection: str | None = None,
    on_step: Callable[[StepEvent], None] | None = None,
    raise_on_error: bool = True,
) -> ExecuteInProcessResult:
    """Materialize the selected assets (default: all) for every day of `[start, last]` in one run.

    With `on_step`, the run's only logger hands it each step's start, success and failure: Dagster's event
    stream still goes to the instance's event log (the UI shows it), not to the console. Without, Dagster's
    console logger prints every event."""
    from nba_failures.definitions import defs

    steps = _StepEventHandler(on_step) if on_step else None

    def step_logger(_init_context) -> logging.Logger:
        logger = logging.getLogger("nba_failures.backfill.steps")
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # the steps are printed by `on_step` alone
        logger.handlers = [steps]  # this run's handler only, however many backfills ran in this process
        return logger

    backfill_defs = Definitions(
        jobs=[define_asset_job(name=EPHEMERAL_JOB_NAME, selection=selection)],
        assets=list(defs.assets),
        resources=defs.resources,
        loggers={"steps": LoggerDefinition(step_logger, description="Step starts, successes and failures.")} if steps else None,
    )
    job = backfill_defs.resolve_job_def(EPHEMERAL_JOB_NAME)
    if steps:
        steps.total_steps = len(job.graph.nodes)
    return job.execute_in_process(
        # A job uses its loggers only when the run config names them; otherwise Dagster's console logger.
        run_config={"loggers": {"steps": {}}} if steps else None,
        instance=instance or dagster_instance(),
        tags={ASSET_PARTITION_RANGE_START_TAG: start.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()},
        raise_on_error=raise_on_error,
    )


@contextmanager
def configured_warehouse(instance: DagsterInstance | None = None) -> Iterator[Warehouse]:
    """The code location's warehouse as a run gets it: Dagster initializes the resource, so settings given as
    `EnvVar` (the BigQuery project, credentials…) are resolved, which reading `defs.resources` directly does not.
    `instance`: the command's own, if it has one (without, Dagster sets up an in-memory one, ~0.1 s)."""
    from nba_failures.definitions import defs

    with build_resources({"warehouse": defs.resources["warehouse"]}, instance=instance) as resources:
        yield resources.warehouse


@contextmanager
def backfill_warehouse(instance: DagsterInstance) -> Iterator[Warehouse]:
    """The configured warehouse, in one session for a backfill run in this process and thread and whatever the
    block reads after it, unless the instance makes the warehouse's steps take turns with other runs' steps.

    On DuckDB a session is one connection: the file is attached, its catalog read and the file checkpointed once,
    not for each of the run's 15 steps. It also keeps the file locked between steps, so with the warehouse's pool
    limited (the production instance) a run holding a pool slot would wait for the file while this run waits for the
    slot: there, each step opens the file itself, as it would without this block."""
    with configured_warehouse(instance) as warehouse:
        if _pool_is_limited(instance):
            yield warehouse
            return
        with warehouse.session():
            yield warehouse


def _pool_is_limited(instance: DagsterInstance) -> bool:
    pool = warehouse_pool()
    if pool is None:
        return False
    storage = instance.event_log_storage
    return storage.get_pool_config().default_pool_limit is not None or pool in storage.get_concurrency_keys()


_SUMMARY_COLUMNS = [
    "phase", "processor_name", "failure_category", "failure_key", "failure_type", "is_correctable", "resolution_status",
]  # fmt: skip


def failure_summary(warehouse: Warehouse, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    """Stored failures per processor and category, counted by outcome (the columns of `OUTCOMES`)."""
    outcomes = [name for name, _ in OUTCOMES]
    failures = read_failures(warehouse, start, end, columns=_SUMMARY_COLUMNS)[_SUMMARY_COLUMNS]
    keys = ["phase", "processor_name", "failure_category"]
    if failures.empty:
        return pd.DataFrame(columns=[*keys, "failures", *outcomes])
    counts = pd.crosstab([failures[key] for key in keys], outcome_of(failures)).reindex(columns=outcomes, fill_value=0)
    counts.insert(0, "failures", counts.sum(axis=1))
    summary = counts.rename_axis(columns=None).reset_index()
    phase_order = {phase.value: order for order, phase in enumerate(Phase)}
    summary = summary.sort_values(
        ["phase", "processor_name", "failures"],
        key=lambda c: c.map(phase_order) if c.name == "phase" else c,
        ascending=[True, True, False],
    )
    return summary.reset_index(drop=True)
