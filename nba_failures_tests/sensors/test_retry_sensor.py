"""The retry sensor, tick by tick at injected times, on real failures of the real season: a real Dagster instance,
the real DuckDB file, and the requested runs executed for real."""

import datetime as dt
import shutil

import pandas as pd
import pytest
from dagster import DagsterInstance, DagsterRunStatus, SensorResult, build_sensor_context

from nba_failures.definitions import defs
from nba_failures.failures.records import PermanentCause, ResolutionStatus
from nba_failures.failures.store import ANALYTICS_FAILURES
from nba_failures.resources import LandingZone
from nba_failures.sensors.retry import RetryPolicy, retry_tick
from nba_failures.sensors.runs import TRIGGER_TAG
from nba_failures_tests.faults import game_file, schedule
from nba_failures_tests.harness import execute_request, run_assets

DAY = dt.date(2023, 1, 15)
RAW = "nbac_gamebook_player_stats"


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


class Ticker:
    """Ticks the sensor at times relative to when the failures were first seen, keeping its cursor like the daemon."""

    def __init__(self, warehouse, landing, instance=None, **policy) -> None:
        self.warehouse, self.landing = warehouse, landing
        self.instance = instance or DagsterInstance.ephemeral()
        self.policy = RetryPolicy(**policy)
        self.cursor = None
        self.seen = pd.Timestamp(warehouse.read(ANALYTICS_FAILURES)["first_seen_at"].max())

    def at(self, hours: float) -> SensorResult:
        landing = LandingZone(path=str(self.landing))
        context = build_sensor_context(instance=self.instance, cursor=self.cursor, definitions=defs)
        result = retry_tick(context, self.warehouse, landing, self.policy, self.seen + pd.Timedelta(hours=hours))
        self.cursor = result.cursor
        return result

    def execute(self, result: SensorResult) -> None:
        for request in result.run_requests:
            assert execute_request(request, self.warehouse, self.landing, self.instance).success


def stored(warehouse):
    return warehouse.read(ANALYTICS_FAILURES).set_index(["processor_name", "entity_id"])


def game_failures(warehouse, game_id: str) -> pd.DataFrame:
    """The raw GAME failure and both team summaries' failures of one missing game."""
    rows = warehouse.read(ANALYTICS_FAILURES)
    return rows[rows["missing_game_ids"].map(lambda ids: game_id in ids) | (rows["entity_id"] == game_id)]


def test_a_missing_file_is_waited_for_spending_no_attempt_then_given_up_after_max_wait(late_game, warehouse, landing):
    game_id, _, _ = late_game
    ticker = Ticker(warehouse, landing)
    waiting = game_failures(warehouse, game_id)
    assert len(waiting) == 5 and (waiting["failure_type"] == "DATA_GAP").all()
    for hours in (1 / 60, 6, 48, 71):
        result = ticker.at(hours)
        assert not result.run_requests and "waiting for data" in result.skip_reason.skip_message
        now = game_failures(warehouse, game_id)
        assert (now["retry_attempts"] == 0).all() and (now["resolution_status"] == ResolutionStatus.UNRESOLVED.value).all()
        assert now["waiting_for"].str.contains(f"raw box score of {game_id}").all()
    ticker.at(80)
    given_up = game_failures(warehouse, game_id)
    assert (given_up["resolution_status"] == ResolutionStatus.PERMANENT.value).all()
    assert (given_up["permanent_cause"] == PermanentCause.DATA_NEVER_ARRIVED.value).all()
    assert (given_up["retry_attempts"] == 0).all()


def test_a_file_landing_two_days_later_gets_one_run_that_resolves_its_failures(late_game, warehouse, landing):
    game_id, path, held = late_game
    ticker = Ticker(warehouse, landing)
    assert not ticker.at(1).run_requests
    shutil.move(held, path)
    before = warehouse.read(ANALYTICS_FAILURES)
    result = ticker.at(48)
    [request] = result.run_requests
    selected = {key.to_user_string() for key in request.asset_selection}
    assert {RAW, "player_game_summary", "team_offense_game_summary", "classified_failures"} <= selected
    assert request.partition_key == DAY.isoformat()
    assert request.tags[TRIGGER_TAG] == "retry" and request.tags["dagster/max_retries"] == "0"
    retried = stored(warehouse).loc[(RAW, game_id)]
    assert retried["resolution_status"] == ResolutionStatus.RETRY_REQUESTED.value
    assert retried["retry_attempts"] == 1 and retried["last_retry_run_id"] == request.run_key
    team = stored(warehouse).loc[("team_offense_game_summary", schedule(DAY).set_index("game_id").loc[game_id, "home_abbr"])]
    assert team["retry_attempts"] == 0 and team["last_retry_run_id"] == request.run_key, "a follower rides without an attempt"

    # A tick that reads a stale store (the request not written yet) plans the same run: the cursor stops it.
    keys = list(before["failure_key"])
    warehouse.update_slice(ANALYTICS_FAILURES, DAY, DAY + dt.timedelta(days=1), {"failure_key": keys}, lambda _: before)
    assert not ticker.at(48.01).run_requests

    ticker.execute(result)
    fixed = stored(warehouse)
    assert fixed.loc[(RAW, game_id), "resolution_status"] == ResolutionStatus.RESOLVED.value
    assert fixed.loc[(RAW, game_id), "resolved_at"] is not pd.NaT
    assert not fixed[fixed["is_correctable"]]["resolution_status"].isin(["UNRESOLVED", "RETRY_REQUESTED"]).any()
    assert not ticker.at(49).run_requests


def test_data_that_lands_after_the_failure_was_given_up_still_heals_it(late_game, warehouse, landing):
    game_id, path, held = late_game
    ticker = Ticker(warehouse, landing)
    ticker.at(80)
    assert stored(warehouse).loc[(RAW, game_id), "resolution_status"] == ResolutionStatus.PERMANENT.value
    shutil.move(held, path)
    result = ticker.at(96)
    assert len(result.run_requests) == 1
    ticker.execute(result)
    assert (game_failures(warehouse, game_id)["resolution_status"] == ResolutionStatus.RESOLVED.value).all()


def test_a_request_that_never_became_a_run_gives_its_attempt_back_and_is_requested_again(late_game, warehouse, landing):
    game_id, path, held = late_game
    shutil.move(held, path)
    ticker = Ticker(warehouse, landing)
    [first] = ticker.at(1).run_requests
    assert not ticker.at(1.05).run_requests, "the daemon may not have created the run yet"
    [again] = ticker.at(3).run_requests
    assert again.run_key == first.run_key, "the same attempt, requested again"
    assert stored(warehouse).loc[(RAW, game_id), "retry_attempts"] == 1


def test_a_tick_waits_while_a_sensor_launched_run_is_in_flight(late_game, warehouse, landing):
    from dagster._core.test_utils import create_run_for_test

    instance = DagsterInstance.ephemeral()
    create_run_for_test(instance, job_name="__ASSET_JOB", tags={TRIGGER_TAG: "retry"}, status=DagsterRunStatus.STARTED)
    result = Ticker(warehouse, landing, instance).at(1)
    assert not result.run_requests and "waiting for 1" in result.skip_reason.skip_message
