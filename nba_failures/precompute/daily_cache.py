"""player_daily_cache: multi-window completeness of each dressed player's history, and his recent averages.

Expected games are his team's scheduled games, his team at each game's date being the team of his latest
roster listing (any status: played, DNP or inactive) on or before it, so a traded player is expected in his
old team's games until the trade and in his new team's after. A team game before his first listing of the
season is not expected: he was not on a roster yet. Actual games are his `player_game_summary` rows among the
expected ones, so completeness can never exceed 100%.

Every window is a suffix of the same sequence (his team games before the day, newest first): L5 and L10 are
its first 5 and 10 games, L7d and L14d the games on or after a start day. So the windows are nested, and the
widest failing window holds every game missing from the narrower ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_failures.analytics.team_games import scheduled_team_games
from nba_failures.failures.records import FailureCategory
from nba_failures.frames import GROUP_KEY_SPAN, day_numbers, lists_by_key, value_as_of
from nba_failures.precompute.history import FAILURE_COLUMNS, league_days_back, trailing_totals
from nba_failures.precompute.policy import PrecomputePolicy
from nba_failures.tables.precompute import AVERAGED_STATS, DAY_WINDOWS, GAME_WINDOWS, WINDOWS

_KEYS = ["analysis_date", "player_lookup"]


def roster_listings(parsed: pd.DataFrame, player_games: pd.DataFrame) -> pd.DataFrame:
    """(player_lookup, game_date, team_abbr) for every valid raw listing of any status and every summary row."""
    raw = parsed[(parsed["problem"] == "") & (parsed["entity_id"] != "")]
    raw = raw.loc[:, ["entity_id", "game_date", "team_abbr"]].rename(columns={"entity_id": "player_lookup"})
    summary = player_games.loc[:, ["player_lookup", "game_date", "team_abbr"]]
    return pd.concat([raw, summary], ignore_index=True).drop_duplicates(ignore_index=True)


def his_team_games(listings: pd.DataFrame, schedule: pd.DataFrame) -> pd.DataFrame:
    """(player_lookup, game_id, game_date): the scheduled games of his team at each game's date."""
    team_games = scheduled_team_games(schedule).loc[:, ["game_id", "game_date", "team_abbr"]]
    candidates = listings.loc[:, ["player_lookup", "team_abbr"]].drop_duplicates().merge(team_games, on="team_abbr")
    # Listings in date order: two listings of one day are told apart as they always have been.
    by_date = listings.assign(_at=pd.to_datetime(listings["game_date"])).sort_values("_at")
    game_days = day_numbers(candidates["game_date"])
    team_then = value_as_of(candidates["player_lookup"], game_days, by_date, "player_lookup", "team_abbr")
    his = candidates.loc[team_then == candidates["team_abbr"].to_numpy(), ["player_lookup", "game_id", "game_date"]]
    return his.reset_index(drop=True)


def player_daily_cache(
    roster: pd.DataFrame, player_games: pd.DataFrame, listings: pd.DataFrame, schedule: pd.DataFrame, policy: PrecomputePolicy
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cache rows for the production-ready players of `roster` (upcoming_player_game_context rows), one failure for each other.

    One failure per player, by precedence: INSUFFICIENT_DATA (fewer than `min_expected_games` expected games in
    every window, e.g. early season), then STALE_DATA (no game played in `stale_after_days`), then INCOMPLETE_DATA
    (below `production_ready_pct` in any window). Its expected_count, actual_count and missing_game_ids are those
    of the widest failing window, which (windows being nested) is also the union of the missing games of every
    failing window; with no failing window, those of the widest window. `schedule` and `player_games` must reach
    back to the season start.
    """
    entities = roster.rename(columns={"game_date": "analysis_date"}).loc[:, [*_KEYS, "game_id", "team_abbr", "opponent_abbr"]]
    for window, days in DAY_WINDOWS.items():
        entities[f"{window}_window_start"] = league_days_back(entities["analysis_date"], schedule["game_date"], days)

    window_games = _window_games(entities, his_team_games(listings, schedule), player_games)
    counted = {window: window_games[f"in_{window}"] for window in WINDOWS}
    counts = pd.DataFrame({**{key: window_games[key] for key in _KEYS}, **{f"{w}_expected_games": m for w, m in counted.items()},
                           **{f"{w}_actual_games": m & window_games["played"] for w, m in counted.items()}})  # fmt: skip
    counts = counts.groupby(_KEYS, as_index=False).sum()
    cache = entities.merge(counts, on=_KEYS, how="left")
    for window in WINDOWS:
        expected, actual = (cache[f"{window}_{kind}_games"].fillna(0).astype(int) for kind in ("expected", "actual"))
        cache[f"{window}_expected_games"], cache[f"{window}_actual_games"] = expected, actual
        cache[f"{window}_completeness_pct"] = 100 * actual / expected.where(expected > 0)
    cache = _with_averages(cache, player_games)

    failing = pd.DataFrame({w: cache[f"{w}_completeness_pct"] < policy.production_ready_pct for w in WINDOWS})
    expected = pd.DataFrame({w: cache[f"{w}_expected_games"] for w in WINDOWS})
    cache["_figure_games"] = expected.where(failing).max(axis=1).fillna(expected.max(axis=1)).astype(int)
    cache = cache.merge(_missing_within(window_games, cache), on=_KEYS, how="left")
    cache["missing_game_ids"] = cache["missing_game_ids"].map(lambda ids: ids if isinstance(ids, list) else [])
    cache["expected_count"] = cache["_figure_games"]
    cache["actual_count"] = cache["_figure_games"] - cache["missing_game_ids"].map(len)

    insufficient = expected.max(axis=1) < policy.min_expected_games
    season_days = (pd.to_datetime(cache["analysis_date"]) - pd.Timestamp(min(schedule["game_date"]))).dt.days
    stale = ~insufficient & (cache["days_since_last_game"].fillna(season_days) >= policy.stale_after_days)
    incomplete = ~insufficient & ~stale & failing.any(axis=1)
    failures = pd.concat(
        [
            cache[insufficient].assign(
                failure_category=FailureCategory.INSUFFICIENT_DATA.value,
                reason=lambda f: (
                    f["player_lookup"]
                    + " has "
                    + f["expected_count"].astype(str)
                    + " team games before "
                    + f["analysis_date"].astype(str)
                    + f"; completeness needs {policy.min_expected_games}"
                ),
            ),
            cache[stale].assign(
                failure_category=FailureCategory.STALE_DATA.value,
                reason=lambda f: (
                    f["player_lookup"]
                    + " has not played in the "
                    + f["days_since_last_game"].map(
                        lambda d: f"{int(d)} days since his last game" if pd.notna(d) else "season so far"
                    )
                    + f" (stale after {policy.stale_after_days}); "
                    + _window_text(f)
                ),
            ),
            cache[incomplete].assign(
                failure_category=FailureCategory.INCOMPLETE_DATA.value,
                reason=lambda f: (
                    f["player_lookup"] + f" below {policy.production_ready_pct:g}% in " + _window_text(f, failing.loc[f.index])
                ),
            ),
        ],
        ignore_index=True,
    ).rename(columns={"player_lookup": "entity_id"})
    rows = cache[~(insufficient | stale | incomplete)].reset_index(drop=True)
    return rows, failures.reindex(columns=[*FAILURE_COLUMNS, "missing_game_ids"])


def _window_games(entities: pd.DataFrame, team_games: pd.DataFrame, player_games: pd.DataFrame) -> pd.DataFrame:
    """One row per (analysis date, player, his team game before the date inside any window) with its recency,
    windows and `played`. Games older than every window count for nothing, so they are never joined."""
    starts = [f"{window}_window_start" for window in DAY_WINDOWS]
    pairs = _recent_team_games(entities.loc[:, [*_KEYS, *starts]], team_games, starts)
    pairs = pairs.sort_values([*_KEYS, "game_date", "game_id"], ascending=[True, True, False, False], ignore_index=True)
    pairs["recency"] = pairs.groupby(_KEYS).cumcount() + 1
    for window, games in GAME_WINDOWS.items():
        pairs[f"in_{window}"] = pairs["recency"] <= games
    for window in DAY_WINDOWS:
        pairs[f"in_{window}"] = pairs["game_date"] >= pairs[f"{window}_window_start"]
    played = player_games.loc[:, ["player_lookup", "game_id"]].drop_duplicates()
    pairs = pairs.merge(played, on=["player_lookup", "game_id"], how="left", indicator="_played")
    return pairs.assign(played=pairs.pop("_played") == "both")


def _missing_within(window_games: pd.DataFrame, cache: pd.DataFrame) -> pd.DataFrame:
    """Games not played among each player's `_figure_games` most recent team games (a window, as windows are suffixes)."""
    games = window_games.merge(cache.loc[:, [*_KEYS, "_figure_games"]], on=_KEYS)
    missing = games[~games["played"] & (games["recency"] <= games["_figure_games"])]
    return lists_by_key(missing, list(_KEYS), "game_id").rename("missing_game_ids").reset_index()


def _with_averages(cache: pd.DataFrame, player_games: pd.DataFrame) -> pd.DataFrame:
    """Per-game averages over his last 5 and 10 games played: games he did not play are not zeros, they are absent."""
    for games in (5, 10):
        totals = trailing_totals(cache.loc[:, _KEYS], player_games, "player_lookup", AVERAGED_STATS, games)
        sample = totals["games_in_sample"]
        averages = totals.loc[:, _KEYS].assign(
            **{f"l{games}_avg_{stat}": totals[stat] / sample.where(sample > 0) for stat in AVERAGED_STATS},
            **{f"l{games}_games_averaged": sample},
        )
        cache = cache.merge(averages, on=_KEYS)
    # Any pass's totals know every earlier game, whatever its sample size.
    cache = cache.merge(totals.loc[:, [*_KEYS, "games_before", "last_game_date"]], on=_KEYS)
    cache["games_played_season"] = cache.pop("games_before")
    last = cache.pop("last_game_date")
    cache["days_since_last_game"] = (pd.to_datetime(cache["analysis_date"]) - pd.to_datetime(last)).dt.days.astype("Int64")
    return cache


def _window_text(frame: pd.DataFrame, failing: pd.DataFrame | None = None) -> pd.Series:
    """'l10 4/10 (40%), l14d 2/6 (33.3%)' for the failing windows (all windows when `failing` is None)."""
    parts = []
    for window in WINDOWS:
        text = (window + " " + frame[f"{window}_actual_games"].astype(str) + "/" + frame[f"{window}_expected_games"].astype(str)
                + " (" + frame[f"{window}_completeness_pct"].map(lambda p: "n/a" if pd.isna(p) else f"{p:.1f}%")
                + ")")  # fmt: skip
        parts.append(text.where(failing[window], "") if failing is not None else text)
    joined = (
        pd.concat(parts, axis=1).apply(lambda row: ", ".join(part for part in row if part), axis=1)
        if len(frame)
        else pd.Series(dtype=object)
    )
    missing = frame["missing_game_ids"].map(lambda ids: "; missing " + ", ".join(ids) if ids else "")
    return joined + missing


def _recent_team_games(entities: pd.DataFrame, team_games: pd.DataFrame, starts: list[str]) -> pd.DataFrame:
    """`entities` joined with his team games before the analysis date that are among his last
    max(GAME_WINDOWS) or on or after the earliest of `starts`: the rows of every window, as the windows
    are suffixes of his games (newest first). Same rows as the whole join filtered, without building it:
    games sorted by (player, date, game_id) once, each entity takes its contiguous slice."""
    players = pd.Index(team_games["player_lookup"].unique())
    entities = entities[entities["player_lookup"].isin(players)]
    games = team_games.assign(_player=players.get_indexer(team_games["player_lookup"]), _day=day_numbers(team_games["game_date"]))
    games = games.sort_values(["_player", "_day", "game_id"], kind="stable", ignore_index=True)
    keys = games["_player"].to_numpy(np.int64) * GROUP_KEY_SPAN + games["_day"].to_numpy(np.int64)
    player = players.get_indexer(entities["player_lookup"]).astype(np.int64) * GROUP_KEY_SPAN
    first_of_player = np.searchsorted(keys, player, side="left")
    before = np.searchsorted(keys, player + day_numbers(entities["analysis_date"]), side="left")
    earliest_start = np.min(np.column_stack([day_numbers(entities[start]) for start in starts]), axis=1)
    since = np.searchsorted(keys, player + earliest_start, side="left")
    first = np.maximum(first_of_player, np.minimum(before - max(GAME_WINDOWS.values()), since))
    counts = np.clip(before - first, 0, None)
    rows = np.repeat(np.arange(len(entities)), counts)
    picked = np.repeat(first - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(counts.sum())
    joined = entities.iloc[rows].reset_index(drop=True)
    return pd.concat([joined, games.loc[picked, ["game_id", "game_date"]].reset_index(drop=True)], axis=1)
