"""`classified_failures`: every processor's failures of the day, classified and stored once per key."""

import json

import pandas as pd
from dagster import AssetExecutionContext, BackfillPolicy, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field

from nba_failures.analytics import assets as analytics
from nba_failures.failures.checks import CHECK_SPECS, classification_checks
from nba_failures.failures.completeness import CompletenessChecker
from nba_failures.failures.store import write_classified
from nba_failures.failures.tables import PROCESSOR_FAILURES, PROCESSOR_RUNS
from nba_failures.partitions import daily_partitions, partition_window
from nba_failures.precompute import assets as precompute
from nba_failures.predictions import assets as predictions
from nba_failures.raw import assets as raw
from nba_failures.warehouse.base import Warehouse, in_warehouse_session

PROCESSOR_ASSETS = [
    raw.nbac_schedule,
    raw.nbac_gamebook_player_stats,
    raw.player_registry,
    analytics.player_game_summary,
    analytics.team_offense_game_summary,
    analytics.team_defense_game_summary,
    analytics.upcoming_player_game_context,
    precompute.player_daily_cache,
    precompute.player_shot_zone_analysis,
    precompute.team_defense_zone_analysis,
    precompute.player_composite_factors,
    precompute.ml_feature_store,
    predictions.player_points_predictions,
]


class ClassificationConfig(Config):
    correctable_rate_warn: float = Field(default=0.05, ge=0, le=1, description="Warn when more than this share of failures is correctable.")


@asset(
    check_specs=CHECK_SPECS,
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    group_name="failures",
    deps=PROCESSOR_ASSETS,
    kinds={"duckdb", "bigquery"},
    description="Every processor's failures of the day, classified (DNP vs DATA_GAP…) and merged into nba_processing.*_failures.",
)
@in_warehouse_session
def classified_failures(context: AssetExecutionContext, config: ClassificationConfig, warehouse: Warehouse, completeness: CompletenessChecker) -> MaterializeResult:
    start, end = partition_window(context)
    failures = warehouse.read(PROCESSOR_FAILURES, start, end)
    classified = completeness.classify(warehouse, failures, start, end)
    counts = write_classified(warehouse, classified, start, end, warehouse.read(PROCESSOR_RUNS, start, end), context.run.run_id)
    by_type = classified.groupby(["processor_name", "failure_type"]).size() if len(classified) else pd.Series(dtype=int)
    matrix = {processor: {t: int(n) for t, n in group.droplevel(0).items()} for processor, group in by_type.groupby(level=0)}
    context.log.info(f"classified {len(classified)} failures: {json.dumps(matrix)}; {counts.summary()}")
    return MaterializeResult(
        metadata={
            "failures_classified": len(classified),
            "by_processor_and_type": MetadataValue.json(matrix),
            "correctable": int(classified["is_correctable"].sum()) if len(classified) else 0,
            "unknown": int((classified["failure_type"] == "UNKNOWN").sum()) if len(classified) else 0,
            "new": counts.new,
            "still_open": counts.still_open,
            "resolved": counts.resolved,
            "reopened": counts.reopened,
        },
        check_results=classification_checks(classified, counts.failing_keys, config.correctable_rate_warn),
    )
