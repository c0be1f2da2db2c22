"""Real runs for the instance tests: a daily-partitioned asset with a partitioned check, materialized day by day,
and the database connections SQLAlchemy opens meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

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
from sqlalchemy import event
from sqlalchemy.engine import Engine

DAYS = DailyPartitionsDefinition(start_date="2023-01-01", end_date="2023-01-11")


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


def backfill_range(instance: DagsterInstance) -> None:
    """One run over every day of `DAYS`: Dagster hands its planned events and its materializations over as batches."""
    days = DAYS.get_partition_keys()
    range_tags = {ASSET_PARTITION_RANGE_START_TAG: days[0], ASSET_PARTITION_RANGE_END_TAG: days[-1]}
    assert materialize([box_score_days], instance=instance, tags=range_tags).success


def backfill_days(instance: DagsterInstance) -> None:
    """One run per day of `DAYS`: a planned event, a materialization and a check result each, besides the run's own."""
    for day in DAYS.get_partition_keys():
        assert materialize([box_scores], instance=instance, partition_key=day).success


@contextmanager
def connections_opened(describe: Callable[[Any], Any] = lambda _connection: None) -> Iterator[list]:
    """`describe(connection)` of every database connection opened in this process while inside (any engine)."""
    opened: list = []

    def record(dbapi_connection, _record) -> None:
        opened.append(describe(dbapi_connection))

    event.listen(Engine, "connect", record)
    try:
        yield opened
    finally:
        event.remove(Engine, "connect", record)
