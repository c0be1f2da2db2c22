"""One identity per player, from the registry: which registry player a listed lookup is, decided here only.

A box score names a player by `player_lookup` (or, left blank, by his name, normalized like a lookup). A
registry key or any normalized alias of a registry row names that row's player. A lookup that names more than
one registry identity (an alias two players share, a key on two rows, a key that is another player's alias)
names no one: picking one would write one player's games under another's key or id. Every row listing it is a
REGISTRY_LOOKUP_FAILED whose reason lists the candidates, until a registry fix removes the ambiguity.

The registry is checked when it lands (`check_registry`); every processor resolves listings with
`resolve_players`, so from Phase 3 on a player is keyed by his registry `player_lookup` everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nba_failures.failures.records import DATE_LEVEL_ENTITY_ID, EntityType, FailureCategory
from nba_failures.frames import by_distinct_value
from nba_failures.landing.contract import ALIAS_SEPARATOR, REGISTRY_FILE
from nba_failures.names import PLACEHOLDER_IDS, player_lookup
from nba_failures.tables.raw import PLAYER_REGISTRY
from nba_failures.warehouse.base import Warehouse

REGISTRY_SOURCE = REGISTRY_FILE.as_posix()
NOT_REGISTERED = "not in the player registry"
# What resolution needs of nba_raw.player_registry.
IDENTITY_COLUMNS = ("snapshot_date", "player_lookup", "universal_player_id", "aliases")
# What a registry problem frame holds (FailureRecorder.record_frame reads it, with `analysis_date` added).
PROBLEM_COLUMNS = ["entity_id", "entity_type", "failure_category", "reason", "source_file", "source_line"]


def _naming_lookups(registry: pd.DataFrame) -> pd.DataFrame:
    """(snapshot_date, player_lookup = a lookup that names the row, registry_lookup, universal_player_id, row):
    each registry row under its key and under each normalized alias; `row` is the registry row's index."""
    rows = registry.assign(row=registry.index, registry_lookup=registry["player_lookup"])
    keys = rows.loc[:, ["snapshot_date", "player_lookup", "registry_lookup", "universal_player_id", "row"]]
    aliases = rows["aliases"].fillna("").str.split(ALIAS_SEPARATOR, regex=False).explode()
    normalized = aliases.map({alias: player_lookup(alias) for alias in aliases.unique()})
    by_alias = keys.loc[normalized.index].assign(player_lookup=normalized.to_numpy())
    named = pd.concat([keys, by_alias], ignore_index=True)
    # An alias that normalizes to its own row's key names that row once.
    return named[named["player_lookup"] != ""].drop_duplicates(["row", "snapshot_date", "player_lookup"], ignore_index=True)


def _with_ambiguity(named: pd.DataFrame) -> pd.DataFrame:
    """`named` with `ambiguity`: '' where its lookup names one registry identity that day, else whom it names."""
    keys = [named["snapshot_date"], named["player_lookup"]]
    distinct = ~named.duplicated(["snapshot_date", "player_lookup", "registry_lookup", "universal_player_id"])
    count = distinct.groupby(keys, dropna=False).transform("sum")
    ambiguous = count > 1
    candidates = pd.Series("", index=named.index, dtype=object)
    if ambiguous.any():
        candidate = (named["registry_lookup"] + " (" + named["universal_player_id"] + ")").where(distinct)[ambiguous]
        by_lookup = [key[ambiguous] for key in keys]
        candidates[ambiguous] = candidate.groupby(by_lookup, dropna=False).transform(
            lambda names: ", ".join(sorted(names.dropna()))
        )
    why = (
        "'"
        + named["player_lookup"]
        + "' names "
        + count.astype(str)
        + " registry identities: "
        + candidates
        + "; a registry fix must leave one"
    )
    return named.assign(ambiguity=why.where(ambiguous, ""))


def player_identities(registry: pd.DataFrame) -> pd.DataFrame:
    """Every lookup the registry snapshots (IDENTITY_COLUMNS) name, per snapshot_date: `registry_lookup` and
    `universal_player_id` of the one identity it names, or NA for both and `ambiguity` saying whom it names."""
    # Day codes instead of dates: a snapshot_date may be None (a registry as landed), which groupby would drop.
    day, days = pd.factorize(registry["snapshot_date"], use_na_sentinel=False)
    coded = registry.assign(snapshot_date=day)
    # The day snapshots of a range are mostly one registry: resolve each distinct content once, give it to its days.
    content = pd.util.hash_pandas_object(coded.loc[:, ["player_lookup", "universal_player_id", "aliases"]], index=False)
    fingerprint = content.groupby(day).agg(lambda hashes: hash(tuple(sorted(hashes))))
    resolved_as = fingerprint.index.to_series().groupby(fingerprint.to_numpy()).transform("first")
    named = _with_ambiguity(_naming_lookups(coded[np.isin(day, resolved_as.unique())]))
    identities = named.drop_duplicates(["snapshot_date", "player_lookup"], ignore_index=True).drop(columns="row")
    identities.loc[identities["ambiguity"] != "", ["registry_lookup", "universal_player_id"]] = pd.NA
    per_day = pd.DataFrame({"snapshot_date": resolved_as.index, "resolved_as": resolved_as.to_numpy()})
    identities = per_day.merge(identities.rename(columns={"snapshot_date": "resolved_as"}), on="resolved_as").drop(
        columns="resolved_as"
    )
    identities["snapshot_date"] = days.take(identities["snapshot_date"].to_numpy())
    return identities


def registry_index(registry: pd.DataFrame) -> pd.DataFrame:
    """(snapshot_date, player_lookup) -> universal_player_id and `registry_lookup`, for the lookups that name
    exactly one identity among a registry's usable rows (so 'Nikola Jokich' resolves to nikolajokic, a shared
    alias to no one): who a registry as landed (with a `snapshot_date` column) registers."""
    identities = player_identities(check_registry(registry).usable)
    return identities[identities["ambiguity"] == ""].drop(columns="ambiguity").reset_index(drop=True)


def read_player_identities(warehouse: Warehouse, start: dt.date, end: dt.date) -> pd.DataFrame:
    """`player_identities` of the registry snapshots of `[start, end)`: what each day's listings resolve against."""
    return player_identities(warehouse.read(PLAYER_REGISTRY, start, end, columns=IDENTITY_COLUMNS))


def resolve_players(listed: pd.DataFrame, identities: pd.DataFrame) -> pd.DataFrame:
    """For each row of `listed` (`game_date`, `player_lookup` as listed), aligned with it: `player_lookup`, his
    registry key (the listed lookup when it names no one), `universal_player_id` (NA unless resolved) and
    `identity_problem` ('' when resolved, else why not)."""
    keys = identities.rename(columns={"snapshot_date": "game_date"}).loc[
        :, ["game_date", "player_lookup", "registry_lookup", "universal_player_id", "ambiguity"]
    ]
    resolved = listed.loc[:, ["game_date", "player_lookup"]].merge(keys, on=["game_date", "player_lookup"], how="left")
    found = resolved["registry_lookup"].notna()
    problem = resolved["ambiguity"].where(resolved["ambiguity"].notna() & (resolved["ambiguity"] != ""), NOT_REGISTERED)
    return pd.DataFrame(
        {
            "player_lookup": resolved["registry_lookup"].where(found, resolved["player_lookup"]).to_numpy(),
            "universal_player_id": resolved["universal_player_id"].to_numpy(),
            "identity_problem": problem.where(~found, "").to_numpy(),
        },
        index=listed.index,
    )


@dataclass(frozen=True)
class RegistryCheck:
    """The landed registry's usable rows, and one failure row per problem (PROBLEM_COLUMNS)."""

    usable: pd.DataFrame
    problems: pd.DataFrame
    rejected_rows: int


def _line(row: int) -> int:
    """File line of registry row `row` (line 1 is the header)."""
    return int(row) + 2


def _usable_id(*candidates: str) -> str:
    """The first candidate that can name a registry row in a failure (FailureRecord refuses blanks and placeholders)."""
    return next((value for value in candidates if value.strip() and value.strip().lower() not in PLACEHOLDER_IDS), "")


def check_registry(registry: pd.DataFrame) -> RegistryCheck:
    """Validate the landed registry (REGISTRY_COLUMNS, text, file order).

    A row without a usable player_lookup (blank, a placeholder, or not in the normalized form listings use) or
    without a universal_player_id is rejected: VALIDATION_ERROR naming its line. Of the rest, every lookup
    naming more than one identity is a REGISTRY_LOOKUP_FAILED naming its lines; those rows are kept as landed,
    so each listing of that lookup fails with the same reason instead of silently resolving to one of them.
    (A key repeated with the same universal_player_id is one identity, not an ambiguity.)
    """
    lookup, player_id = registry["player_lookup"], registry["universal_player_id"].str.strip()
    normalized = lookup.map(player_lookup)
    why = pd.Series("", index=registry.index, dtype=object)
    why[normalized != lookup] = "player_lookup '" + lookup + "' is not a normalized lookup ('" + normalized + "')"
    why[lookup.str.strip().str.lower().isin(PLACEHOLDER_IDS)] = "player_lookup '" + lookup + "' is a placeholder"
    why[lookup.str.strip() == ""] = "no player_lookup"
    why[(why == "") & (player_id == "")] = "no universal_player_id"
    rejected = registry[why != ""]
    bad_rows = pd.DataFrame(
        {
            "entity_id": [
                _usable_id(*values)
                for values in zip(rejected["player_lookup"], rejected["universal_player_id"], rejected["player_name"])
            ],
            "failure_category": FailureCategory.VALIDATION_ERROR.value,
            "reason": [f"{REGISTRY_SOURCE} line {_line(row)}: {text}; row rejected" for row, text in why[why != ""].items()],
            "source_line": [_line(row) for row in rejected.index],
        }
    )
    bad_rows["entity_type"] = EntityType.PLAYER.value
    # A row with nothing to name it by is reported against the day.
    nameless = bad_rows["entity_id"] == ""
    bad_rows.loc[nameless, ["entity_id", "entity_type"]] = [DATE_LEVEL_ENTITY_ID, EntityType.DATE.value]

    usable = registry[why == ""]
    named = _with_ambiguity(_naming_lookups(usable.assign(snapshot_date=None)))
    ambiguous = (
        named[named["ambiguity"] != ""]
        .groupby("player_lookup")
        .agg(rows=("row", sorted), ambiguity=("ambiguity", "first"))
        .reset_index()
    )
    ambiguities = pd.DataFrame(
        {
            "entity_id": ambiguous["player_lookup"],
            "entity_type": EntityType.PLAYER.value,
            "failure_category": FailureCategory.REGISTRY_LOOKUP_FAILED.value,
            "reason": [
                f"{REGISTRY_SOURCE} lines {', '.join(str(_line(row)) for row in rows)}: {text}"
                for rows, text in zip(ambiguous["rows"], ambiguous["ambiguity"])
            ],
            "source_line": [_line(rows[0]) for rows in ambiguous["rows"]],
        }
    )
    problems = pd.concat([bad_rows, ambiguities], ignore_index=True).assign(source_file=REGISTRY_SOURCE)
    return RegistryCheck(usable=usable, problems=problems.loc[:, PROBLEM_COLUMNS], rejected_rows=len(rejected))


def box_listings(raw: pd.DataFrame, identities: pd.DataFrame) -> pd.DataFrame:
    """The raw rows with `player_status` normalized, `game_date` = the landing date, and who they list: the
    listing itself, not validated.

    The listed lookup is his player_lookup, or derived from his name when blank or a placeholder; resolved
    against that day's `identities` (identity.player_identities), `entity_id` is his registry key,
    `universal_player_id` his id and `identity_problem` '' (else the listed lookup, NA and why it names no one).
    Enough for the completeness check (who was listed, with what status, in which landed game), which reads
    only LISTING_COLUMNS and skips the stat validation of parse_box_rows.
    """
    rows = raw.copy()
    rows["player_status"] = by_distinct_value(rows["player_status"], lambda status: status.str.strip().str.upper())
    # 'NULL', 'None'… are no identity (a failure record refuses them as entity ids): treat them as blank.
    lookup = by_distinct_value(
        rows["player_lookup"], lambda ids: ids.str.strip().mask(lambda ids: ids.str.lower().isin(PLACEHOLDER_IDS), "")
    )
    names = rows["player_name"]
    derived = names.map({name: player_lookup(name) for name in names.unique()}).mask(lambda ids: ids.isin(PLACEHOLDER_IDS), "")
    rows["game_date"] = rows["landing_date"]
    listed = pd.DataFrame({"game_date": rows["game_date"], "player_lookup": lookup.where(lookup != "", derived)})
    identity = resolve_players(listed, identities)
    rows["entity_id"] = identity["player_lookup"]
    rows["universal_player_id"] = identity["universal_player_id"]
    rows["identity_problem"] = identity["identity_problem"].where(listed["player_lookup"] != "", "")
    return rows
