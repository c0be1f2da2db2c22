"""DNP vs DATA_GAP: why a player's games are missing, decided from three independent sources.

Expected games come from the schedule (his team at each date), actual games from `player_game_summary`,
and the raw box score decides each missing game: listed ACTIVE → our data lost him (gap); listed
DNP / INACTIVE / OUT, or absent from a box score that landed → he did not play; box score not landed →
gap, because absence of evidence is not evidence of absence. The system we replace read "actual" from
the raw table it then re-checked, so it could never find a gap.

Everything here is set-based: whole frames in, whole frames out, whatever the number of failures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nba_failures.failures.records import EntityType, FailureCategory, FailureType
from nba_failures.frames import GROUP_KEY_SPAN, day_numbers, empty_lists, lists_by_key, object_column, value_as_of
from nba_failures.landing.contract import NOT_PLAYED_STATUSES, PLAYED_STATUS, game_date_of

# Player failures whose cause is "games are missing": these get the three-source check.
COMPLETENESS_CATEGORIES = frozenset({FailureCategory.INCOMPLETE_DATA.value, FailureCategory.STALE_DATA.value})

# Every other category has one meaning whatever the entity: data that exists (or will) and that we did not
# get or could not join is a gap; too little history is expected; wrong delivered input needs a new delivery.
_TYPE_BY_CATEGORY = {
    FailureCategory.REGISTRY_LOOKUP_FAILED: FailureType.DATA_GAP,
    FailureCategory.MISSING_RAW_DATA: FailureType.DATA_GAP,
    FailureCategory.MISSING_DEPENDENCY: FailureType.DATA_GAP,
    FailureCategory.MISSING_UPSTREAM_IN_BACKFILL: FailureType.DATA_GAP,
    FailureCategory.MISSING_DATA: FailureType.DATA_GAP,
    FailureCategory.UPSTREAM_INCOMPLETE: FailureType.DATA_GAP,
    FailureCategory.STALE_CACHE: FailureType.DATA_GAP,
    FailureCategory.INCOMPLETE_DATA: FailureType.DATA_GAP,
    FailureCategory.STALE_DATA: FailureType.DATA_GAP,
    FailureCategory.INSUFFICIENT_DATA: FailureType.INSUFFICIENT_HISTORY,
    FailureCategory.EXPECTED_INCOMPLETE: FailureType.INSUFFICIENT_HISTORY,
    FailureCategory.PROCESSING_ERROR: FailureType.BAD_INPUT,
    FailureCategory.VALIDATION_ERROR: FailureType.BAD_INPUT,
    FailureCategory.FEATURE_VALIDATION_ERROR: FailureType.BAD_INPUT,
    FailureCategory.EXTRACTION_FAILED: FailureType.BAD_INPUT,
    FailureCategory.SCHEMA_DRIFT: FailureType.BAD_INPUT,
    FailureCategory.CALCULATION_ERROR: FailureType.BAD_INPUT,
    FailureCategory.MODEL_ERROR: FailureType.BAD_INPUT,
}

# Failures that only say "an upstream row is missing": they are what the upstream failure is.
INHERITING_CATEGORIES = frozenset({FailureCategory.UPSTREAM_INCOMPLETE.value, FailureCategory.MISSING_DATA.value})
_MAX_INHERITANCE_DEPTH = 8
_VERDICT_LISTS = ("gap_game_ids", "gap_game_dates", "dnp_reasons")

CLASSIFICATION_COLUMNS = (
    "failure_type", "is_correctable", "classification_reason", "gap_game_ids", "gap_game_dates", "dnp_reasons",
    "raw_data_checked",
)  # fmt: skip


# What the check needs of player_game_summary.
SUMMARY_EVIDENCE_COLUMNS = ("player_lookup", "game_id", "game_date", "team_abbr")


@dataclass(frozen=True)
class CompletenessEvidence:
    """The three sources, each read once for the whole set of failures.

    schedule: game_id, game_date, home_abbr, away_abbr.
    player_games: player_lookup, game_id, game_date, team_abbr (from player_game_summary).
    raw_rows: game_id, game_date, entity_id, team_abbr, player_status, dnp_reason (raw gamebook listings, box_listings).
    recorded_failures: failures the root processors recorded on those days (where a window's gaps come from).
    """

    schedule: pd.DataFrame
    player_games: pd.DataFrame
    raw_rows: pd.DataFrame
    recorded_failures: pd.DataFrame


def needs_completeness_check(failures: pd.DataFrame) -> pd.Series:
    """The failures the three-source check explains: player failures of a completeness category."""
    return (failures["entity_type"] == EntityType.PLAYER.value) & failures["failure_category"].isin(COMPLETENESS_CATEGORIES)


def classify_failures(
    failures: pd.DataFrame, evidence: CompletenessEvidence, lookback_days: int, min_history_games: int
) -> pd.DataFrame:
    """`failures` (processor_failures rows) with the classification columns added.

    Player completeness failures get the three-source check over the `lookback_days` before their analysis
    date; team, game and date entities always play, so they are never DNP-classified; every other category
    takes its fixed type.
    """
    classified = failures.copy()
    # Per distinct category, not per row: FailureCategory(...) still refuses a value that is not one.
    type_of = {
        value: _TYPE_BY_CATEGORY.get(FailureCategory(value), FailureType.UNKNOWN).value
        for value in classified["failure_category"].unique()
    }
    reason_of = {
        value: f"failure_category {value} maps to {failure_type}"
        if FailureCategory(value) in _TYPE_BY_CATEGORY
        else f"no classification rule for failure_category {value}"
        for value, failure_type in type_of.items()
    }
    classified["failure_type"] = classified["failure_category"].map(type_of)
    classified["classification_reason"] = classified["failure_category"].map(reason_of)
    needs_check = needs_completeness_check(classified).to_numpy()
    checked, unchecked = np.flatnonzero(needs_check), np.flatnonzero(~needs_check)
    # One verdict per checked failure, in their order (player_completeness keeps it).
    verdicts = (
        player_completeness(
            classified.iloc[checked].loc[:, ["failure_key", "entity_id", "analysis_date", "missing_game_ids"]],
            evidence,
            lookback_days,
            min_history_games,
        )
        if len(checked)
        else None
    )
    for column in ("failure_type", "classification_reason", *_VERDICT_LISTS):
        if column in _VERDICT_LISTS:
            values = np.empty(len(classified), dtype=object)
            values[unchecked] = empty_lists(len(unchecked))  # a list of its own for every failure not checked
        else:
            values = classified[column].to_numpy(dtype=object, copy=True)
        if verdicts is not None:
            values[checked] = verdicts[column].to_numpy(dtype=object)
        classified[column] = values
    classified["raw_data_checked"] = needs_check
    classified = inherit_upstream_types(classified)
    correctable = {value: FailureType(value).correctable for value in classified["failure_type"].unique()}
    classified["is_correctable"] = classified["failure_type"].map(correctable)
    return classified


def processor_of_upstream(upstream_table: pd.Series) -> pd.Series:
    """The processor each `upstream_table` names (processors are named after their tables), "" where none is named."""
    codes, tables = pd.factorize(upstream_table)  # a missing table is code -1: the last name, ""
    names = np.array([*(table.split(".")[-1] if isinstance(table, str) else "" for table in tables), ""], dtype=object)
    return pd.Series(names[codes], index=upstream_table.index, dtype=object)


def inherit_upstream_types(classified: pd.DataFrame) -> pd.DataFrame:
    """A missing-upstream failure takes the type of the upstream processor's failure for the same entity and day
    (or for `upstream_entity_id`, when the missing row belongs to another entity, e.g. the opponent team).

    The feature store lacking a player's cache row because he did not play is not a data gap; because the
    cache lost a game he played, it is. Chains (feature store → composite → cache) resolve level by level.
    Without an upstream failure to explain it, the missing row is a gap: a rerun may produce it.
    Updates `classified` (classify_failures' own copy) in place.
    """
    inherits = classified["failure_category"].isin(INHERITING_CATEGORIES) & classified["upstream_table"].notna()
    if not inherits.any():
        return classified
    upstream_processor = processor_of_upstream(classified["upstream_table"]).where(inherits)
    upstream_entity = (
        classified["upstream_entity_id"] if "upstream_entity_id" in classified else pd.Series(None, index=classified.index)
    )
    on = ["_upstream_processor", "analysis_date", "_upstream_entity"]
    # Only the join keys take part in the merges, not every column of every failure.
    keys = pd.DataFrame(
        {
            "_upstream_processor": upstream_processor,
            "analysis_date": classified["analysis_date"],
            "_upstream_entity": upstream_entity.fillna(classified["entity_id"]),
        }
    )
    for _ in range(_MAX_INHERITANCE_DEPTH):
        upstream = classified.loc[:, ["processor_name", "analysis_date", "entity_id", "failure_type"]].rename(
            columns={"processor_name": "_upstream_processor", "entity_id": "_upstream_entity", "failure_type": "_upstream_type"}
        )
        upstream_type = keys.merge(upstream.drop_duplicates(on), on=on, how="left")["_upstream_type"].set_axis(classified.index)
        found = inherits & upstream_type.notna()
        changed = found & (classified["failure_type"] != upstream_type)
        classified.loc[found, "failure_type"] = upstream_type[found]
        classified.loc[found, "classification_reason"] = (
            "inherits " + upstream_type[found] + " from the " + upstream_processor[found] + " failure of the same entity and day"
        )
        if not changed.any():
            break
    unexplained = inherits & ~classified["classification_reason"].str.startswith("inherits")
    classified.loc[unexplained, "classification_reason"] = (
        "no failure recorded upstream in "
        + classified.loc[unexplained, "upstream_table"]
        + " for this entity and day: the missing row is a gap a rerun may fill"
    )
    return classified


def player_completeness(
    checks: pd.DataFrame, evidence: CompletenessEvidence, lookback_days: int, min_history_games: int
) -> pd.DataFrame:
    """One verdict per (failure_key, entity_id = player, analysis_date): type, reason, gaps and DNP reasons.

    The games examined are the ones the processor recorded as missing, when it recorded them (its windows
    may reach further back than the lookback); otherwise his team's games in the lookback window. The
    verdict depends on the player, the day and those games only, so it is decided once per such triple
    however many processors failed him that day, and copied to each of their failures.
    """
    listed = checks["missing_game_ids"] if "missing_game_ids" in checks else [()] * len(checks)
    recorded = (tuple(sorted(ids)) if isinstance(ids, (list, tuple)) and ids else () for ids in listed)
    checks = checks.assign(recorded=object_column(recorded, len(checks)))
    triples = ["entity_id", "analysis_date", "recorded"]
    # Triples numbered in order of first appearance: triple i is decided under failure_key i.
    triple = checks.groupby(triples, sort=False, dropna=False).ngroup().to_numpy()
    pairs = checks.iloc[np.unique(triple, return_index=True)[1]].loc[:, triples].reset_index(drop=True)
    pairs["failure_key"] = np.arange(len(pairs))
    verdicts = _completeness_per_key(pairs, evidence, lookback_days, min_history_games).set_index("failure_key")
    per_check = verdicts.reindex(triple).reset_index(drop=True)
    per_check.insert(0, "failure_key", checks["failure_key"].to_numpy())
    return per_check.loc[
        :, ["failure_key", "failure_type", "classification_reason", "gap_game_ids", "gap_game_dates", "dnp_reasons"]
    ]


def _completeness_per_key(
    checks: pd.DataFrame, evidence: CompletenessEvidence, lookback_days: int, min_history_games: int
) -> pd.DataFrame:
    """`player_completeness` for checks with one `failure_key` each (and their `recorded` missing games)."""
    listings = _listings(evidence)
    games = _expected_games(checks, evidence, listings, lookback_days)
    recorded = checks[checks["recorded"].map(len) > 0]
    explicit = (
        recorded.loc[:, ["failure_key", "entity_id", "recorded"]]
        .explode("recorded")
        .rename(columns={"entity_id": "player_lookup", "recorded": "game_id"})
    )
    explicit["game_date"] = explicit["game_id"].map(game_date_of)
    examined = pd.concat([games[~games["failure_key"].isin(recorded["failure_key"])], explicit], ignore_index=True)
    played = evidence.player_games.loc[:, ["player_lookup", "game_id"]].drop_duplicates().assign(in_analytics=True)
    examined = examined.merge(played, on=["player_lookup", "game_id"], how="left")
    missing = examined[examined["in_analytics"].isna()].drop(columns="in_analytics")

    landed = set(evidence.raw_rows["game_id"])
    listing = evidence.raw_rows.loc[:, ["game_id", "entity_id", "player_status", "dnp_reason"]].rename(
        columns={"entity_id": "player_lookup"}
    )
    missing = missing.merge(listing.drop_duplicates(["game_id", "player_lookup"]), on=["game_id", "player_lookup"], how="left")
    not_landed = ~missing["game_id"].isin(landed)
    listed_active = missing["player_status"] == PLAYED_STATUS
    listed_out = missing["player_status"].isin(NOT_PLAYED_STATUSES)
    missing["is_gap"] = not_landed | listed_active
    missing["dnp_reason_text"] = (
        missing["game_id"]
        + ": "
        + missing["dnp_reason"]
        .where(listed_out & (missing["dnp_reason"].fillna("") != ""), missing["player_status"])
        .fillna("not in the box score")
    )

    per_check = checks.rename(columns={"entity_id": "player_lookup"}).merge(
        games.groupby("failure_key").size().rename("expected_games").reset_index(), on="failure_key", how="left"
    )
    per_check["expected_games"] = per_check["expected_games"].fillna(0).astype(int)
    gaps = missing[missing["is_gap"]]
    dnps = missing[~missing["is_gap"]]
    verdict_lists = (
        ("gap_game_ids", gaps, "game_id"),
        ("gap_game_dates", gaps, "game_date"),
        ("dnp_reasons", dnps, "dnp_reason_text"),
    )
    for name, rows, column in verdict_lists:
        lists = lists_by_key(rows, "failure_key", column, order="game_id").rename(name)
        per_check = per_check.merge(lists, on="failure_key", how="left")
    per_check = per_check.merge(
        gaps.loc[:, ["failure_key"]].assign(unlanded=~gaps["game_id"].isin(landed)).groupby("failure_key")["unlanded"].sum(),
        on="failure_key",
        how="left",
    )
    for column in _VERDICT_LISTS:
        listed = per_check[column].to_numpy(dtype=object)
        per_check[column] = object_column((values if values.__class__ is list else [] for values in listed), len(listed))
    known_team = per_check["failure_key"].isin(examined["failure_key"]) | per_check["player_lookup"].isin(
        listings["player_lookup"]
    )

    n_gaps = per_check["gap_game_ids"].map(len)
    n_dnps = per_check["dnp_reasons"].map(len)
    window = f"in the {lookback_days} days before the analysis date"
    verdict = pd.Series(FailureType.COMPLETE.value, index=per_check.index)
    reason = pd.Series(f"no expected game is missing {window} any more: the failure is stale", index=per_check.index)
    dnp_only = (n_gaps == 0) & (n_dnps > 0)
    verdict[dnp_only] = FailureType.PLAYER_DNP.value
    reason[dnp_only] = (
        per_check["player_lookup"]
        + " did not play "
        + n_dnps.astype(str)
        + " of "
        + per_check["expected_games"].astype(str)
        + f" team games {window}"
    )
    short = (n_gaps == 0) & (per_check["expected_games"] < min_history_games)
    verdict[short] = FailureType.INSUFFICIENT_HISTORY.value
    reason[short] = per_check["expected_games"].astype(str) + f" team games {window}, fewer than {min_history_games}"
    gap_only = (n_gaps > 0) & (n_dnps == 0)
    verdict[gap_only] = FailureType.DATA_GAP.value
    both = (n_gaps > 0) & (n_dnps > 0)
    verdict[both] = FailureType.MIXED.value
    gap_text = (
        n_gaps.astype(str)
        + " missing games he played ("
        + per_check["unlanded"].astype(float).fillna(0).astype(int).astype(str)
        + " with no raw box score landed), "
        + n_dnps.astype(str)
        + " he did not play, of "
        + per_check["expected_games"].astype(str)
        + f" team games {window}"
    )
    reason[gap_only | both] = gap_text[gap_only | both]
    named = per_check["recorded"].map(len) > 0
    reason[named] = (
        reason[named]
        + "; checked the "
        + per_check.loc[named, "recorded"].map(len).astype(str)
        + " games the processor recorded as missing"
    )
    verdict[~known_team] = FailureType.UNKNOWN.value
    reason[~known_team] = (
        "check could not run: "
        + per_check["player_lookup"]
        + " has no roster listing in the raw box scores or player_game_summary before the analysis date"
    )
    per_check["failure_type"] = verdict
    per_check["classification_reason"] = reason
    return per_check.loc[
        :, ["failure_key", "failure_type", "classification_reason", "gap_game_ids", "gap_game_dates", "dnp_reasons"]
    ]


def _listings(evidence: CompletenessEvidence) -> pd.DataFrame:
    """Every (player, date, team) the sources show him on a roster: raw listings of any status, and summaries."""
    raw = evidence.raw_rows.loc[:, ["entity_id", "game_date", "team_abbr"]].rename(columns={"entity_id": "player_lookup"})
    summary = evidence.player_games.loc[:, ["player_lookup", "game_date", "team_abbr"]]
    listings = pd.concat([raw, summary], ignore_index=True).drop_duplicates()
    return listings[listings["player_lookup"] != ""]


def _expected_games(
    checks: pd.DataFrame, evidence: CompletenessEvidence, listings: pd.DataFrame, lookback_days: int
) -> pd.DataFrame:
    """(failure_key, player_lookup, game_id, game_date) for his team's games in the lookback window.

    His team at a game's date is the team of his latest listing on or before that date (the earliest after
    it when none is before), so a player traded inside the window is expected in each team's games
    only while he was on it.
    """
    listings = listings.assign(_at=lambda f: pd.to_datetime(f["game_date"])).sort_values("_at")
    checks = checks.rename(columns={"entity_id": "player_lookup"})
    checks = checks.assign(window_start=(pd.to_datetime(checks["analysis_date"]) - pd.Timedelta(days=lookback_days)).dt.date)

    # Candidate teams: any team he is listed with up to the analysis date, i.e. first listed with before it
    # (one row per player and team, not per listing: the join stays the size of the failures). The listings are in
    # date order, so a pair's first row is its first listing.
    first_listed = listings.drop_duplicates(["player_lookup", "team_abbr"]).loc[:, ["player_lookup", "team_abbr", "game_date"]]
    candidates = checks.merge(first_listed, on="player_lookup")
    candidates = candidates[candidates["game_date"] < candidates["analysis_date"]]
    candidates = candidates.loc[:, ["failure_key", "player_lookup", "analysis_date", "window_start", "team_abbr"]]

    schedule = evidence.schedule
    team_games = pd.concat(
        [schedule.loc[:, ["game_id", "game_date"]].assign(team_abbr=schedule[side]) for side in ("home_abbr", "away_abbr")],
        ignore_index=True,
    )
    games = _team_games_between(candidates, team_games)
    if games.empty:
        return games.loc[:, ["failure_key", "player_lookup", "game_id", "game_date"]]

    # `listings` are in date order: two listings of one day are told apart as they always have been.
    team_then = value_as_of(
        games["player_lookup"], games["_day"].to_numpy(), listings, "player_lookup", "team_abbr", earliest_after=True
    )
    games = games[team_then == games["team_abbr"].to_numpy()]
    return games.loc[:, ["failure_key", "player_lookup", "game_id", "game_date"]].drop_duplicates()


def _team_games_between(candidates: pd.DataFrame, team_games: pd.DataFrame) -> pd.DataFrame:
    """`candidates` joined with the games of their team with `window_start <= game_date < analysis_date`
    (and `_day`, the game date as a day number).

    The same rows as a join on the team filtered by date, without building the whole join: team games are
    sorted by (team, date) once and each candidate takes its contiguous slice (two binary searches).
    """
    teams = pd.Index(team_games["team_abbr"].unique())
    candidates = candidates[candidates["team_abbr"].isin(teams)]
    team_games = team_games.assign(
        _team=teams.get_indexer(team_games["team_abbr"]),
        _day=day_numbers(team_games["game_date"]),
    )
    team_games = team_games.sort_values(["_team", "_day"], kind="stable", ignore_index=True)
    keys = team_games["_team"].to_numpy(np.int64) * GROUP_KEY_SPAN + team_games["_day"].to_numpy(np.int64)
    team = teams.get_indexer(candidates["team_abbr"]).astype(np.int64) * GROUP_KEY_SPAN
    first = np.searchsorted(keys, team + day_numbers(candidates["window_start"]), side="left")
    last = np.searchsorted(keys, team + day_numbers(candidates["analysis_date"]), side="left")
    counts = np.clip(last - first, 0, None)
    rows = np.repeat(np.arange(len(candidates)), counts)
    starts = np.repeat(first - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    picked = starts + np.arange(counts.sum())
    joined = candidates.iloc[rows].reset_index(drop=True)
    chosen = team_games.iloc[picked].reset_index(drop=True)
    return pd.concat([joined, chosen.loc[:, ["game_id", "game_date", "_day"]]], axis=1)
