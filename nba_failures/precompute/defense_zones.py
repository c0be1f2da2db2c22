"""team_defense_zone_analysis: what each team's opponents scored, by zone, over its last 15 games."""

from __future__ import annotations

import pandas as pd

from nba_failures.analytics.team_games import scheduled_team_games
from nba_failures.precompute.history import short_samples, trailing_totals, zone_profile
from nba_failures.precompute.shot_zones import SHOT_STATS

TEAM_SAMPLE_GAMES = 15


def team_defense_zones(schedule: pd.DataFrame, defense_games: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows for each team scheduled in `schedule` with 3+ earlier games in `defense_games`; INSUFFICIENT_DATA for the rest."""
    entities = (
        scheduled_team_games(schedule)
        .rename(columns={"game_date": "analysis_date"})
        .loc[:, ["analysis_date", "team_abbr", "opponent_abbr"]]
    )
    allowed = defense_games.rename(columns={f"opp_{stat}": stat for stat in (*SHOT_STATS, "possessions")})
    totals = trailing_totals(
        entities,
        allowed.loc[:, ["team_abbr", "game_date", "game_id", *SHOT_STATS, "possessions"]],
        "team_abbr",
        (*SHOT_STATS, "possessions"),
        TEAM_SAMPLE_GAMES,
    )
    profile = zone_profile(totals)
    games = profile["games_in_sample"].where(profile["games_in_sample"] > 0)
    profile["opp_points_per_game"] = profile["total_points"] / games
    profile["possessions_per_game"] = profile["possessions"] / games
    profile["defensive_rating"] = 100 * profile["total_points"] / profile["possessions"].where(profile["possessions"] > 0)
    return short_samples(profile, "team_abbr", "games")
