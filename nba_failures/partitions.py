"""Daily partitions spanning the landing directory's seasons, so another season (or several) works unchanged.

Every day from the first to the last game date is a partition, except the off-season: the days of a
gap of more than OFF_SEASON_GAP_DAYS between two consecutive game dates. Inside a season no gap comes
close (the All-Star break is about a week, and stays partitioned); between seasons there are months
with nothing to process, which as partitions would only show as "missing" in the UI and cost every
backfill a run's worth of per-partition events each.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from itertools import groupby

from dagster import AssetExecutionContext, DailyPartitionsDefinition

from nba_failures.landing.build import is_unbuilt_default
from nba_failures.landing.contract import LandingFileError, schedule_game_dates
from nba_failures.settings import BUNDLED_SEASON_DIR, landing_dir

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


def partition_exclusions(game_dates: Iterable[dt.date]) -> list[str | dt.datetime]:
    """The off-season as Dagster partition exclusions: a cron string per month for the calendar days that
    are off-season in every year of the span, a date for each other off-season day.

    Dagster writes a run's planned asset-check events once per partition, each with the partitions
    definition and so its exclusions: a thousand dates made a ten-season backfill spend minutes there
    (partitions × exclusions). The off-season falls on the same calendar days most years, so a handful of
    cron strings say the same; a day off-season one year and in season another (a late start) stays a date.
    """
    dates = sorted(set(game_dates))
    off = off_season_days(dates)
    if not off:
        return []
    off_set = set(off)
    in_season = {
        (day.month, day.day)
        for day in (dates[0] + dt.timedelta(days=n) for n in range((dates[-1] - dates[0]).days + 1))
        if day not in off_set
    }
    always_off = sorted({(day.month, day.day) for day in off} - in_season)
    crons = []
    for month, days_of_month in groupby(always_off, key=lambda month_day: month_day[0]):
        days = [day for _, day in days_of_month]
        # Consecutive days share (day - position): one range per run of them.
        runs = [[day for _, day in run] for _, run in groupby(enumerate(days), key=lambda item: item[1] - item[0])]
        crons.append(f"0 0 {','.join(f'{run[0]}-{run[-1]}' if len(run) > 1 else str(run[0]) for run in runs)} {month} *")
    return [*crons, *(dt.datetime(day.year, day.month, day.day) for day in off if (day.month, day.day) in in_season)]


def season_partitions(game_dates: Iterable[dt.date]) -> DailyPartitionsDefinition:
    """One partition per day from the first to the last of `game_dates`, the off-season excluded."""
    dates = sorted(set(game_dates))
    first, last = dates[0], dates[-1]
    return DailyPartitionsDefinition(
        start_date=first.isoformat(),
        end_date=(last + dt.timedelta(days=1)).isoformat(),
        exclusions=partition_exclusions(dates) or None,
    )


def partition_game_dates() -> list[dt.date]:
    """The landing schedule's game dates, or the bundled season's when the landing schedule cannot be read.

    Partitions are fixed when the code location loads. A broken schedule must not stop it loading: then
    nothing (not even `nba-failures summary` or `report` over what is stored) would run, and the error would
    be a traceback at import. With the bundled season's days the location loads, and `nbac_schedule` fails
    its run with the error that names the file and row.
    """
    landing = landing_dir()
    if is_unbuilt_default(landing):
        return schedule_game_dates(BUNDLED_SEASON_DIR)  # the default landing is the bundled season
    try:
        return schedule_game_dates(landing)
    except LandingFileError as error:
        logging.getLogger(__name__).warning(
            "landing schedule in %s unusable (%s): partitions are the bundled season's", landing, error
        )
        return schedule_game_dates(BUNDLED_SEASON_DIR)


_GAME_DATES = partition_game_dates()
daily_partitions = season_partitions(_GAME_DATES)
_OFF_SEASON = frozenset(off_season_days(_GAME_DATES))


def partition_window(context: AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """`[start, end)` dates of the run: one day, or a whole range in a single-run backfill."""
    window = context.partition_time_window
    return window.start.date(), window.end.date()


def days_in(start: dt.date, end: dt.date) -> list[dt.date]:
    """The partition days of `[start, end)`: a range run's window spans the off-season between its seasons."""
    return [day for offset in range((end - start).days) if (day := start + dt.timedelta(days=offset)) not in _OFF_SEASON]
