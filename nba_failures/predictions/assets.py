"""Phase 5 assets. Thin: read the window and the season's history, call the pure logic, publish rows and failures.

A game day whose roster or feature store run is absent is one DATE-level MISSING_DEPENDENCY and is not
predicted, so its players are neither rows nor individual failures (as in Phase 4).

The model (and pandas and NumPy with it) is imported in the asset body: loading the code location only defines it.
"""

from dagster import AssetExecutionContext

from nba_failures.analytics.assets import player_game_summary, upcoming_player_game_context
from nba_failures.failures.recorder import ProcessorSpec
from nba_failures.failures.records import EntityType, Phase
from nba_failures.partitions import daily_partitions
from nba_failures.precompute.assets import FEATURE_STORE, ml_feature_store
from nba_failures.predictions.policy import PredictionPolicy
from nba_failures.processing import (
    AssetEvents,
    RowAccounting,
    processor_asset,
    publish,
    record_missing_days,
    start_run,
)
from nba_failures.raw.assets import nbac_schedule
from nba_failures.tables.analytics import PLAYER_GAME_SUMMARY, UPCOMING_PLAYER_GAME_CONTEXT
from nba_failures.tables.failures import PROCESSOR_RUNS
from nba_failures.tables.precompute import ML_FEATURE_STORE
from nba_failures.tables.predictions import PLAYER_POINTS_PREDICTIONS
from nba_failures.tables.raw import NBAC_SCHEDULE
from nba_failures.warehouse.base import Warehouse

POINTS_PREDICTIONS = ProcessorSpec("player_points_predictions", Phase.PREDICTION, EntityType.PLAYER, PLAYER_POINTS_PREDICTIONS)
PROCESSORS = (POINTS_PREDICTIONS,)


@processor_asset(
    POINTS_PREDICTIONS, group="predictions",
    deps=[ml_feature_store, upcoming_player_game_context, player_game_summary, nbac_schedule], extra_kinds=["numpy"],
    description=(
        "Each dressed player's points, predicted by a model fitted on earlier days only "
        "(nba_predictions.player_points_predictions)."
    ),
)  # fmt: skip
def player_points_predictions(
    context: AssetExecutionContext, warehouse: Warehouse, prediction_policy: PredictionPolicy
) -> AssetEvents:
    import pandas as pd

    from nba_failures.predictions.model import MODEL_NAME, MODEL_VERSION, evaluation, predict_points, ready_players, training_rows

    recorder, start, end = start_run(context, POINTS_PREDICTIONS)
    predicted_at = pd.Timestamp.now(tz="UTC")
    season_start = daily_partitions.start.date()
    roster = warehouse.read(UPCOMING_PLAYER_GAME_CONTEXT, start, end)
    feature_runs = warehouse.read(PROCESSOR_RUNS, start, end, where_in={"processor_name": [FEATURE_STORE.name]})
    schedule = warehouse.read(NBAC_SCHEDULE, start, end)
    scheduled = {day for day in schedule["game_date"] if start <= day < end}
    skipped = record_missing_days(recorder, scheduled, set(roster["game_date"]), UPCOMING_PLAYER_GAME_CONTEXT.qualified_name)
    skipped |= record_missing_days(
        recorder, scheduled - skipped, set(feature_runs["analysis_date"]), ML_FEATURE_STORE.qualified_name
    )
    roster = roster[~roster["game_date"].isin(skipped)].reset_index(drop=True)

    features = warehouse.read(ML_FEATURE_STORE, season_start, end)
    player_games = warehouse.read(PLAYER_GAME_SUMMARY, season_start, end)
    in_window = (features["analysis_date"] >= start) & (features["analysis_date"] < end)
    ready, stale_or_missing = ready_players(
        roster, features.loc[in_window], feature_runs, predicted_at, prediction_policy.stale_cache_hours
    )
    labelled = training_rows(features.loc[features["analysis_date"] < max(ready["analysis_date"], default=start)], player_games)
    outcome = predict_points(
        ready, labelled, player_games, predicted_at, prediction_policy.min_training_rows, prediction_policy.training_window_days
    )
    failures = pd.concat(
        [frame for frame in (stale_or_missing, outcome.failures) if len(frame)] or [outcome.failures], ignore_index=True
    )
    recorder.record_frame(failures)
    scores = evaluation(outcome.predictions, player_games)
    context.log.info(f"player_points_predictions: {scores}")
    model = {"model_name": MODEL_NAME, "model_version": MODEL_VERSION, "stale_cache_hours": prediction_policy.stale_cache_hours,
             "min_training_rows": prediction_policy.min_training_rows,
             "training_window_days": prediction_policy.training_window_days}  # fmt: skip
    accounting = RowAccounting(len(roster), len(failures))
    yield from publish(
        context, warehouse, recorder, outcome.predictions, start, end, accounting, extra_metadata=model, window_totals=scores
    )
