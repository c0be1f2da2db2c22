"""The arrival sensor tick by tick on a private copy of the real season's landing directory."""

import datetime as dt
import os
import shutil

from dagster import DagsterInstance, build_sensor_context

from nba_failures.definitions import defs
from nba_failures.resources import LandingZone
from nba_failures.sensors.arrival import raw_arrival_sensor
from nba_failures.sensors.runs import TRIGGER_TAG
from nba_failures_tests.faults import game_file, schedule

DAY = dt.date(2023, 1, 15)


class Ticks:
    def __init__(self, landing) -> None:
        self.landing, self.cursor = landing, None
        self.instance = DagsterInstance.ephemeral()

    def tick(self):
        context = build_sensor_context(
            instance=self.instance, cursor=self.cursor, definitions=defs, resources={"landing": LandingZone(path=str(self.landing))}
        )
        result = raw_arrival_sensor(context)
        self.cursor = result.cursor
        return result


def hold_back(landing, tmp_path, day: dt.date):
    game_id = sorted(schedule(day)["game_id"])[0]
    path = game_file(landing, day, game_id)
    held = tmp_path / f"held-{game_id}"
    shutil.move(path, held)
    return path, held


def test_the_first_tick_records_what_has_landed_and_requests_nothing(landing):
    result = Ticks(landing).tick()
    assert not result.run_requests and "baseline of" in result.skip_reason.skip_message


def test_a_late_file_gets_its_day_reprocessed_once(landing, tmp_path):
    path, held = hold_back(landing, tmp_path, DAY)
    ticks = Ticks(landing)
    ticks.tick()
    assert not ticks.tick().run_requests, "nothing new"
    shutil.move(held, path)
    [request] = ticks.tick().run_requests
    assert request.partition_key == DAY.isoformat() and request.tags[TRIGGER_TAG] == "arrival"
    selected = {key.to_user_string() for key in request.asset_selection}
    assert {"nbac_gamebook_player_stats", "player_game_summary", "classified_failures"} <= selected
    assert "player_daily_cache" not in selected, "later windows are the retry sensor's business"
    assert not ticks.tick().run_requests, "the same file is not an arrival twice"

    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # re-delivered
    [again] = ticks.tick().run_requests
    assert again.partition_key == DAY.isoformat() and again.run_key != request.run_key


def test_files_landing_on_adjacent_days_share_one_run_over_the_window(landing, tmp_path):
    first_day, next_day = DAY, DAY + dt.timedelta(days=1)
    held = [hold_back(landing, tmp_path, day) for day in (first_day, next_day)]
    ticks = Ticks(landing)
    ticks.tick()
    for path, file in held:
        shutil.move(file, path)
    [request] = ticks.tick().run_requests
    assert request.partition_key is None
    assert (request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]) == (
        first_day.isoformat(),
        next_day.isoformat(),
    )
