"""`nba_predictions` tables: one row per prediction, partitioned by the day predicted."""

from __future__ import annotations

from nba_failures.warehouse.schema import Column, ColumnType, Mode, TableSpec, required, string

PLAYER_POINTS_PREDICTIONS = TableSpec(
    dataset="nba_predictions",
    name="player_points_predictions",
    description=(
        "One row per player dressed that day with a fresh feature vector: his predicted points, from a model "
        "fitted on earlier days only (feature rows and the points actually scored). Dressed players without a "
        "prediction are failures in nba_processing.prediction_failures instead of rows."
    ),
    columns=(
        Column("prediction_date", ColumnType.DATE, "Day of his game; the model saw only days before it.", Mode.REQUIRED),
        required(string("player_lookup", "Player.")),
        required(string("game_id", "His game that day.")),
        required(string("team_abbr", "His team that day.")),
        required(string("opponent_abbr", "Opponent that day.")),
        Column("predicted_points", ColumnType.FLOAT64, "Points the model predicts.", Mode.REQUIRED),
        Column(
            "season_avg_points",
            ColumnType.FLOAT64,
            "Baseline: his mean points over his earlier games this season (also a model input).",
        ),
        required(string("model_name", "Estimator and its inputs.")),
        required(string("model_version", "Version of the model definition: estimator, inputs and settings.")),
        required(string("feature_version", "ml_feature_store.feature_version of the vector used.")),
        Column("training_first_date", ColumnType.DATE, "First day of the training rows.", Mode.REQUIRED),
        Column(
            "training_last_date", ColumnType.DATE, "Last day of the training rows (always before prediction_date).", Mode.REQUIRED
        ),
        Column("training_rows", ColumnType.INT64, "Feature rows of earlier days with the points actually scored.", Mode.REQUIRED),
        Column(
            "features_created_at",
            ColumnType.TIMESTAMP,
            "When ml_feature_store wrote the day's vectors (processor_runs.finished_at).",
        ),
        Column("cache_age_hours", ColumnType.FLOAT64, "Hours from features_created_at to predicted_at."),
        Column("predicted_at", ColumnType.TIMESTAMP, "When the prediction run started.", Mode.REQUIRED),
    ),
    partition_column="prediction_date",
    cluster_columns=("player_lookup",),
)
