"""Daily partitions spanning the landing directory's seasons, so another season (or several) works unchanged.

Every day from the first to the last game date is a partition, except the off-season: the days of a
gap of more than OFF_SEASON_GAP_DAYS between two consecutive game dates. Inside a season no gap comes
close (the All-Star break is about a week, and stays partitioned); between seasons there are months
with nothing to process, which as partitions would only show as "missing" in the UI and cost every
backfill a run's worth of per-partition events each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from dagster import AssetExecutionContext, DailyPartitionsDefinition

from nba_failures.landing.contract import read_schedule
from nba_failures.settings import landing_dir

OFF_SEASON_GAP_DAYS = 30


def off_season_days(game_dates: Iterable[dt.date]) -> list[dt.date]:
    """The days strictly between two consecutive game dates more than OFF_SEASON_GAP_DAYS apart."""
    dates = sorted(set(game_dates))
    return [
        before + dt.timedelta(days=offset)
        for before, after in zip(dates, dates[1:])
        if (after - before).days > OFF_SEASON_GAP_DAYS
        for offset in range(1, (after - before).days)
    ]


def season_partitions(game_dates: Iterable[dt.date]) -> DailyPartitionsDefinition:
    """One partition per day from the first to the last of `game_dates`, the off-season excluded."""
    dates = sorted(set(game_dates))
    first, last = dates[0], dates[-1]
    excluded = [dt.datetime(day.year, day.month, day.day) for day in off_season_days(dates)]
    return DailyPartitionsDefinition(start_date=first.isoformat(), end_date=(last + dt.timedelta(days=1)).isoformat(), exclusions=excluded or None)


_GAME_DATES = read_schedule(landing_dir())["game_date"]
daily_partitions = season_partitions(_GAME_DATES)
_OFF_SEASON = frozenset(off_season_days(_GAME_DATES))


def partition_window(context: AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """`[start, end)` dates of the run: one day, or a whole range in a single-run backfill."""
    window = context.partition_time_window
    return window.start.date(), window.end.date()


def days_in(start: dt.date, end: dt.date) -> list[dt.date]:
    """The partition days of `[start, end)`: a range run's window spans the off-season between its seasons."""
    return [day for offset in range((end - start).days) if (day := start + dt.timedelta(days=offset)) not in _OFF_SEASON]
