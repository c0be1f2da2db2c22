"""Phase 4 assets. Thin: read the window (and the season's history where a lookback needs it), call the pure
logic, publish rows and failures. A day whose upstream partition is absent is one DATE-level
MISSING_DEPENDENCY and is not processed, so its players are neither rows nor individual failures.

The pure logic (and pandas with it) is imported in the asset bodies: loading the code location only defines them.
"""

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from dagster import AssetExecutionContext

from nba_failures.analytics.assets import (
    parsed_box_rows,
    player_game_summary,
    team_defense_game_summary,
    upcoming_player_game_context,
)
from nba_failures.failures.recorder import FailureRecorder, ProcessorSpec
from nba_failures.failures.records import EntityType, Phase
from nba_failures.partitions import daily_partitions
from nba_failures.precompute.policy import PrecomputePolicy
from nba_failures.processing import AssetEvents, RowAccounting, processor_asset, publish, record_missing_days, start_run
from nba_failures.raw.assets import nbac_gamebook_player_stats, nbac_schedule, player_registry
from nba_failures.tables.analytics import PLAYER_GAME_SUMMARY, TEAM_DEFENSE_GAME_SUMMARY, UPCOMING_PLAYER_GAME_CONTEXT
from nba_failures.tables.failures import PROCESSOR_RUNS
from nba_failures.tables.precompute import (
    ML_FEATURE_STORE,
    PLAYER_COMPOSITE_FACTORS,
    PLAYER_DAILY_CACHE,
    PLAYER_SHOT_ZONE_ANALYSIS,
    TEAM_DEFENSE_ZONE_ANALYSIS,
)
from nba_failures.tables.raw import NBAC_SCHEDULE
from nba_failures.warehouse.base import Warehouse

if TYPE_CHECKING:  # annotations quoted, not postponed: Dagster checks an asset's `context` annotation as written
    import pandas as pd

DAILY_CACHE = ProcessorSpec("player_daily_cache", Phase.PRECOMPUTE, EntityType.PLAYER, PLAYER_DAILY_CACHE)
SHOT_ZONES = ProcessorSpec("player_shot_zone_analysis", Phase.PRECOMPUTE, EntityType.PLAYER, PLAYER_SHOT_ZONE_ANALYSIS)
DEFENSE_ZONES = ProcessorSpec("team_defense_zone_analysis", Phase.PRECOMPUTE, EntityType.TEAM, TEAM_DEFENSE_ZONE_ANALYSIS)
COMPOSITE = ProcessorSpec("player_composite_factors", Phase.PRECOMPUTE, EntityType.PLAYER, PLAYER_COMPOSITE_FACTORS)
FEATURE_STORE = ProcessorSpec("ml_feature_store", Phase.PRECOMPUTE, EntityType.PLAYER, ML_FEATURE_STORE)
PROCESSORS = (DAILY_CACHE, SHOT_ZONES, DEFENSE_ZONES, COMPOSITE, FEATURE_STORE)


def _skip_missing_days(
    recorder: FailureRecorder, schedule: "pd.DataFrame", start: dt.date, end: dt.date, present: dict[str, Iterable[dt.date]]
) -> set[dt.date]:
    """Game days of `[start, end)` on which an upstream (table name → days it has) has nothing: recorded, to be skipped.

    Phase 3 tables always have rows on a game day, so no rows means the partition is absent. A precompute
    table may rightly be empty early in the season, so for those `present` holds the days its processor ran.
    """
    scheduled = {day for day in schedule["game_date"] if start <= day < end}
    missing: set[dt.date] = set()
    for table, days in present.items():
        missing |= record_missing_days(recorder, scheduled, set(days), table)
    return missing


def _days_run(warehouse: Warehouse, processors: list[ProcessorSpec], start: dt.date, end: dt.date) -> dict[str, set[dt.date]]:
    """Table name → days of `[start, end)` its processor has run for (processor_runs, one read)."""
    runs = warehouse.read(PROCESSOR_RUNS, start, end, where_in={"processor_name": [p.name for p in processors]})
    return {p.table.qualified_name: set(runs.loc[runs["processor_name"] == p.name, "analysis_date"]) for p in processors}


def _roster(warehouse: Warehouse, start: dt.date, end: dt.date) -> "pd.DataFrame":
    """The dressed players of each day: the entities of every player processor."""
    return warehouse.read(UPCOMING_PLAYER_GAME_CONTEXT, start, end)


def _without(frame: "pd.DataFrame", column: str, days: set[dt.date]) -> "pd.DataFrame":
    return frame[~frame[column].isin(days)].reset_index(drop=True)


@processor_asset(
    DAILY_CACHE, group="precompute",
    deps=[upcoming_player_game_context, player_game_summary, nbac_schedule, nbac_gamebook_player_stats, player_registry],
    description=(
        "Completeness of each dressed player's L5/L10/L7d/L14d windows and his recent averages "
        "(nba_precompute.player_daily_cache)."
    ),
)  # fmt: skip
def player_daily_cache(context: AssetExecutionContext, warehouse: Warehouse, precompute_policy: PrecomputePolicy) -> AssetEvents:
    from nba_failures.precompute.daily_cache import player_daily_cache as build_daily_cache
    from nba_failures.precompute.daily_cache import roster_listings

    recorder, start, end = start_run(context, DAILY_CACHE)
    season_start = daily_partitions.start.date()
    schedule = warehouse.read(NBAC_SCHEDULE, season_start, end)
    roster = _roster(warehouse, start, end)
    player_games = warehouse.read(PLAYER_GAME_SUMMARY, season_start, end)
    present = {
        UPCOMING_PLAYER_GAME_CONTEXT.qualified_name: roster["game_date"],
        PLAYER_GAME_SUMMARY.qualified_name: player_games["game_date"],
    }
    roster = _without(roster, "game_date", _skip_missing_days(recorder, schedule, start, end, present))
    listings = roster_listings(parsed_box_rows(warehouse, season_start, end), player_games)
    rows, failures = build_daily_cache(roster, player_games, listings, schedule, precompute_policy)
    recorder.record_frame(failures)
    yield from publish(context, warehouse, recorder, rows, start, end, RowAccounting(len(roster), len(failures)))


@processor_asset(
    SHOT_ZONES, group="precompute", deps=[upcoming_player_game_context, player_game_summary, nbac_schedule],
    description="Each dressed player's two-point / three-point / free-throw scoring over his last 10 games played.",
)  # fmt: skip
def player_shot_zone_analysis(context: AssetExecutionContext, warehouse: Warehouse) -> AssetEvents:
    from nba_failures.precompute.shot_zones import player_shot_zones

    recorder, start, end = start_run(context, SHOT_ZONES)
    roster = _roster(warehouse, start, end)
    player_games = warehouse.read(PLAYER_GAME_SUMMARY, daily_partitions.start.date(), end)
    present = {
        UPCOMING_PLAYER_GAME_CONTEXT.qualified_name: roster["game_date"],
        PLAYER_GAME_SUMMARY.qualified_name: player_games["game_date"],
    }
    roster = _without(
        roster, "game_date", _skip_missing_days(recorder, warehouse.read(NBAC_SCHEDULE, start, end), start, end, present)
    )
    rows, failures = player_shot_zones(roster, player_games)
    recorder.record_frame(failures)
    yield from publish(context, warehouse, recorder, rows, start, end, RowAccounting(len(roster), len(failures)))


@processor_asset(
    DEFENSE_ZONES, group="precompute", deps=[team_defense_game_summary, nbac_schedule],
    description="What each team playing that day conceded, by zone, over its last 15 games.",
)  # fmt: skip
def team_defense_zone_analysis(context: AssetExecutionContext, warehouse: Warehouse) -> AssetEvents:
    from nba_failures.precompute.defense_zones import team_defense_zones

    recorder, start, end = start_run(context, DEFENSE_ZONES)
    schedule = warehouse.read(NBAC_SCHEDULE, start, end)
    defense_games = warehouse.read(TEAM_DEFENSE_GAME_SUMMARY, daily_partitions.start.date(), end)
    skipped = _skip_missing_days(
        recorder, schedule, start, end, {TEAM_DEFENSE_GAME_SUMMARY.qualified_name: defense_games["game_date"]}
    )
    schedule = _without(schedule, "game_date", skipped)
    rows, failures = team_defense_zones(schedule, defense_games)
    recorder.record_frame(failures)
    yield from publish(context, warehouse, recorder, rows, start, end, RowAccounting(2 * len(schedule), len(failures)))


@processor_asset(
    COMPOSITE, group="precompute",
    deps=[upcoming_player_game_context, player_shot_zone_analysis, team_defense_zone_analysis, nbac_schedule],
    description="Fatigue, shot-zone matchup against the opponent's defense, and pace for each dressed player.",
)  # fmt: skip
def player_composite_factors(context: AssetExecutionContext, warehouse: Warehouse) -> AssetEvents:
    from nba_failures.precompute.composite import composite_factors

    recorder, start, end = start_run(context, COMPOSITE)
    roster = _roster(warehouse, start, end)
    present = {
        UPCOMING_PLAYER_GAME_CONTEXT.qualified_name: roster["game_date"],
        **_days_run(warehouse, [SHOT_ZONES, DEFENSE_ZONES], start, end),
    }
    roster = _without(
        roster, "game_date", _skip_missing_days(recorder, warehouse.read(NBAC_SCHEDULE, start, end), start, end, present)
    )
    rows, failures = composite_factors(
        roster, warehouse.read(PLAYER_SHOT_ZONE_ANALYSIS, start, end), warehouse.read(TEAM_DEFENSE_ZONE_ANALYSIS, start, end)
    )
    recorder.record_frame(failures)
    yield from publish(context, warehouse, recorder, rows, start, end, RowAccounting(len(roster), len(failures)))


@processor_asset(
    FEATURE_STORE, group="precompute",
    deps=[upcoming_player_game_context, player_daily_cache, player_shot_zone_analysis, player_composite_factors, nbac_schedule],
    description="One validated feature vector per dressed player (nba_precompute.ml_feature_store).",
)  # fmt: skip
def ml_feature_store(context: AssetExecutionContext, warehouse: Warehouse) -> AssetEvents:
    from nba_failures.precompute.feature_store import feature_vectors

    recorder, start, end = start_run(context, FEATURE_STORE)
    roster = _roster(warehouse, start, end)
    present = {
        UPCOMING_PLAYER_GAME_CONTEXT.qualified_name: roster["game_date"],
        **_days_run(warehouse, [DAILY_CACHE, SHOT_ZONES, COMPOSITE], start, end),
    }
    roster = _without(
        roster, "game_date", _skip_missing_days(recorder, warehouse.read(NBAC_SCHEDULE, start, end), start, end, present)
    )
    inputs = (
        warehouse.read(table, start, end) for table in (PLAYER_DAILY_CACHE, PLAYER_SHOT_ZONE_ANALYSIS, PLAYER_COMPOSITE_FACTORS)
    )
    rows, failures = feature_vectors(roster, *inputs)
    recorder.record_frame(failures)
    yield from publish(context, warehouse, recorder, rows, start, end, RowAccounting(len(roster), len(failures)))
