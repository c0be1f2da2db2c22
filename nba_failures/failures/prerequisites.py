"""What a retried failure's fix needs: its prerequisites, and the root failures it follows. Pure.

A failure is worth a rerun only once the data that can fix it is there. That data is named here, per failure:

- the game files that must land: the game of a MISSING_RAW_DATA failure (its own, or the games a team missed),
  and the gap games of a player completeness failure;
- the registry entries that must exist: the player of a player-level failure (his rows exist only if the
  registry knows him);
- the failures it follows (`root_failure_keys`, every level up to the root): it exists because an upstream
  failure exists (the feature store lacks a cache row the cache could not build; a cache window lacks a game
  whose raw file has not landed, or whose player the summary could not resolve). A follower is rerun with its
  root and spends no attempt.

Prerequisites are carried down the whole chain (predictions → feature store → composite → cache → player game
summary → raw), so every follower waits for exactly what its root waits for.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nba_failures.failures.classification import INHERITING_CATEGORIES, processor_of_upstream
from nba_failures.failures.records import RETRIED_TYPES, EntityType, FailureCategory
from nba_failures.frames import as_dates, empty_lists, lists_by_key, object_column
from nba_failures.landing.contract import game_date_of

PREREQUISITE_COLUMNS = ("prerequisite_game_ids", "prerequisite_players", "root_failure_keys")
_KINDS = ("games", "players", "roots")  # of need, in the order of PREREQUISITE_COLUMNS
_MAX_CHAIN_DEPTH = 8
# What a root-candidate failure needs of the recorded failures of earlier days.
RECORDED_FAILURE_COLUMNS = ("failure_key", "processor_name", "analysis_date", "entity_id", "entity_type", "failure_category")
# What a retried failure's own needs and the chain it follows are read from.
_NEEDS_COLUMNS = (
    *RECORDED_FAILURE_COLUMNS,
    "missing_game_ids",
    "gap_game_ids",
    "upstream_table",
    "upstream_entity_id",
)
_GAME, _PLAYER, _DATE = EntityType.GAME.value, EntityType.PLAYER.value, EntityType.DATE.value
_MISSING_RAW_DATA = FailureCategory.MISSING_RAW_DATA.value


@dataclass(frozen=True)
class RootProcessors:
    """The processors whose failures are the roots of later windows' gaps (named by the caller: the core knows no phase)."""

    raw_games: str  # one GAME failure per scheduled game whose file has not landed
    player_games: str  # one PLAYER failure per player-game row that could not be built


def attach_prerequisites(classified: pd.DataFrame, recorded: pd.DataFrame, roots: RootProcessors) -> pd.DataFrame:
    """`classified` with `prerequisite_game_ids`, `prerequisite_players`, `root_failure_keys` (sorted lists).

    `recorded`: failures recorded by the root processors on earlier days (`RECORDED_FAILURE_COLUMNS`), where the
    roots of a window's gaps are. Only retried failures get prerequisites: nothing reruns the others. Worked out
    as joins over (failure_key, kind, value) rows, not failure by failure.
    """
    classified = classified.copy(deep=False)  # new columns on a copy of the frame, not of every column's values
    is_retried = classified["failure_type"].isin(RETRIED_TYPES).to_numpy()
    # A column a caller's frame lacks (a list or an upstream it never has) reads as missing for every row.
    retried = classified.reindex(columns=list(_NEEDS_COLUMNS)).loc[is_retried]
    retried = retried.assign(analysis_date=as_dates(retried["analysis_date"]))
    known = pd.concat([recorded.loc[:, list(RECORDED_FAILURE_COLUMNS)], classified.loc[:, list(RECORDED_FAILURE_COLUMNS)]])
    needs = _carry_down_chains(retried, _own_needs(retried, known.drop_duplicates("failure_key"), roots))
    for column, kind in zip(PREREQUISITE_COLUMNS, _KINDS):
        lists = lists_by_key(needs[needs["kind"] == kind], "failure_key", "value")
        classified[column] = _per_row(lists, classified["failure_key"], is_retried)
    return classified


def _per_row(lists: pd.Series, keys: pd.Series, is_retried: np.ndarray) -> np.ndarray:
    """Each row's list from `lists` (by failure key), an empty list of its own for a row that is not retried or needs
    nothing of that kind; only the rows that have a list are visited one by one."""
    per_row = empty_lists(len(keys))
    found = lists.index.get_indexer(keys) if len(lists) else np.full(len(keys), -1)
    has_list = np.flatnonzero((found >= 0) & is_retried)
    for row, values in zip(has_list.tolist(), lists.to_numpy()[found[has_list]]):
        per_row[row] = list(values)  # a list per row, even where two rows share a key
    return per_row


def _own_needs(retried: pd.DataFrame, known: pd.DataFrame, roots: RootProcessors) -> pd.DataFrame:
    """(failure_key, kind, value) of what each failure needs itself: its games, its player, the roots of its games."""
    missing_raw = retried["failure_category"] == _MISSING_RAW_DATA
    is_game = retried["entity_type"] == _GAME
    own_game = retried.loc[missing_raw & is_game, ["failure_key", "entity_id"]].rename(columns={"entity_id": "game_id"})
    gaps = _exploded(retried, "gap_game_ids")
    listed_missing = _exploded(retried[missing_raw & ~is_game], "missing_game_ids")
    games = pd.concat([own_game, listed_missing, gaps], ignore_index=True).loc[:, ["failure_key", "game_id"]]

    raw = known[
        (known["processor_name"] == roots.raw_games)
        & (known["entity_type"] == _GAME)
        & (known["failure_category"] == _MISSING_RAW_DATA)
    ].drop_duplicates("entity_id", keep="last")
    raw_roots = games.merge(raw.loc[:, ["entity_id", "failure_key"]].set_axis(["game_id", "value"], axis=1), on="game_id")
    raw_roots = raw_roots[raw_roots["value"] != raw_roots["failure_key"]]
    # A gap game that landed lacks his row because the summary failed him that day (registry, bad row).
    player_gaps = gaps[gaps["entity_type"] == _PLAYER]
    player_gaps = player_gaps.assign(day=_objects([game_date_of(game) for game in player_gaps["game_id"]], player_gaps.index))
    players = known[(known["processor_name"] == roots.player_games) & (known["entity_type"] == _PLAYER)]
    players = players.assign(day=as_dates(players["analysis_date"])).loc[:, ["entity_id", "day", "failure_key"]]
    players = players.rename(columns={"failure_key": "value"})
    day_roots = player_gaps.merge(players, on=["entity_id", "day"])

    own_player = retried.loc[retried["entity_type"] == _PLAYER, ["failure_key", "entity_id"]]
    return pd.concat(
        [
            games.rename(columns={"game_id": "value"}).assign(kind="games"),
            own_player.rename(columns={"entity_id": "value"}).assign(kind="players"),
            raw_roots.loc[:, ["failure_key", "value"]].assign(kind="roots"),
            day_roots.loc[:, ["failure_key", "value"]].assign(kind="roots"),
        ],
        ignore_index=True,
    ).drop_duplicates(ignore_index=True)


def _carry_down_chains(retried: pd.DataFrame, own: pd.DataFrame) -> pd.DataFrame:
    """Followers take the needs of the failures they follow, level by level (feature store → composite → cache), and
    those failures themselves as roots (the follower rides with whichever of them is rerun)."""
    upstream = processor_of_upstream(retried["upstream_table"])
    followers = retried[upstream != ""].assign(upstream_processor=upstream[upstream != ""])
    inheriting = followers["failure_category"].isin(INHERITING_CATEGORIES)
    named = followers["upstream_entity_id"].map(lambda entity: entity if isinstance(entity, str) else "")
    followers = followers.assign(upstream_entity=named.where(named != "", followers["entity_id"]))
    candidates = retried.loc[:, ["processor_name", "analysis_date", "entity_id", "failure_key"]].set_axis(
        ["upstream_processor", "analysis_date", "upstream_entity", "upstream_key"], axis=1
    )
    by_entity = followers[inheriting].merge(candidates, on=["upstream_processor", "analysis_date", "upstream_entity"])
    # A day with no upstream rows follows every upstream failure of that day.
    whole_days = followers[~inheriting & (followers["entity_type"] == _DATE)]
    by_day = whole_days.merge(candidates.drop(columns="upstream_entity"), on=["upstream_processor", "analysis_date"])
    edges = pd.concat([by_entity, by_day]).loc[:, ["failure_key", "upstream_key"]]
    edges = edges[edges["failure_key"] != edges["upstream_key"]].drop_duplicates()
    followed = edges.rename(columns={"upstream_key": "value"}).assign(kind="roots")
    needs = own
    for _ in range(_MAX_CHAIN_DEPTH):
        inherited = edges.merge(needs.rename(columns={"failure_key": "upstream_key"}), on="upstream_key")
        grown = pd.concat([own, followed, inherited.loc[:, ["failure_key", "value", "kind"]]], ignore_index=True)
        grown = grown.drop_duplicates(ignore_index=True)
        if len(grown) == len(needs):  # needs only grow: the same size is the fixed point
            break
        needs = grown
    return needs


def _exploded(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """(failure_key, entity_id, entity_type, game_id): a row per game id listed in `column` (list, tuple or array)."""
    lists = [_listed(values) for values in rows[column].to_numpy(dtype=object)]
    counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    game_ids = object_column(itertools.chain.from_iterable(lists), int(counts.sum()))
    listed = rows.iloc[np.repeat(np.arange(len(rows)), counts)].loc[:, ["failure_key", "entity_id", "entity_type"]]
    return listed.assign(game_id=game_ids).dropna(subset=["game_id"])


def _listed(values) -> list[str]:
    """A list column's value (list, tuple or array), or nothing for a missing one."""
    if isinstance(values, list):
        return values
    if isinstance(values, tuple):
        return list(values)
    return values.tolist() if hasattr(values, "tolist") else []


def _objects(values: list, index: pd.Index) -> pd.Series:
    return pd.Series(values, index=index, dtype=object)
