"""Phase 5 on the real season (Oct 18 .. Jan 31, run once): predictions, their failures in
nba_processing.prediction_failures, the model's error against a season-average baseline recomputed here from the
bundled CSVs, and no leakage from later days."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from nba_failures.predictions import model
from nba_failures.predictions.policy import DEFAULT_MIN_TRAINING_ROWS
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests import faults, season_data
from nba_failures_tests.harness import run_assets

FIRST, LAST = dt.date(2022, 10, 18), dt.date(2023, 1, 31)
PRECOMPUTE = [
    "player_daily_cache",
    "player_shot_zone_analysis",
    "team_defense_zone_analysis",
    "player_composite_factors",
    "ml_feature_store",
]
PREDICTIONS = "player_points_predictions"
RERUN = [PREDICTIONS, "classified_failures"]
DAY = dt.date(2023, 1, 15)
EARLY_DAY = dt.date(2022, 11, 1)
FEATURE_STORE = "nba_precompute.ml_feature_store"


@pytest.fixture(scope="module")
def season_run(season_landing: Path, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("predictions") / "warehouse.duckdb"
    result = run_assets(
        DuckDBWarehouse(path=str(path)), season_landing, FIRST, LAST, selection=faults.FOUNDATION_ASSETS + PRECOMPUTE + RERUN
    )
    assert result.success
    return path, result


@pytest.fixture
def warehouse_copy(season_run, tmp_path: Path) -> Path:
    return Path(shutil.copy(season_run[0], tmp_path / "warehouse.duckdb"))


# The features are made and the predictions run at fixed instants: no assertion depends on how long the tests take.
PREDICTED_AT = pd.Timestamp("2023-01-16 12:00", tz="UTC")


def _on(path: Path, table: str, column: str, day: dt.date) -> pd.DataFrame:
    return faults.read_table(path, table, where=f"{column} = DATE '{day}'")


def _prediction_failures(path: Path, day: dt.date) -> pd.DataFrame:
    return _on(path, "nba_processing.prediction_failures", "prediction_date", day)


def _rerun(path: Path, landing: Path, day: dt.date, selection: list[str] = RERUN):
    result = run_assets(DuckDBWarehouse(path=str(path)), landing, day, selection=selection)
    assert result.success
    return result


# ---------------------------------------------------------------- predictions


@pytest.mark.slow(seconds=75)  # the module's backfill fixture runs for the first test
def test_every_dressed_player_with_features_is_predicted(season_run) -> None:
    path, result = season_run
    predictions = _on(path, "nba_predictions.player_points_predictions", "prediction_date", DAY)
    features = _on(path, FEATURE_STORE, "analysis_date", DAY)
    roster = _on(path, "nba_analytics.upcoming_player_game_context", "game_date", DAY)
    failures = _on(path, "nba_processing.processor_failures", "analysis_date", DAY).query("processor_name == @PREDICTIONS")

    assert len(predictions) == len(features) > 100
    assert set(predictions["player_lookup"]) == set(features["player_lookup"])
    assert set(predictions["player_lookup"]) | set(failures["entity_id"]) == set(roster["player_lookup"])
    assert len(predictions) + len(failures) == len(roster)
    assert np.isfinite(predictions["predicted_points"]).all() and predictions["predicted_points"].between(-5, 60).all()
    # Trained on earlier days only, with the window written on each row.
    assert (pd.to_datetime(predictions["training_last_date"]).dt.date < DAY).all()
    assert (predictions["training_rows"] >= DEFAULT_MIN_TRAINING_ROWS).all()
    assert (predictions["model_version"] == model.MODEL_VERSION).all()

    values = faults.metadata(result, PREDICTIONS, DAY)
    faults.assert_rows_accounted_for(values)
    assert values["rows_written"] == len(predictions) and values["failures"] == len(failures)
    assert values["range_rows_written"] == faults.read_table(path, "nba_predictions.player_points_predictions").shape[0]


def test_dressed_players_without_features_inherit_the_feature_store_verdict(season_run) -> None:
    path, _ = season_run
    features = _on(path, FEATURE_STORE, "analysis_date", DAY)
    roster = _on(path, "nba_analytics.upcoming_player_game_context", "game_date", DAY)
    without = set(roster["player_lookup"]) - set(features["player_lookup"])
    failures = _prediction_failures(path, DAY).set_index("entity_id")
    assert without and without == set(failures.index)
    assert (failures["failure_category"] == "UPSTREAM_INCOMPLETE").all()
    assert (failures["missing_upstream_tables"] == FEATURE_STORE).all()

    upstream = (
        _on(path, "nba_processing.precompute_failures", "analysis_date", DAY)
        .query("processor_name == 'ml_feature_store'")
        .set_index("entity_id")
    )
    assert set(failures.index) <= set(upstream.index)
    assert (failures["failure_type"] == upstream.loc[failures.index, "failure_type"]).all()
    assert failures["classification_reason"].str.startswith("inherits").all()


def test_too_few_training_rows_early_in_the_season_is_insufficient_data(season_run) -> None:
    path, _ = season_run
    assert _on(path, "nba_predictions.player_points_predictions", "prediction_date", EARLY_DAY).empty
    features = _on(path, FEATURE_STORE, "analysis_date", EARLY_DAY)
    failures = _prediction_failures(path, EARLY_DAY)
    short = failures[failures["failure_category"] == "INSUFFICIENT_DATA"]
    assert len(features) > 0 and set(short["entity_id"]) == set(features["player_lookup"])
    assert (short["expected_count"] == DEFAULT_MIN_TRAINING_ROWS).all() and (
        short["actual_count"] < DEFAULT_MIN_TRAINING_ROWS
    ).all()
    assert (short["failure_type"] == "INSUFFICIENT_HISTORY").all() and (short["resolution_status"] == "EXPECTED").all()


# ---------------------------------------------------------------- failures written end to end


def test_a_missing_feature_row_is_a_prediction_failure_naming_the_upstream(warehouse_copy: Path, season_landing: Path) -> None:
    before = _on(warehouse_copy, "nba_predictions.player_points_predictions", "prediction_date", DAY)
    player = sorted(before["player_lookup"])[0]
    with duckdb.connect(str(warehouse_copy)) as connection:
        connection.execute(f"DELETE FROM {FEATURE_STORE} WHERE analysis_date = ? AND player_lookup = ?", [DAY, player])

    _rerun(warehouse_copy, season_landing, DAY)

    after = _on(warehouse_copy, "nba_predictions.player_points_predictions", "prediction_date", DAY)
    assert set(after["player_lookup"]) == set(before["player_lookup"]) - {player}
    stored = _prediction_failures(warehouse_copy, DAY).set_index("entity_id").loc[player]
    assert stored["failure_category"] == "UPSTREAM_INCOMPLETE"
    assert stored["upstream_table"] == stored["missing_upstream_tables"] == FEATURE_STORE
    assert FEATURE_STORE in stored["failure_reason"]
    # The feature store recorded no failure for him: the missing row is a gap a rerun can fill.
    assert stored["failure_type"] == "DATA_GAP" and stored["is_correctable"] and stored["can_retry"]
    assert stored["resolution_status"] == "UNRESOLVED"


def test_features_older_than_the_policy_are_stale_cache(warehouse_copy: Path, season_landing: Path) -> None:
    with duckdb.connect(str(warehouse_copy)) as connection:
        connection.execute(
            "UPDATE nba_processing.processor_runs SET finished_at = finished_at - INTERVAL 3 DAY "
            "WHERE processor_name = ? AND analysis_date = ?",
            ["ml_feature_store", DAY],
        )

    result = _rerun(warehouse_copy, season_landing, DAY)

    assert _on(warehouse_copy, "nba_predictions.player_points_predictions", "prediction_date", DAY).empty
    features = _on(warehouse_copy, FEATURE_STORE, "analysis_date", DAY)
    stored = _prediction_failures(warehouse_copy, DAY)
    stale = stored[stored["failure_category"] == "STALE_CACHE"]
    assert set(stale["entity_id"]) == set(features["player_lookup"])
    assert (stale["cache_age_hours"] >= 72).all() and (stale["cache_age_hours"] < 73).all()
    assert (stale["failure_type"] == "DATA_GAP").all() and stale["can_retry"].all()
    assert faults.metadata(result, PREDICTIONS)["failures_by_category"]["STALE_CACHE"] == len(features)


def _model_inputs_of_day(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(ready, labelled, player_games) for calling the model on DAY directly: DAY's fresh vectors, earlier days' labelled rows."""
    from nba_failures.tables.analytics import PLAYER_GAME_SUMMARY
    from nba_failures.tables.precompute import ML_FEATURE_STORE

    warehouse = DuckDBWarehouse(path=str(path))
    features = warehouse.read(ML_FEATURE_STORE, FIRST, DAY + dt.timedelta(days=1))
    player_games = warehouse.read(PLAYER_GAME_SUMMARY, FIRST, DAY + dt.timedelta(days=1))
    ready = features[features["analysis_date"] == DAY].assign(features_created_at=PREDICTED_AT, cache_age_hours=0.0)
    return ready, model.training_rows(features[features["analysis_date"] < DAY], player_games), player_games


def test_a_model_that_fails_or_predicts_non_finite_values_is_model_error(season_run) -> None:
    ready, labelled, player_games = _model_inputs_of_day(season_run[0])

    class NaNModel:
        def fit(self, x, y):
            return self

        def predict(self, x):
            return np.full(len(x), np.nan)

    class Singular(NaNModel):
        def fit(self, x, y):
            raise np.linalg.LinAlgError("singular matrix")

    for stub, text in ((NaNModel, "predicted nan"), (Singular, "could not be fitted: singular matrix")):
        outcome = model.predict_points(ready, labelled, player_games, PREDICTED_AT, 100, 365, make_model=stub)
        assert outcome.predictions.empty
        assert set(outcome.failures["entity_id"]) == set(ready["player_lookup"])
        assert (outcome.failures["failure_category"] == "MODEL_ERROR").all()
        assert outcome.failures["reason"].str.contains(text).all()


def test_a_day_is_fitted_on_the_training_window_before_it(season_run) -> None:
    ready, labelled, player_games = _model_inputs_of_day(season_run[0])
    window = labelled[labelled["analysis_date"] >= DAY - dt.timedelta(days=30)]
    finite = np.isfinite(window.loc[:, list(model.MODEL_INPUTS)].to_numpy(float, na_value=np.nan)).all(axis=1)

    outcome = model.predict_points(ready, labelled, player_games, PREDICTED_AT, 100, 30)

    predictions = outcome.predictions
    assert len(predictions) == len(ready) and outcome.failures.empty
    assert (predictions["training_first_date"] >= DAY - dt.timedelta(days=30)).all()
    assert (predictions["training_last_date"] == DAY - dt.timedelta(days=1)).all()
    assert (predictions["training_rows"] == finite.sum()).all() and finite.sum() < len(labelled)
    # Too short a window leaves too few rows: INSUFFICIENT_DATA, not a model fitted on a handful.
    short = model.predict_points(ready, labelled, player_games, PREDICTED_AT, 1000, 1)  # a day: at most ~400 rows
    assert short.predictions.empty and (short.failures["failure_category"] == "INSUFFICIENT_DATA").all()


# ---------------------------------------------------------------- error vs the baseline, and leakage


def _independent_errors(predictions: pd.DataFrame) -> tuple[float, float, int]:
    """MAE of the stored predictions and of each player's mean points over his earlier games, from the CSVs."""
    box = season_data.boxscores()
    played = box[(box["player_status"] == "ACTIVE") & (box["player_lookup"] != "")].loc[
        :, ["player_lookup", "game_date", "points"]
    ]
    played = played.assign(points=played["points"].astype(float))
    rows = predictions.assign(prediction_date=pd.to_datetime(predictions["prediction_date"]).dt.date).loc[
        :, ["prediction_date", "player_lookup", "predicted_points"]
    ]
    actual = rows.merge(played.rename(columns={"game_date": "prediction_date"}), on=["prediction_date", "player_lookup"])
    earlier = actual.loc[:, ["prediction_date", "player_lookup"]].merge(played, on="player_lookup")
    earlier = earlier[earlier["game_date"] < earlier["prediction_date"]]
    baseline = earlier.groupby(["prediction_date", "player_lookup"])["points"].mean().rename("baseline").reset_index()
    scored = actual.merge(baseline, on=["prediction_date", "player_lookup"])
    mae = (scored["predicted_points"] - scored["points"]).abs().mean()
    baseline_mae = (scored["baseline"] - scored["points"]).abs().mean()
    return float(mae), float(baseline_mae), len(scored)


def test_mae_is_reported_and_beats_the_season_average_baseline(season_run) -> None:
    path, result = season_run
    values = faults.metadata(result, PREDICTIONS, DAY)
    mae, baseline_mae, rows = _independent_errors(faults.read_table(path, "nba_predictions.player_points_predictions"))

    # Measured over the whole run, so shown on each day as the range's.
    assert rows > 5000 and values["range_evaluated_predictions"] == rows
    assert values["range_mae"] == pytest.approx(mae, abs=1e-3)
    assert values["range_baseline_mae"] == pytest.approx(baseline_mae, abs=1e-3)
    assert mae < baseline_mae
    print(f"MAE {mae:.4f} vs season-average baseline {baseline_mae:.4f} on {rows} predictions")


def test_predictions_for_a_day_do_not_depend_on_later_days(season_run, warehouse_copy: Path, season_landing: Path) -> None:
    day = dt.date(2023, 1, 10)
    before = _on(season_run[0], "nba_predictions.player_points_predictions", "prediction_date", day).set_index("player_lookup")
    with duckdb.connect(str(warehouse_copy)) as connection:
        # Everything after the day, and the day's own outcomes, are gone.
        connection.execute(f"DELETE FROM {FEATURE_STORE} WHERE analysis_date > ?", [day])
        connection.execute("DELETE FROM nba_analytics.player_game_summary WHERE game_date >= ?", [day])
        connection.execute("DELETE FROM nba_analytics.upcoming_player_game_context WHERE game_date > ?", [day])

    _rerun(warehouse_copy, season_landing, day, [PREDICTIONS])

    after = _on(warehouse_copy, "nba_predictions.player_points_predictions", "prediction_date", day).set_index("player_lookup")
    assert len(before) > 50 and set(after.index) == set(before.index)
    np.testing.assert_allclose(after.loc[before.index, "predicted_points"], before["predicted_points"], rtol=1e-9, atol=1e-9)
    assert (after["training_rows"] == before.loc[after.index, "training_rows"]).all()
