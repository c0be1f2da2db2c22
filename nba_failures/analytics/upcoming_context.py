"""upcoming_player_game_context: rest and recent form of each dressed player, from earlier games only."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from nba_failures.failures.records import FailureCategory
from nba_failures.frames import GROUP_KEY_SPAN
from nba_failures.landing.contract import PLAYED_STATUS

DRESSED_STATUSES = (PLAYED_STATUS, "DNP")
MIN_GAMES_FOR_FORM = 3
TEAM_WINDOW_GAMES = 10


def game_rosters(parsed: pd.DataFrame) -> pd.DataFrame:
    """Players dressed for each team-game (ACTIVE or DNP): the game-day roster minus the inactive list."""
    dressed = parsed[parsed["player_status"].isin(DRESSED_STATUSES) & (parsed["entity_id"] != "")]
    roster = dressed.loc[:, ["game_date", "game_id", "entity_id", "team_abbr", "opponent_abbr", "home_away"]]
    return roster.rename(columns={"entity_id": "player_lookup"}).drop_duplicates(["game_id", "team_abbr", "player_lookup"])


def team_game_numbers(schedule: pd.DataFrame) -> pd.DataFrame:
    """(game_id, team_abbr, game_date, team_game_number): each team's games numbered 1.. in date order."""
    sides = pd.concat(
        [schedule.loc[:, ["game_id", "game_date"]].assign(team_abbr=schedule[side]) for side in ("home_abbr", "away_abbr")],
        ignore_index=True,
    ).sort_values(["team_abbr", "game_date", "game_id"])
    sides["team_game_number"] = sides.groupby("team_abbr").cumcount() + 1
    return sides


def _last_before(left: pd.DataFrame, right: pd.DataFrame, on_left: str, by: str) -> pd.DataFrame:
    """For each left row, the right row of the same `by` with the latest `game_date` strictly before `on_left`."""
    left = left.assign(_at=pd.to_datetime(left[on_left])).sort_values("_at")
    right = right.assign(_at=pd.to_datetime(right["game_date"])).drop(columns="game_date").sort_values("_at")
    merged = pd.merge_asof(left, right, on="_at", by=by, allow_exact_matches=False, direction="backward")
    return merged.drop(columns="_at")


def upcoming_context(roster: pd.DataFrame, history: pd.DataFrame, schedule: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Context rows for `roster`, from `history` (player_game_summary) strictly before each game date."""
    games = history.loc[:, ["player_lookup", "game_date", "game_id", "team_abbr", "points", "minutes"]].sort_values(
        ["player_lookup", "game_date"]
    )
    per_player = games.groupby("player_lookup")
    form = games.assign(
        games_played=per_player.cumcount() + 1,
        last_game_date=games["game_date"],
        **{f"l{n}_avg_{stat}": _rolling_mean_per_player(games, stat, n) for n in (5, 10) for stat in ("points", "minutes")},
    ).drop(columns=["game_id", "team_abbr", "points", "minutes"])

    context = _last_before(roster, form, "game_date", "player_lookup")
    context["games_played_before"] = context["games_played"].fillna(0).astype(int)
    week_ago = roster.assign(week_start=roster["game_date"].map(lambda d: d - dt.timedelta(days=7)))
    before_week = _last_before(
        week_ago, form.loc[:, ["player_lookup", "game_date", "games_played"]], "week_start", "player_lookup"
    )
    before_week = before_week.rename(columns={"games_played": "played_before_week"}).loc[
        :, ["game_id", "player_lookup", "played_before_week"]
    ]
    context = context.merge(before_week, on=["game_id", "player_lookup"], how="left")
    context["games_last_7_days"] = context["games_played_before"] - context["played_before_week"].fillna(0).astype(int)
    rest = pd.to_datetime(context["game_date"]) - pd.to_datetime(context["last_game_date"])
    context["days_rest"] = rest.dt.days.astype("Int64")
    context["back_to_back"] = (context["days_rest"] == 1).astype("boolean")

    context = context.merge(_team_window_completeness(roster, games, schedule), on=["game_id", "player_lookup"], how="left")

    short = (
        context[context["games_played_before"] < MIN_GAMES_FOR_FORM]
        .assign(
            failure_category=FailureCategory.INSUFFICIENT_DATA.value,
            reason=lambda f: (
                f["player_lookup"]
                + " has "
                + f["games_played_before"].astype(str)
                + " games played before "
                + f["game_date"].astype(str)
                + f"; form needs {MIN_GAMES_FOR_FORM}"
            ),
            expected_count=MIN_GAMES_FOR_FORM,
            actual_count=lambda f: f["games_played_before"],
        )
        .rename(columns={"game_date": "analysis_date", "player_lookup": "entity_id"})
    )
    return context, short


def _team_window_completeness(roster: pd.DataFrame, games: pd.DataFrame, schedule: pd.DataFrame) -> pd.DataFrame:
    """Of his current team's last 10 games before the day (expected), how many he has a row for (actual)."""
    numbers = team_game_numbers(schedule)
    current = roster.merge(numbers.loc[:, ["game_id", "team_abbr", "team_game_number"]], on=["game_id", "team_abbr"], how="left")
    current["team_games_before"] = current["team_game_number"] - 1
    current["team_games_last_10"] = current["team_games_before"].clip(upper=TEAM_WINDOW_GAMES)
    his = games.merge(numbers.loc[:, ["game_id", "team_abbr", "team_game_number"]], on=["game_id", "team_abbr"])
    inside = current.loc[:, ["game_id", "player_lookup"]].assign(played_of_team_last_10=_games_in_window(current, his))
    played = inside.groupby(["game_id", "player_lookup"])["played_of_team_last_10"].sum()
    played = played[played > 0].reset_index()
    current = current.merge(played, on=["game_id", "player_lookup"], how="left")
    current["played_of_team_last_10"] = current["played_of_team_last_10"].fillna(0).astype(int)
    current["completeness_l10_pct"] = (
        100 * current["played_of_team_last_10"] / current["team_games_last_10"].where(current["team_games_last_10"] > 0)
    )
    return current.loc[:, ["game_id", "player_lookup", "team_games_last_10", "played_of_team_last_10", "completeness_l10_pct"]]


def _games_in_window(current: pd.DataFrame, his: pd.DataFrame) -> np.ndarray:
    """For each `current` row, his rows (same player and team) with team_game_number in
    (team_games_before - TEAM_WINDOW_GAMES, team_games_before]: two binary searches per row over his
    games sorted by (player, team, number), instead of joining every earlier game of the season."""
    pairs = pd.MultiIndex.from_frame(his.loc[:, ["player_lookup", "team_abbr"]]).unique()
    his_codes = pairs.get_indexer(pd.MultiIndex.from_frame(his.loc[:, ["player_lookup", "team_abbr"]])).astype(np.int64)
    keys = np.sort(his_codes * GROUP_KEY_SPAN + his["team_game_number"].to_numpy(np.int64))
    codes = pairs.get_indexer(pd.MultiIndex.from_frame(current.loc[:, ["player_lookup", "team_abbr"]])).astype(np.int64)
    before = current["team_games_before"].to_numpy(dtype=float)
    known = (codes >= 0) & ~np.isnan(before)
    last = np.where(known, before, 0).astype(np.int64)
    upper = np.searchsorted(keys, codes * GROUP_KEY_SPAN + last, side="right")
    lower = np.searchsorted(keys, codes * GROUP_KEY_SPAN + last - TEAM_WINDOW_GAMES, side="right")
    return np.where(known, upper - lower, 0)


def _rolling_mean_per_player(games: pd.DataFrame, stat: str, games_in_window: int) -> pd.Series:
    """Mean of `stat` over each player's last `games_in_window` rows (rows in his game order), aligned with `games`.

    One grouped rolling pass (the same rolling kernel, restarted at each player) instead of a Python call per player.
    """
    values = games[stat].astype(float)
    means = values.groupby(games["player_lookup"], sort=False).rolling(games_in_window, min_periods=1).mean()
    return means.reset_index(level=0, drop=True).reindex(games.index)
