"""player_shot_zone_analysis: how each dressed player scored, by zone, over his last 10 games played."""

from __future__ import annotations

import pandas as pd

from nba_failures.precompute.history import short_samples, trailing_totals, zone_profile

SHOT_STATS = ("fg_made", "fg_attempted", "three_made", "three_attempted", "ft_made", "ft_attempted")
PLAYER_SAMPLE_GAMES = 10


def player_shot_zones(roster: pd.DataFrame, player_games: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows for `roster` players (upcoming_player_game_context rows) with 3+ earlier games played; INSUFFICIENT_DATA for the rest.

    Games he did not play have no player_game_summary row, so the sample is his last 10 games played.
    """
    entities = roster.rename(columns={"game_date": "analysis_date"}).loc[
        :, ["analysis_date", "player_lookup", "game_id", "team_abbr", "opponent_abbr"]
    ]
    totals = trailing_totals(entities, player_games, "player_lookup", SHOT_STATS, PLAYER_SAMPLE_GAMES)
    return short_samples(zone_profile(totals), "player_lookup", "games played")
