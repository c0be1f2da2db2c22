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

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from nba_failures.failures.classification import INHERITING_CATEGORIES
from nba_failures.failures.records import RETRIED_TYPES, EntityType, FailureCategory
from nba_failures.landing.contract import game_date_of

PREREQUISITE_COLUMNS = ("prerequisite_game_ids", "prerequisite_players", "root_failure_keys")
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


@dataclass
class _Needs:
    games: set[str]
    players: set[str]
    roots: set[str]

    def carried(self, own_key: str) -> _Needs:
        """What a follower of this failure inherits: its prerequisites, and the failures it follows, itself included
        (the follower rides with whichever of them is rerun, and waits for what they wait for)."""
        return _Needs(set(self.games), set(self.players), self.roots | {own_key})


def attach_prerequisites(classified: pd.DataFrame, recorded: pd.DataFrame, roots: RootProcessors) -> pd.DataFrame:
    """`classified` with `prerequisite_game_ids`, `prerequisite_players`, `root_failure_keys` (sorted lists).

    `recorded`: failures recorded by the root processors on earlier days (`RECORDED_FAILURE_COLUMNS`), where the
    roots of a window's gaps are. Only retried failures get prerequisites: nothing reruns the others.
    """
    classified = classified.copy()
    # Only retried failures have needs, and a follower only follows failures that have: the rest are never visited.
    is_retried = classified["failure_type"].isin(RETRIED_TYPES).tolist()
    # A column a caller's frame lacks (a list or an upstream it never has) reads as missing for every row.
    retried = classified.reindex(columns=list(_NEEDS_COLUMNS)).loc[is_retried]
    rows = list(retried.assign(analysis_date=_dates(retried["analysis_date"])).itertuples(index=False))
    known = pd.concat([recorded.loc[:, list(RECORDED_FAILURE_COLUMNS)], classified.loc[:, list(RECORDED_FAILURE_COLUMNS)]])
    raw_game_failure, player_day_failures = _root_index(known.drop_duplicates("failure_key"), roots)

    needs = {row.failure_key: _own_needs(row, raw_game_failure, player_day_failures) for row in rows}
    _carry_down_chains(rows, needs)

    retried_needs = [needs[row.failure_key] for row in rows]
    for column, field in zip(PREREQUISITE_COLUMNS, ("games", "players", "roots")):
        values = iter([sorted(needed) if (needed := getattr(need, field)) else [] for need in retried_needs])
        classified[column] = [next(values) if retried_row else [] for retried_row in is_retried]
    return classified


def _root_index(known: pd.DataFrame, roots: RootProcessors) -> tuple[dict[str, str], dict[tuple[str, dt.date], list[str]]]:
    raw = known[
        (known["processor_name"] == roots.raw_games)
        & (known["entity_type"] == _GAME)
        & (known["failure_category"] == _MISSING_RAW_DATA)
    ]
    raw_game_failure = dict(zip(raw["entity_id"], raw["failure_key"]))
    players = known[(known["processor_name"] == roots.player_games) & (known["entity_type"] == _PLAYER)]
    player_day_failures: dict[tuple[str, dt.date], list[str]] = defaultdict(list)
    for key, entity, day in zip(players["failure_key"], players["entity_id"], _dates(players["analysis_date"])):
        player_day_failures[(entity, day)].append(key)
    return raw_game_failure, player_day_failures


def _own_needs(row, raw_game_failure: dict[str, str], player_day_failures: dict[tuple[str, dt.date], list[str]]) -> _Needs:
    games: set[str] = set()
    if row.failure_category == _MISSING_RAW_DATA:
        games |= {row.entity_id} if row.entity_type == _GAME else set(_listed(row.missing_game_ids))
    gap_games = _listed(row.gap_game_ids)
    games |= set(gap_games)
    is_player = row.entity_type == _PLAYER
    roots = {raw_game_failure[game] for game in games if game in raw_game_failure} - {row.failure_key}
    if is_player:
        # A gap game that landed lacks his row because the summary failed him that day (registry, bad row).
        for game in gap_games:
            roots |= set(player_day_failures.get((row.entity_id, game_date_of(game)), ()))
    return _Needs(games, {row.entity_id} if is_player else set(), roots)


def _carry_down_chains(rows: list, needs: dict[str, _Needs]) -> None:
    """Followers take the needs of the failures they follow, level by level (feature store → composite → cache)."""
    by_entity: dict[tuple[str, dt.date, str], list[str]] = defaultdict(list)
    by_day: dict[tuple[str, dt.date], list[str]] = defaultdict(list)
    for row in rows:
        day = row.analysis_date
        by_entity[(row.processor_name, day, row.entity_id)].append(row.failure_key)
        by_day[(row.processor_name, day)].append(row.failure_key)
    followed: dict[str, list[str]] = {}
    for row in rows:
        upstream = row.upstream_table
        if not isinstance(upstream, str) or not upstream:
            continue
        processor, day = upstream.split(".")[-1], row.analysis_date
        if row.failure_category in INHERITING_CATEGORIES:
            entity = row.upstream_entity_id if isinstance(row.upstream_entity_id, str) else ""
            followed[row.failure_key] = by_entity.get((processor, day, entity or row.entity_id), [])
        elif row.entity_type == _DATE:
            # A day with no upstream rows follows every upstream failure of that day.
            followed[row.failure_key] = by_day.get((processor, day), [])
    base = {key: _Needs(set(needs[key].games), set(needs[key].players), set(needs[key].roots)) for key in followed}
    for _ in range(_MAX_CHAIN_DEPTH):
        changed = False
        for key, upstream_keys in followed.items():
            merged = _Needs(set(base[key].games), set(base[key].players), set(base[key].roots))
            for upstream_key in upstream_keys:
                if upstream_key in needs and upstream_key != key:
                    carried = needs[upstream_key].carried(upstream_key)
                    merged.games |= carried.games
                    merged.players |= carried.players
                    merged.roots |= carried.roots
            if merged != needs[key]:
                needs[key] = merged
                changed = True
        if not changed:
            break


def _listed(values) -> list[str]:
    """A list column's value (list, tuple or array), or nothing for a missing one."""
    if isinstance(values, list):
        return values
    if isinstance(values, tuple):
        return list(values)
    return values.tolist() if hasattr(values, "tolist") else []


def _dates(values: pd.Series) -> list[dt.date]:
    """A date column (dates, timestamps or ISO strings) as `datetime.date`s."""
    return list(pd.to_datetime(values).dt.date)
