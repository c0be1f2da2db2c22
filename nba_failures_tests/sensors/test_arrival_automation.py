"""A day's game files landing while a real Dagster daemon runs: that day's partition of every daily asset is
materialized by the automation conditions, its failures classified into the store, and nothing else reruns."""

import datetime as dt
import shutil
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from nba_failures.failures.store import read_failures
from nba_failures.sensors.runs import AUTOMATION_TRIGGER, TRIGGER_TAG
from nba_failures.tables.failures import PROCESSOR_FAILURES
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests.daemon import DagsterDaemon, cli_backfill, daily_asset_keys, materialized_days

FIRST, LAST = dt.date(2023, 1, 9), dt.date(2023, 1, 11)
NEW_DAY = LAST + dt.timedelta(days=1)
INTERVAL_SECONDS = 3


@pytest.mark.slow(seconds=50)
def test_a_landed_day_is_materialized_through_every_asset_by_automation(landing: Path, tmp_path: Path):
    held = shutil.move(landing / "gamebook" / NEW_DAY.isoformat(), tmp_path / "held")
    home = tmp_path / "dagster_home"
    env = {
        "NBA_FAILURES_LANDING_DIR": str(landing),
        "NBA_FAILURES_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "DAGSTER_HOME": str(home),
        "NBA_FAILURES_SENSOR_INTERVAL_SECONDS": str(INTERVAL_SECONDS),
    }
    home.mkdir()
    cli_backfill(env, FIRST, LAST)
    assets = daily_asset_keys()
    with DagsterInstance.from_config(str(home)) as instance:
        before = materialized_days(instance, assets, [FIRST, LAST, NEW_DAY])
        assert all(days == {FIRST.isoformat(), LAST.isoformat()} for days in before.values())

        with DagsterDaemon(home, env, tmp_path / "daemon.log") as daemon:
            daemon.wait_for(lambda: "baseline of" in daemon.log_tail(400), timeout=180, interval=1, what="landed files baseline")
            shutil.move(held, landing / "gamebook" / NEW_DAY.isoformat())  # the day's files land

            def new_day_done() -> bool:
                done = materialized_days(instance, assets, [NEW_DAY])
                return all(done.values())

            daemon.wait_for(new_day_done, timeout=420, interval=3, what=f"every asset of {NEW_DAY} materialized")
            # A run's last materialization is stored before its step and the run end: stopping the daemon then
            # would cut the run short (it is in the daemon's process group).
            daemon.wait_until_quiet(instance, INTERVAL_SECONDS)

        automation_runs = instance.get_runs(RunsFilter(tags={TRIGGER_TAG: AUTOMATION_TRIGGER}))
        assert automation_runs and all(run.status == DagsterRunStatus.SUCCESS for run in automation_runs)
        assert {run.tags.get("dagster/partition") for run in automation_runs} == {NEW_DAY.isoformat()}, "only the day that landed"
        assert not instance.get_runs(RunsFilter(tags={TRIGGER_TAG: "arrival"}))
        after = materialized_days(instance, assets, [FIRST])
        assert all(days == {FIRST.isoformat()} for days in after.values())

    warehouse = DuckDBWarehouse(path=env["NBA_FAILURES_DUCKDB_PATH"])
    recorded = warehouse.read(PROCESSOR_FAILURES, NEW_DAY, NEW_DAY + dt.timedelta(days=1))
    store = read_failures(warehouse)
    stored = store[store["analysis_date"] == NEW_DAY]
    assert len(recorded), "the day's processors ran and recorded failures"
    assert set(stored["failure_key"]) == set(recorded["failure_key"]), "classified after every processor of the day"
    assert stored["failure_type"].notna().all()
    print(f"\n{len(automation_runs)} automation runs for {NEW_DAY}; {len(stored)} failures of that day stored")
