"""`landed_game_files`: a day's data version from its files, and the sensor that records a new one when they change."""

import datetime as dt
import os
import shutil

from dagster import DagsterInstance, build_sensor_context

from nba_failures.definitions import defs
from nba_failures.landing.versions import day_data_versions
from nba_failures.resources import LandingZone
from nba_failures.sensors.landed import landed_game_files_sensor
from nba_failures_tests.faults import game_file, schedule

DAY = dt.date(2023, 1, 15)
NEXT_DAY = DAY + dt.timedelta(days=1)


def versions(landing):
    return day_data_versions(landing, DAY, NEXT_DAY + dt.timedelta(days=1))


def test_the_same_files_give_the_same_version_and_a_changed_or_added_file_a_new_one(landing, tmp_path):
    first = versions(landing)
    assert set(first) == {DAY, NEXT_DAY} and first == versions(landing)
    assert first == versions(shutil.copytree(landing, tmp_path / "copy", copy_function=shutil.copy2)), "names, sizes, mtimes"

    path = game_file(landing, DAY, min(schedule(DAY)["game_id"]))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # re-delivered, same bytes
    redelivered = versions(landing)
    assert redelivered[DAY] != first[DAY] and redelivered[NEXT_DAY] == first[NEXT_DAY]

    shutil.copy2(path, path.with_name("202301159XYZ.csv.gz"))  # one more file that day
    added = versions(landing)
    assert added[DAY] not in (first[DAY], redelivered[DAY]) and added[NEXT_DAY] == first[NEXT_DAY]


def test_a_day_without_game_files_has_no_version(landing):
    shutil.rmtree(landing / "gamebook" / DAY.isoformat())
    assert set(versions(landing)) == {NEXT_DAY}


class Ticks:
    def __init__(self, landing) -> None:
        self.landing, self.cursor = landing, None
        self.instance = DagsterInstance.ephemeral()

    def tick(self):
        context = build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            definitions=defs,
            resources={"landing": LandingZone(path=str(self.landing))},
        )
        result = landed_game_files_sensor(context)
        self.cursor = result.cursor
        return result


def test_the_sensor_records_a_new_version_only_for_the_days_that_changed(landing, tmp_path):
    held = shutil.move(landing / "gamebook" / DAY.isoformat(), tmp_path / "held")
    ticks = Ticks(landing)
    baseline = ticks.tick()
    assert not baseline.asset_events and "baseline of" in baseline.skip_reason.skip_message, "what has landed is the backfill's"
    assert not ticks.tick().asset_events

    shutil.move(held, landing / "gamebook" / DAY.isoformat())
    [observation] = ticks.tick().asset_events
    assert observation.asset_key.to_user_string() == "landed_game_files" and observation.partition == DAY.isoformat()
    assert observation.tags["dagster/data_version"] == versions(landing)[DAY]
    assert not ticks.tick().asset_events, "the same files are not an arrival twice"
    assert len(ticks.cursor) < 20_000, "one entry per day, not per file"
