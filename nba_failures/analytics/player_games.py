"""player_game_summary: one typed row per player who played, or a failure naming him."""

from __future__ import annotations

import pandas as pd

from nba_failures.failures.records import EntityType, FailureCategory
from nba_failures.landing.contract import PLAYED_STATUS


def summary_inputs(parsed: pd.DataFrame) -> pd.Series:
    """Rows player_game_summary answers for: players who played, and any row that is wrong.

    A valid DNP / INACTIVE / OUT row is excluded by definition (no summary row for a player who did not
    play); a wrong one (unknown status, a team not in the game…) is a failure, never silently excluded.
    """
    return (parsed["player_status"] == PLAYED_STATUS) | (parsed["problem"] != "")


def summarize_player_games(parsed: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows for ACTIVE players that parse and name one registry player (box_listings resolved them against the
    day's registry); a failure for each input that does not."""
    resolved = parsed[summary_inputs(parsed)]
    invalid = resolved["problem"] != ""
    unregistered = ~invalid & (resolved["identity_problem"] != "")
    summary = resolved[~invalid & ~unregistered].assign(player_lookup=lambda f: f["entity_id"])

    bad = resolved[invalid].assign(
        failure_category=FailureCategory.PROCESSING_ERROR.value,
        reason=lambda f: f["source_file"] + " line " + f["source_line"].astype(str) + ": " + f["problem"],
    )
    missing = resolved[unregistered].assign(
        failure_category=FailureCategory.REGISTRY_LOOKUP_FAILED.value,
        reason=lambda f: "player '" + f["player_name"] + "' (" + f["entity_id"] + "): " + f["identity_problem"],
    )
    failures = pd.concat([bad, missing], ignore_index=True)
    # A row with no usable player identity is reported against its game, not as 'unknown'.
    nameless = failures["entity_id"] == ""
    failures.loc[nameless, "entity_id"] = failures.loc[nameless, "game_id"]
    failures["entity_type"] = EntityType.PLAYER.value
    failures.loc[nameless, "entity_type"] = EntityType.GAME.value
    failures = failures.rename(columns={"game_date": "analysis_date"})
    return summary, failures.loc[
        :, ["analysis_date", "entity_id", "entity_type", "failure_category", "reason", "source_file", "source_line"]
    ]
