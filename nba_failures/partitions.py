"""Daily partitions spanning the landing directory's season, so another season works unchanged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dagster import AssetExecutionContext, DailyPartitionsDefinition

from nba_failures.landing.contract import season_bounds
from nba_failures.settings import landing_dir


def season_partitions(landing: Path) -> DailyPartitionsDefinition:
    first, last = season_bounds(landing)
    return DailyPartitionsDefinition(start_date=first.isoformat(), end_date=(last + dt.timedelta(days=1)).isoformat())


daily_partitions = season_partitions(landing_dir())


def partition_window(context: AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """`[start, end)` dates of the run: one day, or a whole range in a single-run backfill."""
    window = context.partition_time_window
    return window.start.date(), window.end.date()


def days_in(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=offset) for offset in range((end - start).days)]
