"""Player points predictions: pure logic, whole frames in and out.

For each day D the model is fitted on the feature vectors of the days before D (at most a training window
back), labelled with the points the player actually scored that day (`player_game_summary`), and predicts
D's vectors: nothing of D or later reaches the fit. A range run fits once per day with ready players.

Inputs: the `ml_feature_store` features plus his season-to-date means (points, minutes) from his games
before the day. Estimator: ridge regression on standardized inputs, its intercept then moved by the
median training residual: least squares aims at the mean, MAE rewards the median, and points are
right-skewed. It replaced a HuberRegressor that fitted 10x slower (13 s of a season run) and erred more
over the season (MAE 4.862 vs Huber 4.890 and the season-average baseline 4.910, same 13,446 rows);
over October–January the three are close (4.736 / 4.727 / 4.742): the margin is small, reported as is.
The ridge is solved in closed form with NumPy, as scikit-learn's StandardScaler + Ridge solve it (the tests
compare the two to 1e-8): importing scikit-learn took 1.2 s of every run that predicts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nba_failures.failures.records import FailureCategory
from nba_failures.precompute.history import FAILURE_COLUMNS, missing_upstream, trailing_totals
from nba_failures.tables.precompute import FEATURES, ML_FEATURE_STORE
from nba_failures.warehouse.schema import utc_timestamps

MODEL_NAME = "MedianCenteredRidge(ridge on standardized inputs; ml_feature_store + season averages)"
MODEL_VERSION = "2"
SEASON_FEATURES = ("season_avg_points", "season_avg_minutes")
MODEL_INPUTS = (*FEATURES, *SEASON_FEATURES)
# Longer than any season: trailing_totals over this many games is the season to date.
_SEASON_GAMES = 1000
_KEYS = ["analysis_date", "player_lookup"]
PREDICTION_FAILURE_COLUMNS = [*FAILURE_COLUMNS, "upstream_table", "cache_age_hours"]


class MedianCenteredRidge:
    """Ridge on standardized inputs whose predictions are shifted by the median of its training residuals."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, inputs: np.ndarray, points: np.ndarray) -> MedianCenteredRidge:
        self.mean_ = inputs.mean(axis=0)
        spread = inputs.std(axis=0)
        # A constant input carries nothing: left unscaled (its centered values are 0), as StandardScaler leaves it.
        self.scale_ = np.where(np.ptp(inputs, axis=0) == 0, 1.0, spread)
        standardized = (inputs - self.mean_) / self.scale_
        offset = standardized.mean(axis=0)  # zero but for rounding: centered again, as Ridge centers its inputs
        centered = standardized - offset
        gram = centered.T @ centered + self.alpha * np.eye(inputs.shape[1])
        self.coef_ = np.linalg.solve(gram, centered.T @ (points - points.mean()))
        self.intercept_ = float(points.mean() - offset @ self.coef_)
        self.shift_ = float(np.median(points - self._ridge(inputs)))
        return self

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        return self._ridge(inputs) + self.shift_

    def _ridge(self, inputs: np.ndarray) -> np.ndarray:
        return ((inputs - self.mean_) / self.scale_) @ self.coef_ + self.intercept_


def default_model() -> MedianCenteredRidge:
    return MedianCenteredRidge()


@dataclass(frozen=True)
class PredictionOutcome:
    predictions: pd.DataFrame  # PLAYER_POINTS_PREDICTIONS columns
    failures: pd.DataFrame  # PREDICTION_FAILURE_COLUMNS, one per dressed player without a prediction


def with_season_averages(rows: pd.DataFrame, player_games: pd.DataFrame) -> pd.DataFrame:
    """`rows` (analysis_date, player_lookup, …) with his mean points and minutes over his games strictly before the day."""
    history = player_games.loc[:, ["player_lookup", "game_date", "game_id", "points", "minutes"]]
    totals = trailing_totals(rows.loc[:, _KEYS].drop_duplicates(), history, "player_lookup", ["points", "minutes"], _SEASON_GAMES)
    games = totals["games_in_sample"].where(totals["games_in_sample"] > 0).astype(float)
    totals["season_avg_points"] = totals["points"].astype(float) / games
    totals["season_avg_minutes"] = totals["minutes"].astype(float) / games
    return rows.merge(totals.loc[:, [*_KEYS, *SEASON_FEATURES]], on=_KEYS, how="left")


def training_rows(features: pd.DataFrame, player_games: pd.DataFrame) -> pd.DataFrame:
    """Every feature row whose player played that day, with his points that day as `actual_points`, in a fixed order."""
    actual = player_games.loc[:, ["game_date", "player_lookup", "points"]].rename(
        columns={"game_date": "analysis_date", "points": "actual_points"}
    )
    labelled = features.merge(actual.drop_duplicates(_KEYS), on=_KEYS, how="inner")
    labelled = with_season_averages(labelled, player_games)
    labelled["actual_points"] = labelled["actual_points"].astype(float)
    return labelled.sort_values(_KEYS).reset_index(drop=True)


def ready_players(
    roster: pd.DataFrame, features: pd.DataFrame, created_at: pd.DataFrame, predicted_at: pd.Timestamp, stale_after_hours: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Feature vectors of the dressed players (upcoming_player_game_context rows) that are fresh enough to predict from.

    A dressed player without a feature row → UPSTREAM_INCOMPLETE naming ml_feature_store (classification then
    inherits the feature store's verdict for him). A vector written more than `stale_after_hours` before the
    prediction run (`created_at`: analysis_date, finished_at of the ml_feature_store run) → STALE_CACHE with its age.
    """
    entities = roster.rename(columns={"game_date": "analysis_date"}).loc[:, [*_KEYS, "game_id", "team_abbr", "opponent_abbr"]]
    present, missing = missing_upstream(
        entities, [(ML_FEATURE_STORE.qualified_name, features, _KEYS)], FailureCategory.UPSTREAM_INCOMPLETE
    )
    vectors = present.merge(features.drop(columns=["game_id", "team_abbr", "opponent_abbr"]), on=_KEYS)
    written = (
        created_at.loc[:, ["analysis_date", "finished_at"]]
        .drop_duplicates("analysis_date")
        .rename(columns={"finished_at": "features_created_at"})
    )
    vectors = vectors.merge(written, on="analysis_date", how="left")
    vectors["features_created_at"] = utc_timestamps(vectors["features_created_at"])
    age = (predicted_at - vectors["features_created_at"]).dt.total_seconds() / 3600
    vectors["cache_age_hours"] = age.clip(lower=0).astype(float)
    stale = vectors["cache_age_hours"] > stale_after_hours
    stale_failures = vectors[stale].assign(
        failure_category=FailureCategory.STALE_CACHE.value,
        upstream_table=ML_FEATURE_STORE.qualified_name,
        reason=lambda f: (
            "features of "
            + f["player_lookup"]
            + " for "
            + f["analysis_date"].astype(str)
            + " were written "
            + f["cache_age_hours"].round(1).astype(str)
            + f" hours before the prediction run (limit {stale_after_hours:g}): rerun ml_feature_store"
        ),
        entity_id=lambda f: f["player_lookup"],
    )
    failures = pd.concat(
        [missing.reindex(columns=PREDICTION_FAILURE_COLUMNS), stale_failures.reindex(columns=PREDICTION_FAILURE_COLUMNS)],
        ignore_index=True,
    )
    return vectors[~stale].reset_index(drop=True), failures


def predict_points(
    ready: pd.DataFrame,
    labelled: pd.DataFrame,
    player_games: pd.DataFrame,
    predicted_at: pd.Timestamp,
    min_training_rows: int,
    training_window_days: int,
    make_model: Callable[[], object] = default_model,
) -> PredictionOutcome:
    """Predictions for the `ready` vectors, one fit per day on the `labelled` rows (training_rows) of the
    `training_window_days` before it (a bound on each fit however many seasons the warehouse holds).

    Too few training rows → INSUFFICIENT_DATA for the day's players; a fit that fails or an input or a
    prediction that is not finite → MODEL_ERROR.
    """
    columns = ["prediction_date", "player_lookup", "game_id", "team_abbr", "opponent_abbr", "predicted_points",
               "season_avg_points", "model_name", "model_version", "feature_version", "training_first_date",
               "training_last_date", "training_rows", "features_created_at", "cache_age_hours", "predicted_at"]  # fmt: skip
    if ready.empty:
        return PredictionOutcome(pd.DataFrame(columns=columns), pd.DataFrame(columns=PREDICTION_FAILURE_COLUMNS))
    ready = with_season_averages(ready, player_games)
    inputs = list(MODEL_INPUTS)
    predictions: list[pd.DataFrame] = []
    failures: list[pd.DataFrame] = []
    labelled = labelled[np.isfinite(labelled.loc[:, inputs].to_numpy(float, na_value=np.nan)).all(axis=1)]
    # training_rows sorts by date: each day's window is a slice found by binary search, its first and last rows
    # the window's first and last dates.
    labelled_days = pd.to_datetime(labelled["analysis_date"]).to_numpy()
    training_inputs, training_points = labelled.loc[:, inputs].to_numpy(float), labelled["actual_points"].to_numpy(float)
    for day, players in ready.groupby("analysis_date", sort=True):
        first, last = np.searchsorted(
            labelled_days, [np.datetime64(day - dt.timedelta(days=training_window_days)), np.datetime64(day)], side="left"
        )
        training_count = int(last - first)
        if training_count < min_training_rows:
            failures.append(
                _failed(
                    players,
                    FailureCategory.INSUFFICIENT_DATA,
                    (
                        f"the model for {day} has {training_count} training rows (earlier feature rows with actual points); "
                        f"it needs {min_training_rows}"
                    ),
                    expected_count=min_training_rows,
                    actual_count=training_count,
                )
            )
            continue
        values = players.loc[:, inputs].to_numpy(float, na_value=np.nan)
        usable = np.isfinite(values).all(axis=1)
        if not usable.all():
            bad = players[~usable]
            names = [", ".join(name for name, ok in zip(inputs, np.isfinite(row)) if not ok) for row in values[~usable]]
            failures.append(
                _failed(bad, FailureCategory.MODEL_ERROR, "", reasons=[f"model inputs not finite: {text}" for text in names])
            )
            players, values = players[usable], values[usable]
            if players.empty:
                continue
        try:
            model = make_model()
            model.fit(training_inputs[first:last], training_points[first:last])
            predicted = np.asarray(model.predict(values), dtype=float)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
            failures.append(_failed(players, FailureCategory.MODEL_ERROR, f"the model for {day} could not be fitted: {error}"))
            continue
        finite = np.isfinite(predicted)
        if not finite.all():
            failures.append(
                _failed(
                    players[~finite],
                    FailureCategory.MODEL_ERROR,
                    "",
                    reasons=[f"the model predicted {value} points" for value in predicted[~finite]],
                )
            )
        predictions.append(
            players[finite].assign(
                prediction_date=day,
                predicted_points=predicted[finite],
                model_name=MODEL_NAME,
                model_version=MODEL_VERSION,
                training_first_date=labelled["analysis_date"].iloc[first],
                training_last_date=labelled["analysis_date"].iloc[last - 1],
                training_rows=training_count,
                predicted_at=predicted_at,
            )
        )
    rows = pd.concat(predictions, ignore_index=True).loc[:, columns] if predictions else pd.DataFrame(columns=columns)
    failed = pd.concat(failures, ignore_index=True) if failures else pd.DataFrame(columns=PREDICTION_FAILURE_COLUMNS)
    return PredictionOutcome(rows, failed.reindex(columns=PREDICTION_FAILURE_COLUMNS))


def _failed(
    players: pd.DataFrame, category: FailureCategory, reason: str, reasons: list[str] | None = None, **counts: int
) -> pd.DataFrame:
    return players.assign(
        failure_category=category.value,
        reason=reasons if reasons is not None else reason + f" ({len(players)} players)",
        entity_id=players["player_lookup"],
        **counts,
    ).reindex(columns=PREDICTION_FAILURE_COLUMNS)


def evaluation(predictions: pd.DataFrame, player_games: pd.DataFrame) -> dict[str, object]:
    """Error on the days already played: predictions of players who played (player_game_summary) vs his points,
    and the season-average baseline (his mean points over his earlier games) on the same rows."""
    actual = player_games.loc[:, ["game_date", "player_lookup", "points"]].rename(columns={"game_date": "prediction_date"})
    played = predictions.merge(
        actual.drop_duplicates(["prediction_date", "player_lookup"]), on=["prediction_date", "player_lookup"]
    )
    played = played[played["season_avg_points"].notna()]
    if played.empty:
        return {"evaluated_predictions": 0, "evaluated_days": 0, "mae": None, "baseline_mae": None}
    points = played["points"].astype(float)
    mae = float((played["predicted_points"].astype(float) - points).abs().mean())
    baseline = float((played["season_avg_points"].astype(float) - points).abs().mean())
    return {
        "evaluated_predictions": len(played),
        "evaluated_days": int(played["prediction_date"].nunique()),
        "mae": round(mae, 4),
        "baseline_mae": round(baseline, 4),
        "mae_improvement": round(baseline - mae, 4),
    }
