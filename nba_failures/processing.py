"""What every processor asset does after computing: store rows and failures, and describe both.

pandas is imported where used: loading the code location only defines the assets.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    DagsterInvariantViolationError,
    MaterializeResult,
    MetadataValue,
    Output,
    TableColumn,
    TableColumnConstraints,
    TableRecord,
    TableSchema,
    asset,
)

from nba_failures.failures.recorder import FailureRecorder, ProcessorSpec
from nba_failures.frames import nested_counts
from nba_failures.partitions import daily_partitions, days_in, partition_window
from nba_failures.settings import warehouse_backend, warehouse_pool
from nba_failures.tables.failures import PROCESSOR_FAILURES, PROCESSOR_RUNS
from nba_failures.warehouse.base import Warehouse, in_warehouse_session
from nba_failures.warehouse.schema import Mode, TableSpec

if TYPE_CHECKING:
    import pandas as pd

PREVIEW_ROWS = 20
ROWS_ACCOUNTED_FOR = "rows_accounted_for"
# What a processor asset yields: its result, then each day partition's check evaluations.
AssetEvents = Iterator[MaterializeResult | Output | AssetCheckEvaluation]


def partitioned_check(name: str, asset_name: str, description: str) -> AssetCheckSpec:
    """A check evaluated per day partition, so each day shows its own result (see `partition_check_evaluations`)."""
    return AssetCheckSpec(name, asset=asset_name, description=description, partitions_def=daily_partitions)


def rows_accounted_for_check(asset_name: str) -> AssetCheckSpec:
    """Declared by processors whose input rows must each end as an output row or a failure row."""
    description = "input rows = rows written + failed rows + rows excluded by definition"
    return partitioned_check(ROWS_ACCOUNTED_FOR, asset_name, description)


def column_schema(table: TableSpec) -> TableSchema:
    """The table's columns as Dagster shows them (`dagster/column_schema`), from the one TableSpec."""
    columns = [
        TableColumn(column.name, column.duckdb_type, column.description,
                    TableColumnConstraints(nullable=column.mode is not Mode.REQUIRED))
        for column in table.columns
    ]  # fmt: skip
    return TableSchema(columns=columns)


def processor_asset(
    processor: ProcessorSpec, *, group: str, description: str, deps: Sequence = (), extra_kinds: Sequence[str] = ()
) -> Callable[[Callable[..., AssetEvents]], AssetsDefinition]:
    """The asset of one processor, wired the same for all: daily partitions run as one range, the warehouse
    session and pool, kinds of the configured backend, its table's column schema, and the `rows_accounted_for`
    check (its body's `publish` evaluates it for each day). The body reads, calls pure logic and publishes."""

    def decorate(compute: Callable[..., AssetEvents]) -> AssetsDefinition:
        return asset(
            name=processor.name,
            partitions_def=daily_partitions,
            backfill_policy=BackfillPolicy.single_run(),
            group_name=group,
            kinds={warehouse_backend(), *extra_kinds},
            pool=warehouse_pool(),
            deps=deps,
            check_specs=[rows_accounted_for_check(processor.name)],
            metadata={
                "dagster/column_schema": column_schema(processor.table),
                "dagster/table_name": processor.table.qualified_name,
            },
            description=description,
        )(in_warehouse_session(compute))

    return decorate


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
    accounting: RowAccounting,
    extra_metadata: dict[str, object] | None = None,
    window_totals: dict[str, object] | None = None,
) -> AssetEvents:
    """Replace the processor's rows and failures for `[start, end)`, then report them day by day.

    Failures go to the warehouse per analysis date. In a range run Dagster copies the result's metadata to
    every partition of the range, so each day's own numbers are attached to that day's materialization and
    the run's totals are labelled as the range's (`window_metadata`). `extra_metadata` describes the
    processor (not a count); `window_totals` are measured over the run's window.
    """
    processor = recorder.processor
    failures = recorder.frame()
    scope = {"processor_name": [processor.name]}
    runs = _runs_per_day(recorder, rows, failures, start, end)
    # Rows, failures and runs together: a failure left from an interrupted write never outlives its fix.
    with warehouse.transaction():
        written = warehouse.replace(processor.table, rows, start, end)
        warehouse.replace(PROCESSOR_FAILURES, failures, start, end, where_in=scope)
        warehouse.replace(PROCESSOR_RUNS, runs, start, end, where_in=scope)
    categories_by_day = nested_counts(failures, ["analysis_date", "failure_category"])
    previews_by_day = _previews_by_day(failures)
    metadata_by_day = {
        day: {
            "dagster/row_count": int(rows_of_day),
            "rows_written": int(rows_of_day),
            "failures": int(failures_of_day),
            "failures_by_category": MetadataValue.json(categories_by_day.get(day, {})),
            "failures_preview": _preview(previews_by_day.get(day, [])),
        }
        for day, rows_of_day, failures_of_day in zip(runs["analysis_date"], runs["rows_written"], runs["failures"])
    }
    add_metadata_by_day(context, metadata_by_day)
    by_category = MetadataValue.json(recorder.counts_by_category())
    totals: dict[str, object] = {"rows_written": written, "failures": len(recorder), "failures_by_category": by_category}
    balanced = accounting.input_rows == written + accounting.failed_input_rows + accounting.excluded_input_rows
    counted = {
        "input_rows": accounting.input_rows,
        "rows_written": written,
        "failed_input_rows": accounting.failed_input_rows,
        "excluded_input_rows": accounting.excluded_input_rows,
    }
    totals |= {**counted, "rows_accounted_for": balanced}
    if not balanced:
        context.log.error(f"{processor.name}: input {accounting} does not balance with {written} rows written")
    # Processors count input rows per run, not per day: each day's entry carries the run's balance, labelled as such.
    balance = AssetCheckResult(check_name=ROWS_ACCOUNTED_FOR, passed=balanced, metadata=window_metadata(start, end, counted))
    metadata = {
        "table": processor.table.qualified_name,
        "entity_type": processor.entity_type.value,
        **window_metadata(start, end, {**totals, **(window_totals or {})}),
        **(extra_metadata or {}),
    }
    context.log.info(
        f"{processor.name} {metadata['partition_range']}: {written} rows, {json.dumps(recorder.counts_by_category())}"
    )
    yield MaterializeResult(metadata=metadata)
    yield from partition_check_evaluations(context, {day: [balance] for day in runs["analysis_date"]})


def window_metadata(start: dt.date, end: dt.date, totals: Mapping[str, object]) -> dict[str, object]:
    """Numbers measured over a run's window `[start, end)`, as they should read on each of its partitions.

    For one day they are that day's own numbers. For a range they are copied to every day of it, so they are
    named `range_…` and say which range.
    """
    last = end - dt.timedelta(days=1)
    if last == start:
        return {"partition_range": f"{start.isoformat()}..{last.isoformat()}", **totals}
    labelled = {f"range_{name}": value for name, value in totals.items()}
    return {"partition_range": f"{start.isoformat()}..{last.isoformat()}", **labelled}


def add_metadata_by_day(context: AssetExecutionContext, metadata_by_day: Mapping[dt.date, Mapping[str, object]]) -> None:
    """Each day's own metadata on that day's materialization: `context.add_asset_metadata(metadata, partition_key=day)`
    for every day, without its cost.

    Dagster's add_asset_metadata lists the run's partition keys anew on each call to check the one it is given. With
    the off-season excluded, a listing walks every day of the range, so a range run of n days paid n² steps: 3.5 ms a
    call for three seasons, a third of a ten-season backfill. Here the days are checked once, against one listing,
    and each day's metadata is added to the step's metadata as add_asset_metadata adds it (the step context keeps it
    in a private accumulator: a Dagster that moves it fails this call, and the tests of each day's metadata, loudly).
    """
    targeted = set(context.partition_keys)
    outside = sorted(day.isoformat() for day in metadata_by_day if day.isoformat() not in targeted)
    if outside:
        raise DagsterInvariantViolationError(f"{context.asset_key.to_user_string()}: metadata for untargeted days {outside}")
    step = context.get_step_execution_context()
    accumulator = step._metadata_accumulator  # noqa: SLF001 - see above
    for day, metadata in metadata_by_day.items():
        accumulator = accumulator.with_additional_asset_metadata(context.asset_key, day.isoformat(), metadata)
    step._metadata_accumulator = accumulator  # noqa: SLF001


def partition_check_evaluations(
    context: AssetExecutionContext, results_by_day: Mapping[dt.date, Sequence[AssetCheckResult]]
) -> Iterator[Output | AssetCheckEvaluation]:
    """Each day's check results as that day partition's own evaluations, aimed at the day's materialization.

    An AssetCheckResult of a range run is recorded once, for no partition, and every partition's planned
    evaluation ends SKIPPED. Yielded after the asset's MaterializeResult, when Dagster has stored the day's
    materialization: an evaluation aimed at an older one would show as not covering the latest data.
    """
    # Here, not at load: the instance's storage module brings SQLAlchemy, which loading the code location does not need.
    from nba_failures.instance import latest_materializations

    assets_def = context.assets_def
    selected = context.selected_asset_check_keys
    latest = latest_materializations(context.instance, assets_def.key, [day.isoformat() for day in results_by_day])
    targets = {partition: target for partition, target in latest.items() if target.run_id == context.run.run_id}
    checks = {spec.name: spec for spec in assets_def.check_specs if spec.key in selected}
    reported = {result.check_name for results in results_by_day.values() for result in results} & set(checks)
    for name in sorted(reported):
        # The check's step output, which a downstream step may wait on; the evaluations follow.
        yield Output(None, output_name=assets_def.get_output_name_for_asset_check_key(checks[name].key))
    for day, results in results_by_day.items():
        for result in results:
            if result.check_name not in reported:
                continue
            yield AssetCheckEvaluation(
                asset_key=assets_def.key,
                check_name=result.check_name,
                passed=result.passed,
                metadata=result.metadata,
                severity=result.severity,
                description=result.description,
                blocking=checks[result.check_name].blocking,
                partition=day.isoformat(),
                target_materialization_data=targets.get(day.isoformat()),
            )


def _runs_per_day(
    recorder: FailureRecorder, rows: pd.DataFrame, failures: pd.DataFrame, start: dt.date, end: dt.date
) -> pd.DataFrame:
    import pandas as pd

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


def _previews_by_day(failures: pd.DataFrame) -> dict[dt.date, list[dict[str, str]]]:
    """The first `PREVIEW_ROWS` failures of each analysis date, their preview columns as text."""
    import pandas as pd

    if failures.empty:
        return {}
    first = failures.groupby("analysis_date", sort=False).head(PREVIEW_ROWS)
    texts = pd.DataFrame({name: first[name].map(str) for name in _PREVIEW_COLUMNS})
    previews: dict[dt.date, list[dict[str, str]]] = {}
    for day, record in zip(first["analysis_date"], texts.to_dict("records")):
        previews.setdefault(day, []).append(record)
    return previews


def _preview(records: Sequence[dict[str, str]]) -> MetadataValue:
    schema = TableSchema(columns=[TableColumn(name, "string") for name in _PREVIEW_COLUMNS])
    return MetadataValue.table(records=[TableRecord(data=record) for record in records], schema=schema)


def record_missing_days(
    recorder: FailureRecorder, expected_days: set[dt.date], present_days: set[dt.date], upstream_table: str
) -> set[dt.date]:
    """One DATE-level MISSING_DEPENDENCY per day that should have upstream rows and has none."""
    missing = expected_days - present_days
    for day in sorted(missing):
        recorder.record_missing_dependency(day, upstream_table)
    return missing
