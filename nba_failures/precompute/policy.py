"""Thresholds of the precompute processors, configurable per deployment."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

# Fewer games than this and a sample says nothing about the player or team (early season).
MIN_SAMPLE_GAMES = 3


class PrecomputePolicy(ConfigurableResource):
    """When a player's lookback is complete enough to cache (production-ready), too short, or stale."""

    production_ready_pct: float = Field(
        default=70.0, ge=0, le=100, description="Below this completeness in any window → INCOMPLETE_DATA."
    )
    min_expected_games: int = Field(
        default=MIN_SAMPLE_GAMES, ge=1, description="Fewer expected team games than this → INSUFFICIENT_DATA."
    )
    stale_after_days: int = Field(default=30, ge=1, description="No game played in this many days → STALE_DATA.")
