"""`classified_failures`: every processor's failures of the day, classified and stored once per key."""

import json

from dagster import AssetExecutionContext, BackfillPolicy, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field

from nba_failures.analytics import assets as analytics
from nba_failures.classified.checks import CHECK_SPECS, classification_checks
from nba_failures.classified.completeness import CompletenessChecker
from nba_failures.frames import nested_counts
from nba_failures.partitions import daily_partitions, days_in, partition_window
from nba_failures.precompute import assets as precompute
from nba_failures.predictions import assets as predictions
from nba_failures.processing import AssetEvents, add_metadata_by_day, partition_check_evaluations, window_metadata
from nba_failures.raw import assets as raw
from nba_failures.settings import warehouse_backend, warehouse_pool
from nba_failures.tables.failures import PROCESSOR_FAILURES, PROCESSOR_RUNS
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
    correctable_rate_warn: float = Field(
        default=0.05, ge=0, le=1, description="Warn when more than this share of failures is correctable."
    )


@asset(
    check_specs=CHECK_SPECS,
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    group_name="failures",
    deps=PROCESSOR_ASSETS,
    pool=warehouse_pool(),
    kinds={warehouse_backend()},
    description="Every processor's failures of the day, classified (DNP vs DATA_GAP…) and merged into nba_processing.*_failures.",
)
@in_warehouse_session
def classified_failures(
    context: AssetExecutionContext, config: ClassificationConfig, warehouse: Warehouse, completeness: CompletenessChecker
) -> AssetEvents:
    from nba_failures.failures.store import write_classified  # with pandas: where used, not when the code location loads

    start, end = partition_window(context)
    failures = warehouse.read(PROCESSOR_FAILURES, start, end)
    classified = completeness.classify(warehouse, failures, start, end)
    counts = write_classified(warehouse, classified, start, end, warehouse.read(PROCESSOR_RUNS, start, end), context.run.run_id)
    matrix = nested_counts(classified, ["processor_name", "failure_type"])
    context.log.info(f"classified {len(classified)} failures: {json.dumps(matrix)}; {counts.summary()}")
    days = days_in(start, end)
    by_day = {day: group for day, group in classified.groupby("analysis_date")} if len(classified) else {}
    of_day = {day: by_day.get(day, classified.iloc[:0]) for day in days}
    by_processor = nested_counts(classified, ["analysis_date", "processor_name", "failure_type"])
    by_category = nested_counts(classified, ["analysis_date", "failure_category", "failure_type"])
    metadata_by_day = {
        day: {
            "failures_classified": len(classified_of_day),
            "by_processor_and_type": MetadataValue.json(by_processor.get(day, {})),
            "by_category_and_type": MetadataValue.json(by_category.get(day, {})),
            "correctable": int(classified_of_day["is_correctable"].sum()),
            "unknown": int((classified_of_day["failure_type"] == "UNKNOWN").sum()),
        }
        for day, classified_of_day in of_day.items()
    }
    add_metadata_by_day(context, metadata_by_day)
    # The store's lifecycle counts come from one merge over the whole window: a range run labels them as the range's.
    store_counts = {"new": counts.new, "still_open": counts.still_open, "resolved": counts.resolved, "reopened": counts.reopened}
    yield MaterializeResult(metadata=window_metadata(start, end, {"failures_classified": len(classified), **store_counts}))
    checks = {
        day: classification_checks(classified_of_day, counts.failing_keys, config.correctable_rate_warn)
        for day, classified_of_day in of_day.items()
    }
    yield from partition_check_evaluations(context, checks)
