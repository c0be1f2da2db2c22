"""Thresholds of the prediction processors, configurable per deployment."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

DEFAULT_STALE_CACHE_HOURS = 24.0
DEFAULT_MIN_TRAINING_ROWS = 3000
DEFAULT_TRAINING_WINDOW_DAYS = 365


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
    training_window_days: int = Field(
        default=DEFAULT_TRAINING_WINDOW_DAYS,
        ge=1,
        description="A day's model is fitted on the feature rows of this many days before it: a season and the end of the "
        "previous one, so a fit costs the same in the tenth season as in the first.",
    )
