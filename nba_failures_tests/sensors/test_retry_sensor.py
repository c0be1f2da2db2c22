"""The retry sensor, tick by tick, with explicit cursors, on real failures of the real season."""

import datetime as dt
import shutil

import pytest
from dagster import DagsterInstance, DagsterRunStatus, SensorResult, build_sensor_context

from nba_failures.definitions import defs
from nba_failures.failures.records import ResolutionStatus
from nba_failures.failures.store import ANALYTICS_FAILURES
from nba_failures.resources import LandingZone
from nba_failures.sensors.retry import RetryPolicy, correctable_failures_sensor
from nba_failures.sensors.runs import TRIGGER_TAG
from nba_failures_tests.faults import game_file, schedule
from nba_failures_tests.harness import run_assets

DAY = dt.date(2023, 1, 15)


@pytest.fixture
def late_game(landing, warehouse, tmp_path):
    """One real game of DAY held back from the landing directory; the day processed without it."""
    game_id = sorted(schedule(DAY)["game_id"])[0]
    path = game_file(landing, DAY, game_id)
    held = tmp_path / "held" / path.name
    held.parent.mkdir()
    shutil.move(path, held)
    assert run_assets(warehouse, landing, DAY).success
    return game_id, path, held


def tick(warehouse, landing, cursor=None, instance=None, **policy):
    context = build_sensor_context(
        instance=instance or DagsterInstance.ephemeral(),
        cursor=cursor,
        definitions=defs,
        resources={"warehouse": warehouse, "landing": LandingZone(path=str(landing)), "retry_policy": RetryPolicy(**policy)},
    )
    return correctable_failures_sensor(context), context


def stored(warehouse):
    return warehouse.read(ANALYTICS_FAILURES).set_index(["processor_name", "entity_id"])


def test_nothing_is_retried_while_the_raw_file_is_missing(late_game, warehouse, landing):
    game_id, _, _ = late_game
    before = stored(warehouse)
    assert before.loc[("nbac_gamebook_player_stats", game_id), "failure_type"] == "DATA_GAP"
    result, _ = tick(warehouse, landing)
    assert isinstance(result, SensorResult) and not result.run_requests
    assert "waiting for data" in result.skip_reason.skip_message
    after = stored(warehouse)
    assert (after["retry_attempts"] == 0).all()
    assert set(after["resolution_status"]) <= {ResolutionStatus.UNRESOLVED.value, ResolutionStatus.EXPECTED.value}


def test_a_landed_file_gets_one_run_and_the_next_tick_does_not_repeat_it(late_game, warehouse, landing):
    game_id, path, held = late_game
    shutil.move(held, path)
    result, _ = tick(warehouse, landing, backoff_seconds=3600)
    [request] = result.run_requests
    selected = {key.to_user_string() for key in request.asset_selection}
    assert {"nbac_gamebook_player_stats", "player_game_summary", "team_offense_game_summary", "classified_failures"} <= selected
    assert request.partition_key == DAY.isoformat()
    assert request.tags[TRIGGER_TAG] == "retry" and request.tags["dagster/max_retries"] == "0"
    retried = stored(warehouse).loc[("nbac_gamebook_player_stats", game_id)]
    assert retried["resolution_status"] == ResolutionStatus.RETRY_REQUESTED.value
    assert retried["retry_attempts"] == 1 and retried["last_retry_run_id"] == request.run_key

    again, _ = tick(warehouse, landing, cursor=result.cursor, backoff_seconds=3600)
    assert not again.run_requests
    assert stored(warehouse).loc[("nbac_gamebook_player_stats", game_id), "retry_attempts"] == 1

    # The requested run, executed for real, fixes the day: the failures are RESOLVED, not deleted.
    assert run_assets(warehouse, landing, DAY, selection=[key.to_user_string() for key in request.asset_selection]).success
    fixed = stored(warehouse)
    assert fixed.loc[("nbac_gamebook_player_stats", game_id), "resolution_status"] == ResolutionStatus.RESOLVED.value
    assert not fixed[fixed["is_correctable"]]["resolution_status"].isin(["UNRESOLVED", "RETRY_REQUESTED"]).any()
    final, _ = tick(warehouse, landing, cursor=again.cursor)
    assert not final.run_requests


def test_after_max_attempts_the_failure_is_permanent_and_nothing_more_is_launched(late_game, warehouse, landing):
    game_id, path, held = late_game
    shutil.move(held, path)
    cursor, keys = None, []
    for _ in range(3):
        result, _ = tick(warehouse, landing, cursor=cursor, backoff_seconds=0, max_attempts=3)
        [request] = result.run_requests
        keys.append(request.run_key)
        cursor = result.cursor
    assert len(set(keys)) == 3, "each attempt has its own run key"
    result, _ = tick(warehouse, landing, cursor=cursor, backoff_seconds=0, max_attempts=3)
    assert not result.run_requests
    given_up = stored(warehouse).loc[("nbac_gamebook_player_stats", game_id)]
    assert given_up["resolution_status"] == ResolutionStatus.PERMANENT.value
    assert given_up["retry_attempts"] == 3 and "after 3 retries" in given_up["permanent_reason"]
    result, _ = tick(warehouse, landing, cursor=result.cursor, backoff_seconds=0, max_attempts=3)
    assert not result.run_requests


def test_data_that_never_arrives_becomes_permanent_after_the_wait(late_game, warehouse, landing):
    game_id, _, _ = late_game
    result, _ = tick(warehouse, landing, max_wait_hours=1e-9)
    assert not result.run_requests
    row = stored(warehouse).loc[("nbac_gamebook_player_stats", game_id)]
    assert row["resolution_status"] == ResolutionStatus.PERMANENT.value and row["retry_attempts"] == 0
    assert "never arrived" in row["permanent_reason"] and game_id in row["permanent_reason"]


def test_a_tick_waits_while_a_sensor_launched_run_is_in_flight(late_game, warehouse, landing):
    from dagster._core.test_utils import create_run_for_test

    instance = DagsterInstance.ephemeral()
    create_run_for_test(instance, job_name="__ASSET_JOB", tags={TRIGGER_TAG: "retry"}, status=DagsterRunStatus.STARTED)
    result, _ = tick(warehouse, landing, instance=instance)
    assert not result.run_requests and "waiting for 1" in result.skip_reason.skip_message
