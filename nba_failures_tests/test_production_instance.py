"""The production instance (deploy/dagster.yaml) on a real PostgreSQL server, with the daemon running.

A UI-style backfill (the GraphQL mutation the UI sends), the automation runs for files that land again,
and a CLI backfill all overlap on one embedded DuckDB warehouse. None may fail, no two warehouse
steps of different runs may overlap in time (DuckDB takes one writer), and the tables must end as the
serial run left them: these runs reprocess days whose data has not changed.
"""

import datetime as dt
import itertools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from dagster import AssetKey, AssetRecordsFilter, DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster_graphql.test.utils import execute_dagster_graphql

from nba_failures.definitions import defs
from nba_failures.resources import DashboardOutput
from nba_failures.settings import PROJECT_DIR
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests import faults
from nba_failures_tests.daemon import DagsterDaemon
from nba_failures_tests.dashboard.store_data import STORE_TABLES, STORED_COLUMNS
from nba_failures_tests.harness import copy_landing, run_assets
from nba_failures_tests.postgres_server import PostgresServer

SERIAL_FIRST, SERIAL_LAST = dt.date(2023, 1, 2), dt.date(2023, 1, 14)
BACKFILL_FIRST, BACKFILL_LAST = dt.date(2023, 1, 9), dt.date(2023, 1, 12)
CLI_FIRST, CLI_LAST = dt.date(2023, 1, 10), dt.date(2023, 1, 13)
ARRIVAL_DAYS = (dt.date(2023, 1, 11), dt.date(2023, 1, 13))
INTERVAL_SECONDS = 3
# What says which run wrote a row and when (a cache's age is measured at prediction time); every other column
# must equal the serial run's.
RUN_SPECIFIC_COLUMNS = ("run_id", "finished_at", "predicted_at", "features_created_at", "cache_age_hours")

LAUNCH_BACKFILL = """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""
_STEP_EVENTS = (DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE)


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    """Every table, without what differs from run to run: run ids, timestamps, and the failure store's lifecycle
    (occurrences, retry state) which counts classification runs and sensor ticks. The store keeps each failure
    and its classification."""
    tables = faults.snapshot(path, exclude=RUN_SPECIFIC_COLUMNS)
    for name in STORE_TABLES:
        tables[name] = tables[name][STORED_COLUMNS].sort_values("failure_key", ignore_index=True)
    return tables


def _warehouse_step_intervals(instance: DagsterInstance, run_ids: list[str]) -> list[tuple[float, float, str, str]]:
    """(start, end, run, step) of every step: all of ours open the warehouse."""
    intervals = []
    for run_id in run_ids:
        started: dict[str, float] = {}
        for record in instance.get_records_for_run(run_id, of_type=set(_STEP_EVENTS), limit=10_000).records:
            entry = record.event_log_entry
            if entry.dagster_event_type == DagsterEventType.STEP_START:
                started[entry.step_key] = entry.timestamp
            else:
                intervals.append((started.pop(entry.step_key), entry.timestamp, run_id, entry.step_key))
        assert not started, f"run {run_id}: steps never finished: {started}"
    return sorted(intervals)


def _automation_days(runs) -> set[str]:
    """The days the automation runs materialized (a run of several days is a range)."""
    days = set()
    for run in runs:
        if run.tags.get("nba_failures/trigger") != "automation":
            continue
        if "dagster/partition" in run.tags:
            days.add(run.tags["dagster/partition"])
        else:
            first, last = (dt.date.fromisoformat(run.tags[f"dagster/asset_partition_range_{end}"]) for end in ("start", "end"))
            days |= set(_days(first, last))
    return days


def _classified_since(instance: DagsterInstance, day: dt.date, since: float) -> bool:
    """Whether a run classified `day`'s failures after `since` (a timestamp)."""
    classified = AssetKey("classified_failures")
    of_day = AssetRecordsFilter(asset_key=classified, asset_partitions=[day.isoformat()], after_timestamp=since)
    return bool(instance.fetch_materializations(of_day, limit=1).records)


@pytest.mark.slow(seconds=330)
def test_overlapping_ui_sensor_and_cli_runs_on_the_production_instance(tmp_path: Path, season_landing: Path, monkeypatch) -> None:
    landing = copy_landing(season_landing, tmp_path / "landing")
    warehouse_path = tmp_path / "warehouse.duckdb"
    # The serial run: every day the overlapping runs touch, with the history they read, in one run.
    dashboard = DashboardOutput(path=str(tmp_path / "dashboard.html"))
    serial_run = run_assets(
        DuckDBWarehouse(path=str(warehouse_path)), landing, SERIAL_FIRST, SERIAL_LAST, resources={"dashboard": dashboard}
    )
    assert serial_run.success
    serial = _tables(warehouse_path)

    with PostgresServer() as postgres:
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(PROJECT_DIR / "deploy" / "dagster.yaml", home / "dagster.yaml")
        env = {
            **postgres.instance_env(postgres.create_database("dagster")),
            "DAGSTER_HOME": str(home),
            "NBA_FAILURES_LANDING_DIR": str(landing),
            "NBA_FAILURES_DUCKDB_PATH": str(warehouse_path),
            "NBA_FAILURES_DASHBOARD_PATH": str(tmp_path / "dashboard.html"),
            "NBA_FAILURES_SENSOR_INTERVAL_SECONDS": str(INTERVAL_SECONDS),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        instance = DagsterInstance.get()
        with DagsterDaemon(home, env, tmp_path / "daemon.log") as daemon:
            daemon.wait_for(
                lambda: "days with landed game files" in daemon.log_tail(400), timeout=240, interval=1, what="first sensor tick"
            )

            # 1. What the UI sends for "Materialize all" over a range: an asset backfill, run by the daemon.
            with WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(PROJECT_DIR / "workspace.yaml")])) as workspace:
                # What "Materialize all" selects: the materializable assets (the landed files are observed).
                materializable = sorted(defs.resolve_asset_graph().materializable_asset_keys)
                params = {
                    "partitionNames": _days(BACKFILL_FIRST, BACKFILL_LAST),
                    "assetSelection": [{"path": [key.to_user_string()]} for key in materializable],
                    "fromFailure": False,
                }
                launched = execute_dagster_graphql(workspace.create_request_context(), LAUNCH_BACKFILL, {"params": params})
            assert not launched.errors, launched.errors
            result = launched.data["launchPartitionBackfill"]
            assert result["__typename"] == "LaunchBackfillSuccess", result

            # The CLI submits its run while the backfill's is in flight, however fast either runs.
            def backfill_run_in_flight() -> bool:
                runs = instance.get_runs(RunsFilter(tags={"dagster/backfill": result["backfillId"]}))
                return any(not run.is_finished for run in runs)

            daemon.wait_for(backfill_run_in_flight, timeout=240, interval=0.5, what="the UI backfill's run in flight")
            # 2. Game files of two days land again: their new data versions make the automation run those days, unless
            # another run (the UI backfill covers one of them) processes them after they landed.
            landed_again = time.time()
            for day in ARRIVAL_DAYS:
                for path in (landing / "gamebook" / day.isoformat()).iterdir():
                    path.touch()
            # 3. A CLI backfill, in its own process: it runs in process, never through the queue.
            cli = [
                str(Path(sys.executable).with_name("nba-failures")),
                "backfill",
                "--start",
                CLI_FIRST.isoformat(),
                "--end",
                CLI_LAST.isoformat(),
            ]
            backfill_cli = subprocess.Popen(
                cli, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            cli_output, _ = backfill_cli.communicate(timeout=900)
            assert backfill_cli.returncode == 0, cli_output[-3000:]

            def settled() -> bool:
                backfill = instance.get_backfill(result["backfillId"])
                runs_so_far = instance.get_runs()
                in_flight = [run for run in runs_so_far if not run.is_finished]
                reprocessed = all(_classified_since(instance, day, landed_again) for day in ARRIVAL_DAYS)
                return backfill.status != BulkActionStatus.REQUESTED and reprocessed and not in_flight

            daemon.wait_for(settled, timeout=900, interval=5, what="backfill, automation runs and the CLI run finished")
            # Sensors may still react to what those runs stored: quiet for a few ticks before judging.
            daemon.wait_until_quiet(instance, INTERVAL_SECONDS)

        runs = instance.get_runs()
        assert instance.get_backfill(result["backfillId"]).status == BulkActionStatus.COMPLETED_SUCCESS
        assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}, [(run.run_id, run.status, run.tags) for run in runs]
        # Automation runs only days something changed: files landed again, or the overlapping runs rewrote a day's
        # upstream after a run of the other had already computed its downstream (their steps take turns on the file).
        changed_days = {day.isoformat() for day in ARRIVAL_DAYS} | set(_days(BACKFILL_FIRST, CLI_LAST))
        assert _automation_days(runs) <= changed_days, "only days whose files or upstream rows changed"
        assert all(_classified_since(instance, day, landed_again) for day in ARRIVAL_DAYS)
        assert any(run.tags.get("dagster/backfill") == result["backfillId"] for run in runs)

        # Runs were submitted while others were in flight (the queue and the pools may then start them one after
        # another), and their warehouse steps took turns: never two runs' steps at once.
        records = {run.run_id: instance.get_run_record_by_id(run.run_id) for run in runs}
        spans = sorted((record.create_timestamp.timestamp(), record.end_time) for record in records.values())
        assert any(later_created < earlier_end for (_, earlier_end), (later_created, _) in itertools.pairwise(spans)), spans
        steps = _warehouse_step_intervals(instance, list(records))
        for start, end, run_id, step in steps:
            for other_start, other_end, other_run_id, other_step in steps:
                overlapping = other_start < end and start < other_end
                assert other_run_id == run_id or not overlapping, f"{run_id}:{step} and {other_run_id}:{other_step} ran at once"
        instance.dispose()

    # Every day was rewritten by the overlapping runs, and the tables are the serial run's.
    processor_runs = faults.read_table(warehouse_path, "nba_processing.processor_runs")
    rewritten = processor_runs[processor_runs["analysis_date"].map(str).isin(_days(BACKFILL_FIRST, CLI_LAST))]
    assert serial_run.run_id not in set(rewritten["run_id"])
    overlapped = _tables(warehouse_path)
    assert set(overlapped) == set(serial)
    for name in sorted(serial):
        pd.testing.assert_frame_equal(overlapped[name], serial[name], obj=name)
