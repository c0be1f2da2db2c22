"""Checks of a classification run, reported as Dagster asset checks on `classified_failures`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster import AssetCheckResult, AssetCheckSeverity

from nba_failures.failures.records import FailureType
from nba_failures.processing import partitioned_check

if TYPE_CHECKING:
    import pandas as pd

ASSET = "classified_failures"
# Evaluated per day partition: a day's entry is that day's classification.
CHECK_SPECS = [
    partitioned_check("every_failure_classified", ASSET, "Every failure has a failure_type; UNKNOWN only with the reason."),
    partitioned_check("failures_accounted_for", ASSET, "Every recorded failure is one open row of the failure store."),
    partitioned_check("correctable_rate", ASSET, "Share of correctable failures stays under the configured threshold."),
]


def classification_checks(
    classified: pd.DataFrame, failing_keys: frozenset[str], correctable_rate_warn: float
) -> list[AssetCheckResult]:
    unknown = classified[classified["failure_type"] == FailureType.UNKNOWN.value]
    unexplained = int(classified["failure_type"].isna().sum() + (unknown["classification_reason"].fillna("") == "").sum())
    recorded = set(classified["failure_key"])
    unstored = recorded - failing_keys
    rate = float(classified["is_correctable"].mean()) if len(classified) else 0.0
    return [
        AssetCheckResult(
            check_name="every_failure_classified",
            passed=unexplained == 0,
            metadata={"unknown": len(unknown), "unexplained": unexplained},
        ),
        AssetCheckResult(
            check_name="failures_accounted_for",
            passed=not unstored and len(recorded) == len(classified),
            metadata={
                "recorded": len(classified),
                "stored_open": len(recorded & failing_keys),
                "missing_from_store": len(unstored),
            },
        ),
        AssetCheckResult(
            check_name="correctable_rate",
            passed=rate <= correctable_rate_warn,
            severity=AssetCheckSeverity.WARN,
            metadata={"correctable_rate": round(rate, 4), "threshold": correctable_rate_warn},
        ),
    ]
