"""Smoke test: the BigQuery features the project relies on, against the local emulator (``local-bigquery``),
through the project's own ``BigQueryWarehouse`` on its own tables.

Every write is a load job into a staging table and one MERGE; reads are parameterized (dates, value lists);
the schema uses every column type and repeated columns; the warehouse is a Dagster resource; the robustness
tests restart the emulator and expect the data to survive.

Needs the emulator installed: ``bash .ci/install_bigquery_emulator.sh``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from dagster import asset, materialize

from nba_failures.tables.failures import PREDICTION_FAILURES
from nba_failures.warehouse.base import Warehouse
from nba_failures.warehouse.bigquery_warehouse import BigQueryWarehouse, EndpointBigQueryResource
from nba_failures.warehouse.schema import ColumnType, Mode
from nba_failures_tests.bigquery_emulator import BigQueryEmulator

# A store table with every column type the schema uses, repeated strings and dates, partitioned by a date column
# (prediction_date) that is not the analysis_date of the other two.
TABLE = PREDICTION_FAILURES
D1, D2, D3 = dt.date(2023, 1, 14), dt.date(2023, 1, 15), dt.date(2023, 1, 16)
PREDICTIONS, OTHER_PROCESSOR = "player_points_predictions", "player_points_predictions_shadow"


def _failure_rows(day: dt.date, processor: str, entities: Sequence[str]) -> pd.DataFrame:
    """One row of TABLE per entity with a value in every column, varied by row: the nth row's repeated columns
    hold n values (the first row none) and its nullable columns are null on the first row only."""
    rows = []
    for n, entity in enumerate(entities):
        row = {}
        for column in TABLE.columns:
            if column.mode is Mode.REPEATED:
                dated = column.type is ColumnType.DATE
                row[column.name] = [day - dt.timedelta(days=k + 1) if dated else f"{column.name}-{k}" for k in range(n)]
            elif column.mode is Mode.NULLABLE and n == 0:
                row[column.name] = None
            elif column.type is ColumnType.STRING:
                row[column.name] = f"{column.name}-{entity}"
            else:
                row[column.name] = {
                    ColumnType.INT64: n,
                    ColumnType.FLOAT64: n + 0.25,
                    ColumnType.BOOL: n % 2 == 0,
                    ColumnType.DATE: day,
                    ColumnType.TIMESTAMP: dt.datetime.combine(day, dt.time(12, n), tzinfo=dt.UTC),
                }[column.type]
        rows.append(row)
    frame = pd.DataFrame(rows, columns=TABLE.column_names)
    return frame.assign(
        **{TABLE.partition_column: day, "processor_name": processor, "entity_id": list(entities)},
        failure_key=[f"{processor}|{day}|{entity}" for entity in entities],
    )


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in key order, timestamps in microseconds (BigQuery's precision; pandas compares the raw
    integers of two resolutions, not the instants)."""
    timestamps = [c.name for c in TABLE.columns if c.type is ColumnType.TIMESTAMP and c.name in frame]
    return frame.assign(**{name: frame[name].dt.as_unit("us") for name in timestamps}).sort_values(
        "failure_key", ignore_index=True
    )


def _assert_same_rows(read: pd.DataFrame, written: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(_comparable(read), _comparable(TABLE.conform(written)), check_dtype=False)


def test_a_write_reads_back_every_column_type_as_written(bigquery_warehouse: BigQueryWarehouse) -> None:
    rows = _failure_rows(D1, PREDICTIONS, ["jaysontatum", "lukadoncic", "nikolajokic"])
    assert bigquery_warehouse.replace(TABLE, rows, D1, D2) == 3
    _assert_same_rows(bigquery_warehouse.read(TABLE), rows)
    # The staging table of the load job is gone once the MERGE applied it.
    with bigquery_warehouse.bigquery.get_client() as client:
        assert [table.table_id for table in client.list_tables(f"{bigquery_warehouse.bigquery.project}.{TABLE.dataset}")] == [
            TABLE.name
        ]


def test_a_replace_changes_only_its_slice(bigquery_warehouse: BigQueryWarehouse) -> None:
    first_day = _failure_rows(D1, PREDICTIONS, ["a", "b"])
    other_processor = _failure_rows(D1, OTHER_PROCESSOR, ["a", "c"])
    second_day = _failure_rows(D2, PREDICTIONS, ["a", "b", "d"])
    bigquery_warehouse.replace(TABLE, pd.concat([first_day, other_processor, second_day]), D1, D3)

    # A processor's rerun of a day replaces its rows of that day, and no one else's.
    rerun = _failure_rows(D1, PREDICTIONS, ["b", "e", "f"])
    bigquery_warehouse.replace(TABLE, rerun, D1, D2, where_in={"processor_name": [PREDICTIONS]})
    _assert_same_rows(bigquery_warehouse.read(TABLE), pd.concat([rerun, other_processor, second_day]))

    # The store's in-place update of a slice (read, change, MERGE back).
    bigquery_warehouse.update_slice(
        TABLE, D1, D2, {"processor_name": [OTHER_PROCESSOR]}, lambda rows: rows.assign(occurrences=rows["occurrences"] + 1)
    )
    updated = other_processor.assign(occurrences=other_processor["occurrences"] + 1)
    _assert_same_rows(bigquery_warehouse.read(TABLE, D1, D2, where_in={"processor_name": [OTHER_PROCESSOR]}), updated)

    # A rerun with nothing to write empties its slice.
    bigquery_warehouse.replace(TABLE, second_day.iloc[:0], D2, D3)
    _assert_same_rows(bigquery_warehouse.read(TABLE), pd.concat([rerun, updated]))


def test_tables_are_made_once_and_again_when_dropped_behind_the_warehouses_back(bigquery_warehouse: BigQueryWarehouse) -> None:
    rows = _failure_rows(D1, PREDICTIONS, ["a", "b"])
    bigquery_warehouse.replace(TABLE, rows, D1, D2)
    project = bigquery_warehouse.bigquery.project
    with bigquery_warehouse.bigquery.get_client() as client:
        # Gone behind the warehouse's back: the read finds the table missing and makes it again, empty.
        client.delete_table(f"{project}.{TABLE.dataset}.{TABLE.name}")
        assert bigquery_warehouse.read(TABLE).empty
        # The whole dataset gone: a write makes both again and lands.
        client.delete_dataset(f"{project}.{TABLE.dataset}", delete_contents=True)
        assert bigquery_warehouse.replace(TABLE, rows, D1, D2) == 2
        assert client.get_table(f"{project}.{TABLE.dataset}.{TABLE.name}").time_partitioning.field == TABLE.partition_column
    _assert_same_rows(bigquery_warehouse.read(TABLE), rows)


def test_reads_select_by_date_range_values_and_columns(bigquery_warehouse: BigQueryWarehouse) -> None:
    entities = ["a", "b", "c"]
    rows = pd.concat([_failure_rows(day, PREDICTIONS, entities) for day in (D1, D2, D3)], ignore_index=True)
    bigquery_warehouse.replace(TABLE, rows, D1, D3 + dt.timedelta(days=1))

    columns = ["entity_id", "gap_game_dates", "cache_age_hours"]
    read = bigquery_warehouse.read(
        TABLE, D2, D3 + dt.timedelta(days=1), where_in={"entity_id": ["b", "c"], "processor_name": [PREDICTIONS]}, columns=columns
    )
    assert list(read.columns) == [TABLE.partition_column, *columns]
    wanted = rows[(rows[TABLE.partition_column] >= D2) & rows["entity_id"].isin(["b", "c"])]
    expected = TABLE.subset(columns).conform(wanted)
    pd.testing.assert_frame_equal(
        read.sort_values([TABLE.partition_column, "entity_id"], ignore_index=True),
        expected.sort_values([TABLE.partition_column, "entity_id"], ignore_index=True),
        check_dtype=False,
    )


def test_the_warehouse_serves_a_dagster_asset_as_its_resource(bigquery_warehouse: BigQueryWarehouse) -> None:
    rows = _failure_rows(D1, PREDICTIONS, ["a", "b", "c"])

    @asset
    def failures_probe(warehouse: Warehouse) -> int:
        warehouse.replace(TABLE, rows, D1, D2)
        return len(warehouse.read(TABLE, D1, D2))

    result = materialize([failures_probe], resources={"warehouse": bigquery_warehouse})
    assert result.success and result.output_for_node("failures_probe") == len(rows)
    _assert_same_rows(bigquery_warehouse.read(TABLE), rows)


def test_rows_and_table_layout_outlive_an_emulator_restart() -> None:
    """An emulator of its own, so the session's is not disturbed."""
    with BigQueryEmulator() as emulator:
        warehouse = BigQueryWarehouse(bigquery=EndpointBigQueryResource(project=emulator.project, api_endpoint=emulator.endpoint))
        rows = _failure_rows(D1, PREDICTIONS, ["a", "b", "c"])
        warehouse.replace(TABLE, rows, D1, D2)
        endpoint = emulator.endpoint
        emulator.restart()
        assert emulator.endpoint == endpoint  # the warehouse's configuration still points at it
        _assert_same_rows(warehouse.read(TABLE), rows)
        with warehouse.bigquery.get_client() as client:
            table = client.get_table(f"{emulator.project}.{TABLE.dataset}.{TABLE.name}")
        assert table.time_partitioning.field == TABLE.partition_column
        assert table.clustering_fields == list(TABLE.cluster_columns)
