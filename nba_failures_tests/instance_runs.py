"""Real runs for the instance and event-log tests: a home for an instance, a daily-partitioned asset with a
partitioned check, materialized day by day or as one range, and what SQLAlchemy does meanwhile (connections
opened, commits, statements)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    BackfillPolicy,
    DagsterInstance,
    DailyPartitionsDefinition,
    MaterializeResult,
    asset,
    materialize,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from sqlalchemy import Table, event, select
from sqlalchemy.engine import Engine

from nba_failures.processing import partition_check_evaluations

DAYS = DailyPartitionsDefinition(start_date="2023-01-01", end_date="2023-01-11")


def instance_home(path: Path, config: dict) -> Path:
    """A new DAGSTER_HOME at `path` whose dagster.yaml holds `config` (telemetry off)."""
    path.mkdir(parents=True)
    (path / "dagster.yaml").write_text(yaml.safe_dump({"telemetry": {"enabled": False}, **config}))
    return path


@asset(partitions_def=DAYS, check_specs=[AssetCheckSpec("rows_present", asset="box_scores", partitions_def=DAYS)])
def box_scores(context) -> MaterializeResult:
    return MaterializeResult(
        metadata={"day": context.partition_key}, check_results=[AssetCheckResult(passed=True, check_name="rows_present")]
    )


@asset(partitions_def=DAYS, backfill_policy=BackfillPolicy.single_run())
def box_score_days(context) -> MaterializeResult:
    for day in context.partition_keys:
        context.add_asset_metadata({"day": day}, partition_key=day)
    return MaterializeResult(metadata={"days": len(context.partition_keys)})


@asset(
    partitions_def=DAYS,
    backfill_policy=BackfillPolicy.single_run(),
    check_specs=[AssetCheckSpec("day_present", asset="checked_box_score_days", partitions_def=DAYS)],
)
def checked_box_score_days(context):
    """As a processor asset does: the range's materialization, then a check result per day aimed at that day's."""
    yield MaterializeResult(metadata={"days": len(context.partition_keys)})
    results = {
        dt.date.fromisoformat(day): [AssetCheckResult(check_name="day_present", passed=True)] for day in context.partition_keys
    }
    yield from partition_check_evaluations(context, results)


@asset(partitions_def=DAYS, backfill_policy=BackfillPolicy.single_run())
def failing_box_score_days(context) -> MaterializeResult:
    """A range step that fails: Dagster reports each of its days as failed to materialize."""
    raise RuntimeError(f"no box scores for {len(context.partition_keys)} days")


def backfill_range(instance: DagsterInstance, assets_def=box_score_days, succeeds: bool = True) -> None:
    """One run over every day of `DAYS`: Dagster hands its planned events and its materializations over as batches."""
    days = DAYS.get_partition_keys()
    range_tags = {ASSET_PARTITION_RANGE_START_TAG: days[0], ASSET_PARTITION_RANGE_END_TAG: days[-1]}
    assert materialize([assets_def], instance=instance, tags=range_tags, raise_on_error=succeeds).success == succeeds


def backfill_days(instance: DagsterInstance) -> None:
    """One run per day of `DAYS`: a planned event, a materialization and a check result each, besides the run's own."""
    for day in DAYS.get_partition_keys():
        assert materialize([box_scores], instance=instance, partition_key=day).success


def index_rows(storage, table: Table, left_out: Sequence[str] = ("id", "create_timestamp")) -> list[tuple]:
    """The rows of a table of `storage`'s index, in the order they were written, without the columns `left_out` (by
    default the row's id and the time it was written)."""
    columns = [column for name, column in table.c.items() if name not in left_out]
    with storage.index_connection() as connection:
        return [tuple(row) for row in connection.execute(select(*columns).order_by(table.c.id))]


@contextmanager
def engine_events(name: str, describe: Callable[..., Any] = lambda *_arguments: None) -> Iterator[list]:
    """`describe(*arguments)` of every SQLAlchemy engine event `name` ("connect", "commit", "before_cursor_execute"…)
    in this process while inside (any engine)."""
    seen: list = []

    def record(*arguments) -> None:
        seen.append(describe(*arguments))

    event.listen(Engine, name, record)
    try:
        yield seen
    finally:
        event.remove(Engine, name, record)
