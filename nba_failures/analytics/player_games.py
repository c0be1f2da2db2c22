"""player_game_summary: one typed row per player who played, or a failure naming him."""

from __future__ import annotations

import pandas as pd

from nba_failures.analytics.box_scores import PLAYED_STATUS
from nba_failures.failures.records import EntityType, FailureCategory
from nba_failures.landing.contract import ALIAS_SEPARATOR
from nba_failures.names import player_lookup


def registry_index(registry: pd.DataFrame) -> pd.DataFrame:
    """(snapshot_date, lookup) -> universal_player_id and the registry's own `registry_lookup`, over
    registry keys and normalized aliases (so 'Nikola Jokich' resolves to nikolajokic)."""
    keys = registry.loc[:, ["snapshot_date", "player_lookup", "universal_player_id"]].assign(registry_lookup=registry["player_lookup"])
    aliases = registry.loc[:, ["snapshot_date", "aliases", "universal_player_id"]].assign(registry_lookup=registry["player_lookup"])
    aliases["player_lookup"] = aliases["aliases"].fillna("").str.split(ALIAS_SEPARATOR, regex=False)
    aliases = aliases.explode("player_lookup")
    aliases["player_lookup"] = aliases["player_lookup"].fillna("").map(player_lookup)
    aliases = aliases[aliases["player_lookup"] != ""].loc[:, keys.columns]
    # A registry key wins over an alias that happens to normalize to the same lookup.
    return pd.concat([keys, aliases]).drop_duplicates(["snapshot_date", "player_lookup"], keep="first")


def summary_inputs(parsed: pd.DataFrame) -> pd.Series:
    """Rows player_game_summary answers for: players who played, and any row that is wrong.

    A valid DNP / INACTIVE / OUT row is excluded by definition (no summary row for a player who did not
    play); a wrong one (unknown status, a team not in the game…) is a failure, never silently excluded.
    """
    return (parsed["player_status"] == PLAYED_STATUS) | (parsed["problem"] != "")


def summarize_player_games(parsed: pd.DataFrame, registry: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows for ACTIVE players that parse and resolve in the day's registry; a failure for each input that does not."""
    inputs = parsed[summary_inputs(parsed)]
    index = registry_index(registry).rename(columns={"snapshot_date": "game_date", "player_lookup": "entity_id"})
    resolved = inputs.merge(index, on=["game_date", "entity_id"], how="left")

    invalid = resolved["problem"] != ""
    unregistered = ~invalid & resolved["universal_player_id"].isna()
    summary = resolved[~invalid & ~unregistered].assign(player_lookup=lambda f: f["registry_lookup"])

    bad = resolved[invalid].assign(
        failure_category=FailureCategory.PROCESSING_ERROR.value,
        reason=lambda f: f["source_file"] + " line " + f["source_line"].astype(str) + ": " + f["problem"],
    )
    missing = resolved[unregistered].assign(
        failure_category=FailureCategory.REGISTRY_LOOKUP_FAILED.value,
        reason=lambda f: "player '" + f["player_name"] + "' (" + f["entity_id"] + ") is not in the player registry",
    )
    failures = pd.concat([bad, missing], ignore_index=True)
    # A row with no usable player identity is reported against its game, not as 'unknown'.
    nameless = failures["entity_id"] == ""
    failures.loc[nameless, "entity_id"] = failures.loc[nameless, "game_id"]
    failures["entity_type"] = EntityType.PLAYER.value
    failures.loc[nameless, "entity_type"] = EntityType.GAME.value
    failures = failures.rename(columns={"game_date": "analysis_date"})
    return summary, failures.loc[:, ["analysis_date", "entity_id", "entity_type", "failure_category", "reason", "source_file", "source_line"]]
