"""What every processor asset does after computing: store rows and failures, and describe both."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
)

from nba_failures.failures.recorder import FailureRecorder, ProcessorSpec
from nba_failures.failures.tables import PROCESSOR_FAILURES, PROCESSOR_RUNS
from nba_failures.partitions import days_in, partition_window
from nba_failures.warehouse.base import Warehouse

PREVIEW_ROWS = 20
ROWS_ACCOUNTED_FOR = "rows_accounted_for"


def rows_accounted_for_check(asset_name: str) -> AssetCheckSpec:
    """Declared by processors whose input rows must each end as an output row or a failure row."""
    return AssetCheckSpec(ROWS_ACCOUNTED_FOR, asset=asset_name, description="input rows = rows written + failed rows + rows excluded by definition")
_PREVIEW_COLUMNS = ("analysis_date", "entity_type", "entity_id", "failure_category", "can_retry", "failure_reason")


@dataclass(frozen=True)
class RowAccounting:
    """Input rows of a processor and how many of them became failures instead of output rows."""

    input_rows: int
    failed_input_rows: int
    # Input rows left out by definition (players who did not play are not summary rows), not failures.
    excluded_input_rows: int = 0


def start_run(context: AssetExecutionContext, processor: ProcessorSpec) -> tuple[FailureRecorder, dt.date, dt.date]:
    start, end = partition_window(context)
    return FailureRecorder(processor, context.run.run_id), start, end


def publish(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    recorder: FailureRecorder,
    rows: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    accounting: RowAccounting | None = None,
    extra_metadata: dict[str, object] | None = None,
) -> MaterializeResult:
    """Replace the processor's rows and failures for `[start, end)` and return its metadata.

    Failures go to the warehouse per analysis date: in a range run Dagster copies the same metadata to
    every partition, so metadata alone cannot say which day a failure belongs to.
    """
    processor = recorder.processor
    failures = recorder.frame()
    scope = {"processor_name": [processor.name]}
    # Rows, failures and runs together: a failure left from an interrupted write never outlives its fix.
    with warehouse.transaction():
        written = warehouse.replace(processor.table, rows, start, end)
        warehouse.replace(PROCESSOR_FAILURES, failures, start, end, where_in=scope)
        warehouse.replace(PROCESSOR_RUNS, _runs_per_day(recorder, rows, failures, start, end), start, end, where_in=scope)
    metadata: dict[str, object] = {
        "table": processor.table.qualified_name,
        "entity_type": processor.entity_type.value,
        "partition_range": f"{start.isoformat()}..{(end - dt.timedelta(days=1)).isoformat()}",
        "rows_written": written,
        "failures": len(recorder),
        "failures_by_category": MetadataValue.json(recorder.counts_by_category()),
        **(extra_metadata or {}),
    }
    if (end - start).days == 1:
        # Not in a range run: its metadata is copied to every partition of the range, where a preview would
        # show each day the range's first failures, and would be serialized twice per partition for nothing.
        metadata["failures_preview"] = _preview(failures)
    check_results = []
    if accounting is not None:
        metadata["input_rows"] = accounting.input_rows
        metadata["failed_input_rows"] = accounting.failed_input_rows
        metadata["excluded_input_rows"] = accounting.excluded_input_rows
        balanced = accounting.input_rows == written + accounting.failed_input_rows + accounting.excluded_input_rows
        metadata["rows_accounted_for"] = balanced
        if not balanced:
            context.log.error(f"{processor.name}: input {accounting} does not balance with {written} rows written")
        if any(spec.name == ROWS_ACCOUNTED_FOR for spec in context.assets_def.check_specs):
            check_results.append(
                AssetCheckResult(
                    check_name=ROWS_ACCOUNTED_FOR,
                    passed=balanced,
                    metadata={"input_rows": accounting.input_rows, "rows_written": written, "failed_input_rows": accounting.failed_input_rows, "excluded_input_rows": accounting.excluded_input_rows},
                )
            )
    context.log.info(f"{processor.name} {metadata['partition_range']}: {written} rows, {json.dumps(recorder.counts_by_category())}")
    return MaterializeResult(metadata=metadata, check_results=check_results)


def _runs_per_day(recorder: FailureRecorder, rows: pd.DataFrame, failures: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    processor = recorder.processor
    rows_per_day = rows[processor.table.partition_column].value_counts() if len(rows) else pd.Series(dtype=int)
    failures_per_day = failures["analysis_date"].map(str).value_counts() if len(failures) else pd.Series(dtype=int)
    days = days_in(start, end)
    return pd.DataFrame(
        {
            "processor_name": processor.name,
            "phase": processor.phase.value,
            "analysis_date": days,
            "run_id": recorder.run_id,
            "rows_written": [int(rows_per_day.get(day, 0)) for day in days],
            "failures": [int(failures_per_day.get(day.isoformat(), 0)) for day in days],
            "finished_at": pd.Timestamp.now(tz="UTC"),
        }
    )


def _preview(failures: pd.DataFrame) -> MetadataValue:
    schema = TableSchema(columns=[TableColumn(name, "string") for name in _PREVIEW_COLUMNS])
    records = [
        TableRecord(data={name: str(row[name]) for name in _PREVIEW_COLUMNS})
        for _, row in failures.head(PREVIEW_ROWS).iterrows()
    ]
    return MetadataValue.table(records=records, schema=schema)


def record_missing_days(recorder: FailureRecorder, expected_days: set[dt.date], present_days: set[dt.date], upstream_table: str) -> set[dt.date]:
    """One DATE-level MISSING_DEPENDENCY per day that should have upstream rows and has none."""
    missing = expected_days - present_days
    for day in sorted(missing):
        recorder.record_missing_dependency(day, upstream_table)
    return missing
