"""The closed-form ridge of `MedianCenteredRidge` is scikit-learn's StandardScaler + Ridge, then its median shift."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nba_failures.predictions.model import MODEL_INPUTS, MedianCenteredRidge


@pytest.mark.parametrize("rows", [12, 300, 4000])
def test_predictions_equal_scikit_learns_ridge_on_standardized_inputs_shifted_by_the_median_residual(rows: int) -> None:
    generator = np.random.default_rng(rows)
    width = len(MODEL_INPUTS)
    inputs = generator.normal(size=(rows, width)) * generator.uniform(0.1, 40, width) + generator.uniform(-5, 5, width)
    inputs[:, 2] = 7.0  # a constant input, as a feature is on a day when every player shares it
    inputs[:, 4] = generator.integers(0, 2, rows)  # a flag
    points = np.clip(inputs @ generator.normal(size=width) + generator.gamma(2.0, 3.0, rows), 0, None)
    reference = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(inputs, points)
    shift = np.median(points - reference.predict(inputs))
    unseen = generator.normal(size=(50, width)) * 10

    model = MedianCenteredRidge(alpha=1.0).fit(inputs, points)

    np.testing.assert_allclose(model.predict(unseen), reference.predict(unseen) + shift, rtol=0, atol=1e-8)
    np.testing.assert_allclose(model.predict(inputs), reference.predict(inputs) + shift, rtol=0, atol=1e-8)
