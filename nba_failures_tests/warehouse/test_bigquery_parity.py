"""The BigQuery path end to end on a local emulator: same assets, same rows as on DuckDB."""

import datetime as dt

import pandas as pd
import pytest

from nba_failures.failures.store import FAILURE_STORES
from nba_failures.tables.analytics import PLAYER_GAME_SUMMARY
from nba_failures_tests.harness import run_assets

FIRST, LAST = dt.date(2023, 1, 13), dt.date(2023, 1, 14)
# What differs by run or clock, not by content.
VOLATILE = {"run_id", "dagster_run_id", "created_at", "first_seen_at", "last_seen_at", "resolved_at", "last_retry_at"}


def content(warehouse, table) -> pd.DataFrame:
    frame = warehouse.read(table)
    keep = [c for c in table.column_names if c not in VOLATILE]
    key = "failure_key" if "failure_key" in keep else keep
    frame = frame.loc[:, keep].sort_values(key, ignore_index=True)
    for column in keep:
        if frame[column].map(lambda v: isinstance(v, list)).any():
            frame[column] = frame[column].map(tuple)
    return frame


@pytest.mark.slow(seconds=155)
def test_the_same_partitions_give_the_same_failure_rows_on_bigquery_and_duckdb(warehouse, bigquery_warehouse, season_landing):
    assert run_assets(warehouse, season_landing, FIRST, LAST).success
    assert run_assets(bigquery_warehouse, season_landing, FIRST, LAST).success

    for table in (PLAYER_GAME_SUMMARY, *(store.table for store in FAILURE_STORES)):
        duck, bq = content(warehouse, table), content(bigquery_warehouse, table)
        pd.testing.assert_frame_equal(duck, bq, check_dtype=False, obj=table.qualified_name)
    # A read of a few columns (the completeness evidence reads this way) is the same on both.
    columns = ["player_lookup", "game_id", "team_abbr"]
    duck, bq = (
        w.read(PLAYER_GAME_SUMMARY, FIRST, LAST, columns=columns).sort_values(["game_id", "player_lookup"], ignore_index=True)
        for w in (warehouse, bigquery_warehouse)
    )
    assert list(bq.columns) == ["game_date", *columns] and len(bq) > 100
    pd.testing.assert_frame_equal(duck, bq, check_dtype=False)
    stored = content(bigquery_warehouse, FAILURE_STORES[0].table)
    assert len(stored) > 0 and stored["failure_key"].is_unique

    # A rerun of the classification on BigQuery updates the store in place: one row per key, seen twice.
    assert run_assets(bigquery_warehouse, season_landing, FIRST, LAST, selection="classified_failures").success
    rerun = bigquery_warehouse.read(FAILURE_STORES[0].table)
    assert len(rerun) == len(stored) and rerun["failure_key"].is_unique
    assert set(rerun["occurrences"]) == {2}


def test_bigquery_tables_are_partitioned_and_clustered_as_specified(bigquery_warehouse):
    tables = [store.table for store in FAILURE_STORES]
    bigquery_warehouse.ensure_tables(tables)
    with bigquery_warehouse.bigquery.get_client() as client:
        for table in tables:
            remote = client.get_table(f"{bigquery_warehouse.bigquery.project}.{table.dataset}.{table.name}")
            assert remote.time_partitioning.field == table.partition_column
            assert remote.clustering_fields == list(table.cluster_columns)
            assert [field.name for field in remote.schema] == table.column_names
            modes = {field.name: field.mode for field in remote.schema}
            assert modes["missing_game_ids"] == "REPEATED" and modes["failure_key"] == "REQUIRED"
