"""Set-based lookbacks shared by the precompute processors: whole frames in, one merge per question."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from nba_failures.failures.records import FailureCategory
from nba_failures.precompute.policy import MIN_SAMPLE_GAMES
from nba_failures.tables.precompute import ZONES

# What a pure function's failures frame carries (FailureRecorder.record_frame reads it).
FAILURE_COLUMNS = ["analysis_date", "entity_id", "failure_category", "reason", "expected_count", "actual_count"]


def last_before(entities: pd.DataFrame, history: pd.DataFrame, key: str) -> pd.DataFrame:
    """Each entity row (`key`, `analysis_date`) with the latest `history` row of its key with `game_date < analysis_date`."""
    left = entities.assign(_at=pd.to_datetime(entities["analysis_date"])).sort_values("_at")
    right = history.assign(_at=pd.to_datetime(history["game_date"])).drop(columns="game_date").sort_values("_at")
    merged = pd.merge_asof(left, right, on="_at", by=key, allow_exact_matches=False, direction="backward")
    return merged.drop(columns="_at").reset_index(drop=True)


def trailing_totals(entities: pd.DataFrame, history: pd.DataFrame, key: str, stats: Sequence[str], games: int) -> pd.DataFrame:
    """Entities with the sums of `stats` over their key's last `games` history rows before the analysis date.

    Adds `games_in_sample` (0 when there is no earlier row), `games_before` (all earlier rows) and
    `last_game_date`. Running sums minus the running sum `games` rows earlier: one pass, no per-entity loop.
    """
    ordered = history.sort_values([key, "game_date", "game_id"]).reset_index(drop=True)
    values = ordered.loc[:, list(stats)].astype(float)
    running = values.groupby(ordered[key]).cumsum()
    sums = running - running.groupby(ordered[key]).shift(games).fillna(0.0)
    count = ordered.groupby(key).cumcount() + 1
    totals = sums.assign(
        **{key: ordered[key], "game_date": ordered["game_date"], "last_game_date": ordered["game_date"]},
        games_before=count,
        games_in_sample=count.clip(upper=games),
    )
    merged = last_before(entities, totals, key)
    for column in ("games_before", "games_in_sample"):
        merged[column] = merged[column].fillna(0).astype(int)
    return merged


def zone_profile(totals: pd.DataFrame) -> pd.DataFrame:
    """Zone columns (tables.ZONES) from summed fg/three/ft made and attempted; shares of points and efficiency."""
    made = {
        "two_point": totals["fg_made"] - totals["three_made"],
        "three_point": totals["three_made"],
        "free_throw": totals["ft_made"],
    }
    attempted = {
        "two_point": totals["fg_attempted"] - totals["three_attempted"],
        "three_point": totals["three_attempted"],
        "free_throw": totals["ft_attempted"],
    }
    value = {"two_point": 2, "three_point": 3, "free_throw": 1}
    profile = totals.copy()
    profile["total_points"] = sum(value[zone] * made[zone] for zone in ZONES)
    scored = profile["total_points"].where(profile["total_points"] > 0)
    for zone in ZONES:
        profile[f"{zone}_made"] = made[zone]
        profile[f"{zone}_attempted"] = attempted[zone]
        profile[f"{zone}_points"] = value[zone] * made[zone]
        profile[f"{zone}_point_share"] = profile[f"{zone}_points"] / scored
        profile[f"{zone}_pct"] = made[zone] / attempted[zone].where(attempted[zone] > 0)
    return profile


def short_samples(frame: pd.DataFrame, entity: str, sample: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows with at least MIN_SAMPLE_GAMES games, INSUFFICIENT_DATA failures for the rest)."""
    short = frame["games_in_sample"] < MIN_SAMPLE_GAMES
    failures = frame[short].assign(
        failure_category=FailureCategory.INSUFFICIENT_DATA.value,
        reason=lambda f: (
            f[entity]
            + " has "
            + f["games_in_sample"].astype(str)
            + f" {sample} before "
            + f["analysis_date"].astype(str)
            + f"; the analysis needs {MIN_SAMPLE_GAMES}"
        ),
        expected_count=MIN_SAMPLE_GAMES,
        actual_count=lambda f: f["games_in_sample"],
        entity_id=lambda f: f[entity],
    )
    return frame[~short].reset_index(drop=True), failures.reindex(columns=FAILURE_COLUMNS)


def missing_upstream(
    entities: pd.DataFrame, upstreams: Sequence[tuple[str, pd.DataFrame, Sequence[str]]], category: FailureCategory
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Entities that have a row in every upstream, and one `category` failure per entity that lacks any.

    `upstreams` are (qualified table name, rows, join keys; the last key says whose row it is). The failure
    names the first missing table in `upstream_table` and every missing one in its reason.
    """
    labels = [f"{table} (by {keys[-1]})" for table, _, keys in upstreams]
    absent = [
        entities.loc[:, list(keys)]
        .merge(rows.loc[:, list(keys)].drop_duplicates().assign(_found=True), on=list(keys), how="left")["_found"]
        .isna()
        .to_numpy()
        for _, rows, keys in upstreams
    ]
    lacking = pd.Series(
        [[i for i, missing in enumerate(flags) if missing] for flags in zip(*absent)], index=entities.index, dtype=object
    )
    failed = lacking.map(len) > 0
    first_missing = lacking[failed].map(lambda found: found[0])
    # Whose row the first missing upstream lacks: that upstream's last key, read where it is the first missing one.
    whose = pd.Series(None, index=first_missing.index, dtype=object)
    for position, (_, _, keys) in enumerate(upstreams):
        at = first_missing.index[first_missing == position]
        whose[at] = entities.loc[at, keys[-1]]
    failures = entities[failed].assign(
        failure_category=category.value,
        upstream_table=first_missing.map(lambda position: upstreams[position][0]),
        upstream_entity_id=whose,
        reason="no row in "
        + lacking[failed].map(lambda found: ", ".join(labels[i] for i in found))
        + " for "
        + entities.loc[failed, "player_lookup"]
        + " on "
        + entities.loc[failed, "analysis_date"].astype(str),
        entity_id=lambda f: f["player_lookup"],
    )
    return entities[~failed].reset_index(drop=True), failures.reindex(
        columns=[*FAILURE_COLUMNS, "upstream_table", "upstream_entity_id"]
    )


def league_days_back(analysis_dates: pd.Series, game_days: Sequence[dt.date], days: int) -> pd.Series:
    """First day of a window of `days` league game days before each date: days without any league game
    (All-Star break, holidays) do not count, so the window reaches back over them.

    Early in the season the window starts at the season's first game day.
    """
    league = pd.Series(sorted(set(game_days)), dtype=object)
    if league.empty:
        return analysis_dates.copy()
    before = league.searchsorted(analysis_dates.to_numpy(), side="left")
    first = (before - days).clip(min=0)
    return pd.Series(league.to_numpy()[first], index=analysis_dates.index, dtype=object)
