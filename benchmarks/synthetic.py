"""Synthetic INCOMPLETE_DATA player failures built from the real season in the warehouse.

Each failure is a real player on a real date he was dressed for a game (a row of
`upcoming_player_game_context`), recorded by one of the player processors: up to five failures per
(player, day), so 100,000 fit in one season (31,000 dressed player-days). Shuffled with a fixed seed, so
the first 1,000 and 10,000 are spread over the season like the 100,000.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_failures.failures.records import EntityType, FailureCategory, Phase, failure_key
from nba_failures.tables.analytics import UPCOMING_PLAYER_GAME_CONTEXT
from nba_failures.tables.failures import PROCESSOR_FAILURES
from nba_failures.warehouse.base import Warehouse

PROCESSORS = (
    ("player_daily_cache", Phase.PRECOMPUTE),
    ("player_composite_factors", Phase.PRECOMPUTE),
    ("player_shot_zone_analysis", Phase.PRECOMPUTE),
    ("ml_feature_store", Phase.PRECOMPUTE),
    ("upcoming_player_game_context", Phase.ANALYTICS),
)


def synthetic_failures(warehouse: Warehouse, count: int, seed: int = 8) -> pd.DataFrame:
    """`count` processor_failures rows (all columns), INCOMPLETE_DATA for real dressed players."""
    roster = warehouse.read(UPCOMING_PLAYER_GAME_CONTEXT).loc[:, ["game_date", "player_lookup"]].drop_duplicates()
    pairs = roster.merge(
        pd.DataFrame({"processor_name": [p for p, _ in PROCESSORS], "phase": [ph.value for _, ph in PROCESSORS]}), how="cross"
    )
    if count > len(pairs):
        raise ValueError(f"{count} failures asked, the season has {len(pairs)} (player, day, processor) triples")
    chosen = pairs.iloc[np.random.default_rng(seed).permutation(len(pairs))[:count]].reset_index(drop=True)
    category = FailureCategory.INCOMPLETE_DATA
    failures = pd.DataFrame(
        {
            "failure_key": [
                failure_key(processor, day, EntityType.PLAYER, player, category)
                for processor, day, player in zip(chosen["processor_name"], chosen["game_date"], chosen["player_lookup"])
            ],
            "processor_name": chosen["processor_name"],
            "phase": chosen["phase"],
            "run_id": "benchmark",
            "analysis_date": chosen["game_date"],
            "entity_id": chosen["player_lookup"],
            "entity_type": EntityType.PLAYER.value,
            "failure_category": category.value,
            "failure_reason": "synthetic: below 70% in l10",
            "can_retry": category.retryable,
            "expected_count": 10,
            "actual_count": 6,
            "missing_game_ids": [[] for _ in range(count)],
        }
    )
    for column in PROCESSOR_FAILURES.column_names:
        if column not in failures.columns:
            failures[column] = None
    return PROCESSOR_FAILURES.conform(failures)
