"""Thresholds of the prediction processors, configurable per deployment."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

DEFAULT_STALE_CACHE_HOURS = 24.0
DEFAULT_MIN_TRAINING_ROWS = 3000


class PredictionPolicy(ConfigurableResource):
    """When cached features are too old to predict from, and when the model has seen enough to be fitted."""

    stale_cache_hours: float = Field(
        default=DEFAULT_STALE_CACHE_HOURS,
        gt=0,
        description="Features written longer than this before the prediction run → STALE_CACHE (rerun ml_feature_store).",
    )
    min_training_rows: int = Field(
        default=DEFAULT_MIN_TRAINING_ROWS,
        ge=1,
        description="Fewer earlier feature rows with actual points than this → INSUFFICIENT_DATA (about five weeks of a season).",
    )
