"""The bundled real season, read straight from the CSVs: the independent truth tests compare against."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pandas as pd

from nba_failures.settings import BUNDLED_SEASON_DIR


@lru_cache(maxsize=1)
def boxscores() -> pd.DataFrame:
    frame = pd.read_csv(BUNDLED_SEASON_DIR / "player_boxscores.csv.gz", keep_default_na=False, dtype=str)
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return frame


@lru_cache(maxsize=1)
def schedule() -> pd.DataFrame:
    frame = pd.read_csv(BUNDLED_SEASON_DIR / "schedule.csv.gz", keep_default_na=False, dtype=str)
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return frame


def team_games(team: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The team's scheduled games with `start <= game_date < end`."""
    games = schedule()
    mask = (
        ((games["home_abbr"] == team) | (games["away_abbr"] == team)) & (games["game_date"] >= start) & (games["game_date"] < end)
    )
    return games[mask].sort_values("game_id")


def player_rows(player_lookup: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    rows = boxscores()
    mask = (rows["player_lookup"] == player_lookup) & (rows["game_date"] >= start) & (rows["game_date"] < end)
    return rows[mask].sort_values("game_id")
