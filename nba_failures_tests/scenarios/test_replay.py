"""`nba-failures replay` on a few days at high speed, with a real Dagster daemon processing what lands."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from nba_failures.failures.store import read_failures
from nba_failures.scenarios.faults import FaultKind
from nba_failures.scenarios.make import make_scenario
from nba_failures.scenarios.replay import ReplayEvent, replay_timeline
from nba_failures.scenarios.truth import load_ground_truth
from nba_failures.sensors.runs import TRIGGER_TAG
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests.daemon import DagsterDaemon
from nba_failures_tests.sensors.healing import Faults, outcome

FIRST, LAST = dt.date(2023, 1, 9), dt.date(2023, 1, 12)
DAYS = [FIRST + dt.timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
SEED = 7


def test_the_timeline_lands_each_day_a_day_apart_and_each_fix_its_delay_after_its_day(tmp_path):
    truth = make_scenario(tmp_path / "scenario", SEED, start=FIRST, end=LAST)
    events = replay_timeline(DAYS, truth)
    assert [event for event in events if event.kind == "day"] == [ReplayEvent(24.0 * n, "day", day) for n, day in enumerate(DAYS)]
    late = {event.fault.game_id: event for event in events if event.kind == "late_file"}
    assert set(late) == {fault.game_id for fault in truth.faults_of(FaultKind.LATE_GAME_FILE)}
    assert all(event.at_hours == 24.0 * DAYS.index(event.day) + event.fault.delivery_delay_hours for event in late.values())
    assert not {fault.game_id for fault in truth.faults_of(FaultKind.MISSING_GAME_FILE)} & set(late), "never arrives"
    assert len([event for event in events if event.kind == "registry_fix"]) == len(truth.faults_of(FaultKind.REGISTRY_REMOVAL))
    assert [event.at_hours for event in events] == sorted(event.at_hours for event in events)


@pytest.mark.slow(seconds=155)
def test_a_replay_is_processed_day_by_day_by_the_daemon_and_its_late_files_heal(tmp_path: Path):
    landing, home = tmp_path / "landing", tmp_path / "dagster_home"
    env = {
        "NBA_FAILURES_LANDING_DIR": str(landing),
        "NBA_FAILURES_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "DAGSTER_HOME": str(home),
        "NBA_FAILURES_SENSOR_INTERVAL_SECONDS": "3",
        "NBA_FAILURES_RETRY_BACKOFF_SECONDS": "1",
    }
    with DagsterDaemon(home, env, tmp_path / "daemon.log") as daemon:
        daemon.wait_for(
            lambda: "baseline of 0 days" in daemon.log_tail(400), timeout=180, interval=1, what="landed files baseline"
        )
        command = [str(Path(sys.executable).with_name("nba-failures")), "replay", "--speed", "7200", "--start", FIRST.isoformat(),
                   "--end", LAST.isoformat(), "--seed", str(SEED), "--settle-seconds", "420"]  # fmt: skip
        replay = subprocess.run(command, check=False, env={**os.environ, **env}, capture_output=True, text=True, timeout=900)
    print(replay.stdout)
    assert replay.returncode == 0, replay.stderr[-3000:] + daemon.log_tail()
    assert "freshness" in replay.stdout and all(day.isoformat() in replay.stdout for day in DAYS)

    with DagsterInstance.from_config(str(home)) as instance:
        launched = [run for run in instance.get_runs() if run.tags.get(TRIGGER_TAG)]
        assert {run.tags[TRIGGER_TAG] for run in launched} >= {"automation"}
        assert all(run.status == DagsterRunStatus.SUCCESS for run in launched), "no run failed, on the DuckDB lock or otherwise"
        assert not instance.get_runs(RunsFilter(tags={TRIGGER_TAG: "arrival"}))

    store = read_failures(DuckDBWarehouse(path=env["NBA_FAILURES_DUCKDB_PATH"])).set_index("failure_key")
    assert set(store["analysis_date"]) == set(DAYS), "every replayed day classified, no other"
    # Whether a late file or a registry fix came before its day was first processed or after (then a failure was
    # recorded and had to heal) depends on the daemon's pace; either way every correctable failure whose fix landed is
    # healed, and those about files that never arrive still wait for them, no attempt spent.
    result = outcome(store, store, Faults.of(load_ground_truth(landing)))
    unhealed = result.delivered[~result.delivered["resolution_status"].isin(["RESOLVED", "EXPECTED"])]
    assert unhealed.empty, unhealed[["processor_name", "entity_id", "resolution_status"]]
    assert len(result.never_arrived) and (result.never_arrived["resolution_status"] == "UNRESOLVED").all()
    assert (result.never_arrived["retry_attempts"] == 0).all()
