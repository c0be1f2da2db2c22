"""Phase 3 assets. Thin: read the window, call the pure logic, publish rows and failures.

The pure logic (and pandas with it) is imported in the asset bodies: loading the code location only defines them.
"""

import datetime as dt
from typing import TYPE_CHECKING

from dagster import AssetExecutionContext

from nba_failures.failures.recorder import FailureRecorder, ProcessorSpec
from nba_failures.failures.records import EntityType, Phase
from nba_failures.partitions import daily_partitions
from nba_failures.processing import AssetEvents, RowAccounting, processor_asset, publish, record_missing_days, start_run
from nba_failures.raw.assets import nbac_gamebook_player_stats, nbac_schedule, player_registry
from nba_failures.tables.analytics import (
    PLAYER_GAME_SUMMARY,
    TEAM_DEFENSE_GAME_SUMMARY,
    TEAM_OFFENSE_GAME_SUMMARY,
    UPCOMING_PLAYER_GAME_CONTEXT,
)
from nba_failures.tables.raw import NBAC_GAMEBOOK_PLAYER_STATS, NBAC_SCHEDULE, PLAYER_REGISTRY
from nba_failures.warehouse.base import Warehouse
from nba_failures.warehouse.derived import derived_frame

if TYPE_CHECKING:  # annotations quoted, not postponed: Dagster checks an asset's `context` annotation as written
    import pandas as pd

PLAYER_GAMES = ProcessorSpec("player_game_summary", Phase.ANALYTICS, EntityType.PLAYER, PLAYER_GAME_SUMMARY)
TEAM_OFFENSE = ProcessorSpec("team_offense_game_summary", Phase.ANALYTICS, EntityType.TEAM, TEAM_OFFENSE_GAME_SUMMARY)
TEAM_DEFENSE = ProcessorSpec("team_defense_game_summary", Phase.ANALYTICS, EntityType.TEAM, TEAM_DEFENSE_GAME_SUMMARY)
UPCOMING_CONTEXT = ProcessorSpec("upcoming_player_game_context", Phase.ANALYTICS, EntityType.PLAYER, UPCOMING_PLAYER_GAME_CONTEXT)
PROCESSORS = (PLAYER_GAMES, TEAM_OFFENSE, TEAM_DEFENSE, UPCOMING_CONTEXT)


def parsed_box_rows(warehouse: Warehouse, start: dt.date, end: dt.date) -> "pd.DataFrame":
    """The raw rows of `[start, end)` parsed (`parse_box_rows`) against the window's schedule and registry.

    Every analytics processor and the daily cache parse the same window in a range run: parsed once per content
    of those three slices (`derived_frame`)."""

    def parse() -> "pd.DataFrame":
        from nba_failures.analytics.box_scores import parse_box_rows
        from nba_failures.identity import read_player_identities

        raw = warehouse.read(NBAC_GAMEBOOK_PLAYER_STATS, start, end)
        return parse_box_rows(raw, warehouse.read(NBAC_SCHEDULE, start, end), read_player_identities(warehouse, start, end))

    inputs = [(table, start, end) for table in (NBAC_GAMEBOOK_PLAYER_STATS, NBAC_SCHEDULE, PLAYER_REGISTRY)]
    return derived_frame(warehouse, "parsed_box_rows", inputs, parse)


def _parsed_box_rows(
    warehouse: Warehouse, recorder: FailureRecorder, start: dt.date, end: dt.date
) -> "tuple[pd.DataFrame, pd.DataFrame]":
    """The window's schedule and parsed raw rows; a MISSING_DEPENDENCY for game days with no raw rows."""
    schedule = warehouse.read(NBAC_SCHEDULE, start, end)
    parsed = parsed_box_rows(warehouse, start, end)
    raw_days = set(parsed["landing_date"])  # a parsed row per raw row
    record_missing_days(recorder, set(schedule["game_date"]), raw_days, NBAC_GAMEBOOK_PLAYER_STATS.qualified_name)
    return schedule, parsed


@processor_asset(
    PLAYER_GAMES, group="analytics", deps=[nbac_gamebook_player_stats, player_registry, nbac_schedule],
    description="One row per player per game played (nba_analytics.player_game_summary).",
)  # fmt: skip
def player_game_summary(context: AssetExecutionContext, warehouse: Warehouse) -> AssetEvents:
    from nba_failures.analytics.player_games import summarize_player_games, summary_inputs

    recorder, start, end = start_run(context, PLAYER_GAMES)
    _, parsed = _parsed_box_rows(warehouse, recorder, start, end)
    summary, failures = summarize_player_games(parsed)
    recorder.record_frame(failures)
    excluded = int((~summary_inputs(parsed)).sum())
    accounting = RowAccounting(len(parsed), len(failures), excluded_input_rows=excluded)
    yield from publish(context, warehouse, recorder, summary, start, end, accounting)


@processor_asset(
    TEAM_OFFENSE, group="analytics", deps=[nbac_gamebook_player_stats, player_registry, nbac_schedule],
    description="One row per team per game: what it scored (nba_analytics.team_offense_game_summary).",
)  # fmt: skip
def team_offense_game_summary(context: AssetExecutionContext, warehouse: Warehouse) -> AssetEvents:
    from nba_failures.analytics.team_games import team_offense

    recorder, start, end = start_run(context, TEAM_OFFENSE)
    schedule, parsed = _parsed_box_rows(warehouse, recorder, start, end)
    rows, failures = team_offense(parsed, schedule)
    recorder.record_frame(failures)
    missing = int((failures["failure_category"] == "MISSING_RAW_DATA").sum()) if len(failures) else 0
    yield from publish(context, warehouse, recorder, rows, start, end, RowAccounting(2 * len(schedule), missing))


@processor_asset(
    TEAM_DEFENSE, group="analytics", deps=[nbac_gamebook_player_stats, player_registry, nbac_schedule],
    description="One row per team per game: what its opponent scored (nba_analytics.team_defense_game_summary).",
)  # fmt: skip
def team_defense_game_summary(context: AssetExecutionContext, warehouse: Warehouse) -> AssetEvents:
    from nba_failures.analytics.team_games import team_defense, team_offense

    recorder, start, end = start_run(context, TEAM_DEFENSE)
    schedule, parsed = _parsed_box_rows(warehouse, recorder, start, end)
    offense, _ = team_offense(parsed, schedule)
    rows, failures = team_defense(offense, schedule)
    recorder.record_frame(failures)
    yield from publish(context, warehouse, recorder, rows, start, end, RowAccounting(2 * len(schedule), len(failures)))


@processor_asset(
    UPCOMING_CONTEXT, group="analytics", deps=[player_game_summary, nbac_gamebook_player_stats, player_registry, nbac_schedule],
    description="Rest and recent form of each dressed player, from earlier games (nba_analytics.upcoming_player_game_context).",
)  # fmt: skip
def upcoming_player_game_context(context: AssetExecutionContext, warehouse: Warehouse) -> AssetEvents:
    from nba_failures.analytics.upcoming_context import game_rosters, upcoming_context

    recorder, start, end = start_run(context, UPCOMING_CONTEXT)
    _, parsed = _parsed_box_rows(warehouse, recorder, start, end)
    season_start = daily_partitions.start.date()
    history = warehouse.read(PLAYER_GAME_SUMMARY, season_start, end)
    roster = game_rosters(parsed)
    rows, failures = upcoming_context(roster, history, warehouse.read(NBAC_SCHEDULE, season_start, end))
    recorder.record_frame(failures)
    # Every dressed player gets his row; a short history is a failure recorded beside the row, not instead of it.
    yield from publish(context, warehouse, recorder, rows, start, end, RowAccounting(len(roster), 0))
