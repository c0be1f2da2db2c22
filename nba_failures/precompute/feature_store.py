"""ml_feature_store: one validated feature vector per dressed player, from the other precompute tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_failures.failures.records import FailureCategory
from nba_failures.precompute.history import missing_upstream
from nba_failures.tables.precompute import (
    FEATURE_VERSION,
    FEATURES,
    PLAYER_COMPOSITE_FACTORS,
    PLAYER_DAILY_CACHE,
    PLAYER_SHOT_ZONE_ANALYSIS,
    ZONES,
)

_KEYS = ["analysis_date", "player_lookup"]


def feature_vectors(
    roster: pd.DataFrame, cache: pd.DataFrame, shot_zones: pd.DataFrame, composite: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Vectors for `roster` players (upcoming_player_game_context rows); a failure for each player without one.

    UPSTREAM_INCOMPLETE when an input row is missing (e.g. he failed player_daily_cache), naming the first missing
    table; FEATURE_VALIDATION_ERROR when any feature is NaN, infinite or outside its range (tables.FEATURES),
    naming each offending feature and value. Either way the row is left out.
    """
    entities = roster.rename(columns={"game_date": "analysis_date"}).loc[:, [*_KEYS, "game_id", "team_abbr", "opponent_abbr"]]
    inputs = [(PLAYER_DAILY_CACHE, cache), (PLAYER_SHOT_ZONE_ANALYSIS, shot_zones), (PLAYER_COMPOSITE_FACTORS, composite)]
    present, missing = missing_upstream(
        entities, [(table.qualified_name, rows, _KEYS) for table, rows in inputs], FailureCategory.UPSTREAM_INCOMPLETE
    )
    vectors = present
    for _, rows in inputs:
        vectors = vectors.merge(rows.drop(columns=["game_id", "team_abbr", "opponent_abbr"], errors="ignore"), on=_KEYS)
    for zone in ZONES:
        vectors[f"{zone}_attempts_per_game"] = vectors[f"{zone}_attempted"] / vectors["games_in_sample"]
    vectors["back_to_back"] = vectors["back_to_back"].astype("boolean").astype("Float64")
    features = vectors.loc[:, list(FEATURES)].astype(float)
    vectors[list(FEATURES)] = features
    vectors["feature_version"] = FEATURE_VERSION

    low = np.array([low for _, low, _ in FEATURES.values()])
    high = np.array([high for _, _, high in FEATURES.values()])
    values = features.to_numpy()
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < low) | (values > high)
    invalid = bad.any(axis=1)
    names = np.array(list(FEATURES))
    problems = [
        ", ".join(
            f"{name}={value:g} (valid {FEATURES[name][1]:g}..{FEATURES[name][2]:g})"
            for name, value in zip(names[flags], row[flags])
        )
        for flags, row in zip(bad[invalid], values[invalid])
    ]
    rejected = vectors[invalid].assign(
        failure_category=FailureCategory.FEATURE_VALIDATION_ERROR.value,
        reason=[f"invalid features: {text}" for text in problems],
        entity_id=lambda f: f["player_lookup"],
    )
    failures = pd.concat([missing, rejected.reindex(columns=missing.columns)], ignore_index=True)
    return vectors[~invalid].reset_index(drop=True), failures
