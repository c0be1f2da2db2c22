"""player_composite_factors: fatigue, shot-zone matchup and pace for each dressed player."""

from __future__ import annotations

import pandas as pd

from nba_failures.failures.records import FailureCategory
from nba_failures.precompute.history import missing_upstream
from nba_failures.tables.precompute import PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS, ZONES

# Rest beyond this many days does not make a player any fresher (and no game yet this season counts as this).
FULL_REST_DAYS = 4
BUSY_WEEK_GAMES = 4


def composite_factors(
    roster: pd.DataFrame, shot_zones: pd.DataFrame, defense_zones: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows for `roster` players (upcoming_player_game_context rows) with a shot-zone row and both teams' defense rows.

    A player lacking any of them is one MISSING_DATA failure naming the (first) missing upstream table.
    """
    entities = roster.rename(columns={"game_date": "analysis_date"})
    entities = entities.loc[
        :,
        [
            "analysis_date",
            "player_lookup",
            "game_id",
            "team_abbr",
            "opponent_abbr",
            "days_rest",
            "back_to_back",
            "games_last_7_days",
        ],
    ]
    shares = [f"{zone}_point_share" for zone in ZONES]
    player = shot_zones.loc[:, ["analysis_date", "player_lookup", *shares]]
    opponent = defense_zones.loc[:, ["analysis_date", "team_abbr", *shares, "possessions_per_game"]].rename(
        columns={
            "team_abbr": "opponent_abbr",
            "possessions_per_game": "opponent_pace",
            **{share: f"allowed_{share}" for share in shares},
        }
    )
    team = defense_zones.loc[:, ["analysis_date", "team_abbr", "possessions_per_game"]].rename(
        columns={"possessions_per_game": "team_pace"}
    )
    present, failures = missing_upstream(
        entities,
        [
            (PLAYER_SHOT_ZONE_ANALYSIS.qualified_name, player, ["analysis_date", "player_lookup"]),
            (TEAM_DEFENSE_ZONE_ANALYSIS.qualified_name, opponent, ["analysis_date", "opponent_abbr"]),
            (TEAM_DEFENSE_ZONE_ANALYSIS.qualified_name, team, ["analysis_date", "team_abbr"]),
        ],
        FailureCategory.MISSING_DATA,
    )
    rows = (
        present.merge(player, on=["analysis_date", "player_lookup"])
        .merge(opponent, on=["analysis_date", "opponent_abbr"])
        .merge(team, on=["analysis_date", "team_abbr"])
    )

    rest = rows["days_rest"].astype(float).fillna(FULL_REST_DAYS).clip(upper=FULL_REST_DAYS)
    busy = rows["games_last_7_days"].astype(float).fillna(0).clip(upper=BUSY_WEEK_GAMES)
    rows["fatigue_score"] = (
        40 * rows["back_to_back"].fillna(False).astype(float) + 30 * busy / BUSY_WEEK_GAMES + 30 * (1 - rest / FULL_REST_DAYS)
    )
    for zone in ZONES:
        rows[f"{zone}_matchup"] = rows[f"{zone}_point_share"] * rows[f"allowed_{zone}_point_share"]
    rows["shot_zone_mismatch"] = sum(rows[f"{zone}_matchup"] for zone in ZONES)
    rows["expected_pace"] = (rows["team_pace"] + rows["opponent_pace"]) / 2
    rows["pace_differential"] = rows["expected_pace"] - rows["team_pace"]
    return rows, failures
