"""ExactPCA gives the attribution's regression the components a full SVD gives (up to each one's
sign), so a run fitted with it attributes as one fitted with scikit-learn's exact PCA."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from painterly_vae.inference.linear_probe import ExactPCA, fit_standardised_logistic_regression


@pytest.mark.parametrize("paintings, features", [(120, 400), (400, 60)])  # fewer paintings than features, and more
def test_the_components_are_a_full_svds_up_to_sign(paintings: int, features: int) -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(size=(paintings, 8)) @ rng.normal(size=(8, features)) * 3 + rng.normal(size=(paintings, features))
    ours, theirs = ExactPCA(20).fit(data), PCA(20, svd_solver="full").fit(data)
    np.testing.assert_allclose(ours.mean_, theirs.mean_)
    np.testing.assert_allclose(np.abs(np.sum(ours.components_ * theirs.components_, 1)), 1.0, atol=1e-9)
    np.testing.assert_allclose(np.abs(ours.transform(data)), np.abs(theirs.transform(data)), atol=1e-8)


def test_more_components_than_paintings_keeps_what_there_is() -> None:
    data = np.random.default_rng(1).normal(size=(10, 50))
    assert ExactPCA(256).fit(data).components_.shape == (10, 50)


def test_the_regression_answers_as_with_a_full_svd() -> None:
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 4, 300)
    data = rng.normal(size=(4, 900))[labels] + rng.normal(size=(300, 900))
    ours = fit_standardised_logistic_regression(data, labels, 0.01, components=64)
    theirs = fit_standardised_logistic_regression(data, labels, 0.01, components=64)
    theirs.steps[1] = ("pca", PCA(64, svd_solver="full"))
    theirs.fit(data, labels)
    np.testing.assert_allclose(ours.predict_proba(data), theirs.predict_proba(data), atol=1e-8)
