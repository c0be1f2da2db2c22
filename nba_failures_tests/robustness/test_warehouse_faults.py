"""Warehouse faults: BigQuery (the emulator) stopping in the middle of a failure-store write, and DuckDB's
single-writer lock under concurrent runs."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from pathlib import Path

import pandas as pd
import pytest
from google.api_core import exceptions as api_exceptions
from google.cloud import bigquery

from nba_failures.tables.failures import ANALYTICS_FAILURES, PROCESSOR_FAILURES, PROCESSOR_RUNS
from nba_failures.warehouse.bigquery_warehouse import BigQueryWarehouse, staging_prefix
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests import faults
from nba_failures_tests.harness import run_assets

DAY = dt.date(2023, 1, 15)
OTHER_DAY = dt.date(2023, 1, 16)
GAME = "202301150BRK"
UNREGISTERED = "joshgiddey"  # ACTIVE for OKC: removed from the registry -> REGISTRY_LOOKUP_FAILED
BAD_ROW = "luguentzdort"  # ACTIVE for OKC: minutes 'DNP' -> PROCESSING_ERROR (only in the second delivery)
STORE_SELECTION = ["nbac_schedule", "nbac_gamebook_player_stats", "player_registry", "player_game_summary", "classified_failures"]
# The second delivery changes one game file: what a run for it recomputes.
REDELIVERY_SELECTION = ["nbac_gamebook_player_stats", "player_game_summary", "classified_failures"]


def _store(warehouse) -> pd.DataFrame:
    return warehouse.read(ANALYTICS_FAILURES, DAY, DAY + dt.timedelta(days=1)).sort_values("failure_key").reset_index(drop=True)


def _staging_tables(warehouse: BigQueryWarehouse) -> list[str]:
    """Every staging table left in the warehouse's project."""
    with warehouse.bigquery.get_client() as client:
        listed = (table for dataset in client.list_datasets() for table in client.list_tables(dataset.reference))
        return sorted(table.table_id for table in listed if table.table_id.startswith("_staging_"))


def _step_errors(result) -> list[str]:
    """Each failed step's error with its causes, as the run's event log shows them."""
    texts = []
    for event in result.all_events:
        if event.is_step_failure:
            error, chain = event.event_specific_data.error, []
            while error is not None:
                chain.append(error.to_string())
                error = error.cause
            texts.append("\n".join(chain))
    return texts


@pytest.mark.slow(seconds=50)
@pytest.mark.timeout(240)  # an unbounded client retry would hang here for 10 minutes
def test_bigquery_stopped_mid_failure_store_write(
    bigquery_emulator, bigquery_warehouse, season_landing: Path, tmp_path: Path, monkeypatch
) -> None:
    warehouse = BigQueryWarehouse(bigquery=bigquery_warehouse.bigquery, retry_deadline_seconds=2.0)
    landing = faults.copy_landing_day(season_landing, tmp_path / "landing", DAY)
    faults.remove_from_registry(landing, UNREGISTERED)
    assert run_assets(warehouse, landing, DAY, selection=STORE_SELECTION).success
    before = _store(warehouse)
    assert set(before["entity_id"]) == {UNREGISTERED}

    # A second delivery adds a failure; the emulator stops after the store's staging load, before its MERGE.
    faults.set_player_value(landing, DAY, GAME, BAD_ROW, "minutes", "DNP")
    stopped = faults.stop_emulator_after_staging_load(monkeypatch, bigquery_emulator, ANALYTICS_FAILURES.name)
    try:
        # Bounded by the client's retry deadline: an unbounded retry would hit this test's timeout instead.
        result = run_assets(warehouse, landing, DAY, selection=REDELIVERY_SELECTION, raise_on_error=False)
    finally:
        monkeypatch.undo()
        bigquery_emulator.restart()
    assert stopped, "the store write never reached its staging load"
    assert not result.success
    [error] = _step_errors(result)
    assert "WarehouseUnavailable" in error and f"replace of {ANALYTICS_FAILURES.qualified_name}" in error, error

    # Old content, whole: the MERGE that would have changed the target never ran. Its staging table could not
    # be dropped while the service was down.
    pd.testing.assert_frame_equal(_store(warehouse), before)
    assert [name for name in _staging_tables(warehouse) if name.startswith(f"_staging_{ANALYTICS_FAILURES.name}_")], (
        "no leftover to clean"
    )

    # After the restart, re-executing the failed step writes everything once.
    assert run_assets(warehouse, landing, DAY, selection=["classified_failures"]).success
    after = _store(warehouse)
    assert after["failure_key"].is_unique
    assert sorted(after["entity_id"]) == sorted([UNREGISTERED, BAD_ROW])
    kept = after.set_index("failure_key").loc[before["failure_key"]]
    assert kept["occurrences"].tolist() == [2]  # the old failure updated in place, not inserted again
    processor_failures = warehouse.read(PROCESSOR_FAILURES, DAY, DAY + dt.timedelta(days=1))
    assert processor_failures["failure_key"].is_unique
    assert _staging_tables(warehouse) == [], "the repairing rerun drops the interrupted write's staging table"


def test_bigquery_staging_tables_are_dropped_after_success_failure_and_by_the_next_write_of_their_slice(
    bigquery_warehouse, monkeypatch
) -> None:
    day_slice, other_slice = (DAY, DAY + dt.timedelta(days=1)), (OTHER_DAY, OTHER_DAY + dt.timedelta(days=1))
    assert bigquery_warehouse.replace(PROCESSOR_RUNS, faults.run_record(DAY), *day_slice) == 1
    assert _staging_tables(bigquery_warehouse) == []

    # A MERGE the service refuses (a request error, raised as is): the staging table is dropped all the same.
    original_query = bigquery.Client.query

    def refuse_merge(self, sql, *args, **kwargs):
        if sql.startswith("MERGE"):
            raise api_exceptions.BadRequest("MERGE refused")
        return original_query(self, sql, *args, **kwargs)

    monkeypatch.setattr(bigquery.Client, "query", refuse_merge)
    with pytest.raises(api_exceptions.BadRequest):
        bigquery_warehouse.replace(PROCESSOR_RUNS, faults.run_record(DAY), *day_slice)
    monkeypatch.undo()
    assert _staging_tables(bigquery_warehouse) == []

    # Leftovers of interrupted writes (a process killed between load and drop): the next write of a slice drops
    # its own, never another slice's (its write may still be running).
    with bigquery_warehouse.bigquery.get_client() as client:
        for start, end in (day_slice, other_slice):
            table_id = (
                f"{bigquery_warehouse.bigquery.project}.{PROCESSOR_RUNS.dataset}."
                f"{staging_prefix(PROCESSOR_RUNS, start, end, None)}interrupted"
            )
            client.create_table(bigquery.Table(table_id, schema=PROCESSOR_RUNS.bigquery_schema()))
    assert len(_staging_tables(bigquery_warehouse)) == 2
    bigquery_warehouse.replace(PROCESSOR_RUNS, faults.run_record(DAY), *day_slice)
    assert _staging_tables(bigquery_warehouse) == [f"{staging_prefix(PROCESSOR_RUNS, *other_slice, None)}interrupted"]
    assert len(bigquery_warehouse.read(PROCESSOR_RUNS, *day_slice)) == 1


def test_duckdb_lock_is_waited_for(tmp_path: Path) -> None:
    """DuckDB 2.x refuses a second process with `IOException: Could not set lock on file …`: the warehouse
    retries with backoff until the holder lets go, instead of failing."""
    path = tmp_path / "locked.duckdb"
    context = multiprocessing.get_context("spawn")
    ready, releasing = context.Event(), context.Event()
    holder = context.Process(target=faults.hold_duckdb_lock, args=(str(path), 2.0, ready, releasing))
    holder.start()
    try:
        assert ready.wait(60)
        written = DuckDBWarehouse(path=str(path)).replace(PROCESSOR_RUNS, faults.run_record(DAY), DAY, DAY + dt.timedelta(days=1))
        waited_for_the_holder = releasing.is_set()
    finally:
        holder.join(30)
    assert waited_for_the_holder, "the write did not have to wait for the lock: the test proves nothing"
    assert written == 1
    assert len(faults.read_table(path, PROCESSOR_RUNS.qualified_name)) == 1


@pytest.mark.slow(seconds=50)
def test_two_runs_at_once_into_one_duckdb_file(season_landing: Path, tmp_path: Path) -> None:
    """Two processes materialize different days into the same file while a third holds the lock at the start:
    both runs succeed and every row of both days is there."""
    path = str(tmp_path / "shared.duckdb")
    context = multiprocessing.get_context("spawn")
    ready, releasing = context.Event(), context.Event()  # both kept alive until the holder has them
    holder = context.Process(target=faults.hold_duckdb_lock, args=(path, 1.5, ready, releasing))
    holder.start()
    assert ready.wait(60)
    results = context.Queue()
    writers = [
        context.Process(
            target=faults.materialize_into_duckdb,
            args=(results, path, str(season_landing), day, faults.FOUNDATION_ASSETS[:4]),
        )
        for day in (DAY, OTHER_DAY)
    ]
    for writer in writers:
        writer.start()
    outcomes = dict(results.get(timeout=600) for _ in writers)
    # Each writer has reported its run: one still alive is only not exiting. A pool's terminate waited on such a
    # worker until the test timed out (in CI, once); this waits a while, then kills it.
    for writer in writers:
        writer.join(60)
        if writer.is_alive():
            writer.kill()
    holder.join(30)
    assert outcomes == {DAY: (True, ""), OTHER_DAY: (True, "")}

    raw = faults.read_table(path, "nba_raw.nbac_gamebook_player_stats")
    summary = faults.read_table(path, "nba_analytics.player_game_summary")
    for day in (DAY, OTHER_DAY):
        box = faults.boxscores(day)
        assert (raw["landing_date"] == pd.Timestamp(day)).sum() == len(box)
        assert (summary["game_date"] == pd.Timestamp(day)).sum() == len(faults.active(box))
    runs = faults.read_table(path, "nba_processing.processor_runs")
    assert sorted(runs.groupby("analysis_date").size().tolist()) == [4, 4]
