"""Daily partitions: every day of a season (the All-Star break included), none of the off-season between two."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from nba_failures import partitions
from nba_failures_tests import season_data

ALL_STAR_BREAK = [dt.date(2023, 2, 17) + dt.timedelta(days=offset) for offset in range(6)]


def _keys(game_dates) -> list[dt.date]:
    return [dt.date.fromisoformat(key) for key in partitions.season_partitions(game_dates).get_partition_keys()]


def test_one_season_is_every_day_from_its_first_to_its_last_game() -> None:
    dates = season_data.schedule()["game_date"]
    first, last = min(dates), max(dates)
    assert partitions.off_season_days(dates) == []
    keys = _keys(dates)
    assert keys == [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]
    # Days without a game inside the season stay partitions (a retry window may span them).
    assert set(ALL_STAR_BREAK) <= set(keys) and not set(ALL_STAR_BREAK) & set(dates)
    assert partitions.days_in(first, last + dt.timedelta(days=1)) == keys  # the bundled season is the loaded one


def test_the_off_season_between_two_seasons_is_not_partitioned() -> None:
    one = pd.Series(sorted(set(season_data.schedule()["game_date"])))
    earlier = one.map(lambda day: day.replace(year=day.year - 1))
    dates = pd.concat([earlier, one], ignore_index=True)

    off = partitions.off_season_days(dates)
    assert off[0] == earlier.iloc[-1] + dt.timedelta(days=1) and off[-1] == one.iloc[0] - dt.timedelta(days=1)
    assert len(off) == (one.iloc[0] - earlier.iloc[-1]).days - 1 > 150
    keys = _keys(dates)
    assert len(keys) == 2 * len(_keys(one)) and not set(off) & set(keys)
    assert set(dates) <= set(keys)


def test_a_gap_of_the_threshold_is_still_in_season() -> None:
    start = dt.date(2023, 1, 1)
    within = [start, start + dt.timedelta(days=partitions.OFF_SEASON_GAP_DAYS)]
    beyond = [start, start + dt.timedelta(days=partitions.OFF_SEASON_GAP_DAYS + 1)]
    assert partitions.off_season_days(within) == []
    assert len(_keys(within)) == partitions.OFF_SEASON_GAP_DAYS + 1
    assert partitions.off_season_days(beyond) == [
        start + dt.timedelta(days=offset) for offset in range(1, partitions.OFF_SEASON_GAP_DAYS + 1)
    ]
    assert _keys(beyond) == beyond


def test_an_off_season_on_the_same_calendar_days_every_year_is_a_few_cron_strings() -> None:
    one = pd.Series(sorted(set(season_data.schedule()["game_date"])))
    seasons = pd.concat(
        [one.map(lambda day, back=back: day.replace(year=day.year - back)) for back in range(3)], ignore_index=True
    )
    exclusions = partitions.partition_exclusions(seasons)
    assert exclusions and all(isinstance(exclusion, str) for exclusion in exclusions) and len(exclusions) <= 12
    off = set(partitions.off_season_days(seasons))
    keys = set(_keys(seasons))
    assert not off & keys and len(keys) == 3 * len(_keys(one))


def test_an_off_season_day_that_is_in_season_another_year_stays_a_date() -> None:
    one = sorted(set(season_data.schedule()["game_date"]))
    earlier = [day.replace(year=day.year - 1) for day in one]
    # The later season runs a week longer: that week's calendar days are in season one year, off the other.
    longer_by_a_week = one + [one[-1] + dt.timedelta(days=offset) for offset in range(1, 8)]
    dates = earlier + longer_by_a_week
    exclusions = partitions.partition_exclusions(dates)
    dated = [exclusion.date() for exclusion in exclusions if isinstance(exclusion, dt.datetime)]
    assert dated == [earlier[-1] + dt.timedelta(days=offset) for offset in range(1, 8)]
    keys = set(_keys(dates))
    assert set(dates) <= keys and not set(partitions.off_season_days(dates)) & keys
    assert len(keys) == len(_keys(earlier)) + len(_keys(longer_by_a_week))
