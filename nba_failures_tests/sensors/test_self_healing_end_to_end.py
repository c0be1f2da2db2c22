"""The whole loop with a real Dagster daemon on a seeded scenario of the real season.

Backfill (CLI) → failures classified → the daemon's sensors tick 30 times (90 s) while nothing has been
delivered (nothing may be spent on failures whose data is missing) → the late files and the registry fixes
land → within a bounded time every failure whose fix was delivered is RESOLVED (or EXPECTED when the delivered
box score shows the player did not play), with no human action. Data that never arrives is still waited for
with no attempt spent, and a malformed row's gaps are given up after exactly max_attempts reruns.
"""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus

from nba_failures.scenarios.deliver import deliver_scenario
from nba_failures.scenarios.make import make_scenario
from nba_failures.sensors.runs import TRIGGER_TAG
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests.daemon import DagsterDaemon
from nba_failures_tests.sensors.healing import RETRIED_TYPES, Faults, assert_healed, lifecycle, outcome, stored

FIRST, LAST = dt.date(2023, 1, 9), dt.date(2023, 1, 18)
SEED = 7
MAX_ATTEMPTS = 3
INTERVAL_SECONDS = 3
DELIVERY_AFTER_SECONDS = 90  # late data comes after many ticks (30), not within the first few


@pytest.mark.slow(seconds=250)
def test_delivered_data_heals_every_correctable_failure_through_the_daemon(tmp_path: Path):
    scenario = tmp_path / "scenario"
    faults = Faults.of(make_scenario(scenario, SEED, start=FIRST, end=LAST))
    env = {
        "NBA_FAILURES_LANDING_DIR": str(scenario),
        "NBA_FAILURES_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "NBA_FAILURES_SENSOR_INTERVAL_SECONDS": str(INTERVAL_SECONDS),
        "NBA_FAILURES_RETRY_BACKOFF_SECONDS": "1",
        "NBA_FAILURES_RETRY_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    }
    (tmp_path / "dagster_home").mkdir()
    cli = Path(sys.executable).with_name("nba-failures")
    command = [str(cli), "backfill", "--start", FIRST.isoformat(), "--end", LAST.isoformat()]
    backfill = subprocess.run(command, check=False, env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
    assert backfill.returncode == 0, backfill.stderr[-3000:]

    warehouse = DuckDBWarehouse(path=env["NBA_FAILURES_DUCKDB_PATH"])
    before = stored(warehouse)
    undelivered = before[faults.undelivered(before, None) & before["failure_type"].isin(RETRIED_TYPES)]
    assert len(undelivered) and (before.loc[undelivered.index, "failure_type"] != "PLAYER_DNP").all()

    with DagsterDaemon(tmp_path / "dagster_home", env, tmp_path / "daemon.log") as daemon:

        def first_tick_logged():
            return "days with landed game files" in daemon.log_tail(400)

        daemon.wait_for(first_tick_logged, timeout=180, interval=1, what="first sensor tick")
        first_tick = time.monotonic()
        while time.monotonic() - first_tick < DELIVERY_AFTER_SECONDS:
            waiting = stored(warehouse).loc[undelivered.index]
            assert (waiting["retry_attempts"] == 0).all(), "an attempt spent on a failure whose data has not arrived"
            time.sleep(10)
        delivery = deliver_scenario(scenario)
        assert delivery.landed_files and delivery.registry_fixes

        def healed() -> bool:
            now = stored(warehouse)
            if (now["resolution_status"] == "RETRY_REQUESTED").any():
                return False
            delivered = outcome(before, now, faults).delivered
            return delivered["resolution_status"].isin(["RESOLVED", "EXPECTED"]).all()

        began = time.monotonic()
        daemon.wait_for(healed, timeout=480, interval=5, what="every delivered fix RESOLVED")
        healing_seconds = time.monotonic() - began
        # The malformed rows' gaps: reruns with their data present, backing off 1 s, 2 s: given up soon after.
        daemon.wait_for(
            lambda: (outcome(before, stored(warehouse), faults).malformed["resolution_status"] == "PERMANENT").all(),
            timeout=120,
            interval=5,
            what="malformed rows given up",
        )
        # Runs the delivery set off (retries, and automation for the days whose files landed) all finish.
        instance = DagsterInstance.from_config(env["DAGSTER_HOME"])
        daemon.wait_until_quiet(instance, INTERVAL_SECONDS)

    after = stored(warehouse)
    result = outcome(before, after, faults)
    assert_healed(result, after, MAX_ATTEMPTS, never_arrived_status="UNRESOLVED")
    assert result.never_arrived["waiting_for"].str.contains("raw box score of").all()
    figures = lifecycle(before, after)
    print(f"\nfailure store by resolution status, before delivery and {healing_seconds:.0f}s after it:\n{figures.to_markdown()}")
    print(f"delivered: {len(result.delivered)}, never arrived: {len(result.never_arrived)}, malformed: {len(result.malformed)}")

    launched = [run for run in instance.get_runs() if run.tags.get(TRIGGER_TAG)]
    assert all(run.status == DagsterRunStatus.SUCCESS for run in launched), [(run.run_id, run.status) for run in launched]
    instance.dispose()
    print(f"{len(launched)} sensor-launched runs: {sorted(run.tags[TRIGGER_TAG] for run in launched)}")
