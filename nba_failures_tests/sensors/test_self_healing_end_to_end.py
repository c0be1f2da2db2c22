"""The whole loop with a real Dagster daemon on a seeded scenario of the real season.

Backfill (CLI) → failures classified → the late data is delivered → the daemon's sensors notice the
arrivals and retry what is correctable → within a bounded time every failure the delivery fixes is
RESOLVED, with no human action. Failures that describe reality (DNP) are untouched, data that never
arrives is waited for (attempts not burnt), bad input is not retried, and a correctable-looking gap that
reruns cannot fix becomes PERMANENT after exactly 3 attempts. No run is launched twice.
"""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance, DagsterRunStatus

from nba_failures.failures.records import FailureType, ResolutionStatus
from nba_failures.reporting import read_store
from nba_failures.scenarios.deliver import deliver_scenario
from nba_failures.scenarios.make import make_scenario
from nba_failures.sensors.runs import RUN_KEY_TAG, TRIGGER_TAG
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests.daemon import DagsterDaemon

FIRST, LAST = dt.date(2023, 1, 9), dt.date(2023, 1, 18)
SEED = 7
MAX_ATTEMPTS = 3
INTERVAL_SECONDS = 3


def stored(warehouse: DuckDBWarehouse) -> pd.DataFrame:
    return read_store(warehouse).set_index("failure_key")


@pytest.mark.slow
def test_delivered_data_heals_every_correctable_failure_through_the_daemon(tmp_path: Path):
    scenario = tmp_path / "scenario"
    truth = make_scenario(scenario, SEED, start=FIRST, end=LAST)
    expected = pd.DataFrame([row.model_dump(mode="json") for row in truth.expected_between(FIRST, LAST)]).set_index("failure_key")
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
    backfill = subprocess.run([str(cli), "backfill", "--start", FIRST.isoformat(), "--end", LAST.isoformat()], env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
    assert backfill.returncode == 0, backfill.stderr[-3000:]
    assert "Failures per processor and category" in backfill.stdout

    warehouse = DuckDBWarehouse(path=env["NBA_FAILURES_DUCKDB_PATH"])
    before = stored(warehouse)
    assert expected.index.isin(before.index).all(), "every injected fault is stored"
    assert (before.loc[expected.index, "failure_type"] == expected["failure_type"]).all()
    fixable = expected.index[expected["fixed_by_delivery"]]
    never_arrives = expected.index[expected["is_correctable"] & ~expected["fixed_by_delivery"]]
    bad_input = expected.index[expected["failure_type"] == FailureType.BAD_INPUT.value]
    assert len(fixable) and len(never_arrives) and len(bad_input)
    dnp = before.index[before["failure_type"] == FailureType.PLAYER_DNP.value]
    assert len(dnp), "the real season gives players who did not play"

    with DagsterDaemon(tmp_path / "dagster_home", env, tmp_path / "daemon.log") as daemon:
        # The arrival sensor's first tick records what has landed so far; later files are arrivals.
        daemon.wait_for(lambda: "landed game files recorded" in daemon.log_tail(400), timeout=180, interval=1, what="arrival baseline")
        delivery = deliver_scenario(scenario)
        assert delivery.landed_files and delivery.registry_fixes

        def healed() -> bool:
            now = stored(warehouse)
            settled = not (now["resolution_status"] == ResolutionStatus.RETRY_REQUESTED.value).any()
            return settled and (now.loc[fixable, "resolution_status"] == ResolutionStatus.RESOLVED.value).all()

        began = time.monotonic()
        daemon.wait_for(healed, timeout=480, interval=5, what="every delivered fix RESOLVED")
        healing_seconds = time.monotonic() - began

    after = stored(warehouse)
    lifecycle = pd.concat({"before": before.groupby("resolution_status").size(), "after": after.groupby("resolution_status").size()}, axis=1).fillna(0).astype(int)
    print(f"\nfailure store by resolution status, before delivery and {healing_seconds:.0f}s after it:\n{lifecycle.to_markdown()}")
    # Fixed by the delivery: resolved, kept (not deleted), with when.
    assert after.loc[fixable, "resolved_at"].notna().all()
    # Never delivered: still waiting, no attempt burnt.
    assert (after.loc[never_arrives, "resolution_status"] == ResolutionStatus.UNRESOLVED.value).all()
    assert (after.loc[never_arrives, "retry_attempts"] == 0).all()
    # Bad input is not something a rerun fixes: never retried.
    assert (after.loc[bad_input, "retry_attempts"] == 0).all()
    # Did-not-play rows are untouched.
    assert (after.loc[dnp, "resolution_status"] == ResolutionStatus.EXPECTED.value).all()
    assert (after.loc[dnp, "retry_attempts"] == 0).all()
    # The malformed row's player is missing from later windows while his raw row says he played: a gap
    # that looks correctable, that no rerun can fix. It stops after exactly MAX_ATTEMPTS.
    permanent = after[after["resolution_status"] == ResolutionStatus.PERMANENT.value]
    assert len(permanent) > 0
    assert (permanent["retry_attempts"] == MAX_ATTEMPTS).all()
    assert permanent["permanent_reason"].str.contains(f"after {MAX_ATTEMPTS} retries").all()
    malformed_players = {row.player_lookup for row in truth.expected_between(FIRST, LAST) if row.failure_type == FailureType.BAD_INPUT and row.player_lookup}
    assert set(permanent["entity_id"]) <= malformed_players

    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    instance = DagsterInstance.get()
    launched = [run for run in instance.get_runs() if run.tags.get(TRIGGER_TAG)]
    run_keys = [run.tags[RUN_KEY_TAG] for run in launched]
    assert len(run_keys) == len(set(run_keys)), "no run launched twice"
    assert all(run.status == DagsterRunStatus.SUCCESS for run in launched)
    assert {run.tags[TRIGGER_TAG] for run in launched} == {"arrival", "retry"}
    assert len(launched) <= 12 and healing_seconds < 480
