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


@pytest.mark.parametrize("paintings, features", [(120, 400), (400, 60)])
def test_fitting_gives_the_features_components_as_transforming_them_does(paintings: int, features: int) -> None:
    """With fewer paintings than features the components of the fitted paintings come out of the
    eigendecomposition (X V = U s), not a second pass: the same numbers."""
    rng = np.random.default_rng(4)
    data = rng.normal(size=(paintings, 8)) @ rng.normal(size=(8, features)) + rng.normal(size=(paintings, features))
    pca = ExactPCA(20)
    np.testing.assert_allclose(pca.fit_transform(data), pca.transform(data), atol=1e-9)


def test_single_precision_statistics_are_decomposed_in_single_precision_and_answer_alike() -> None:
    """The Gram statistics come as float32: decomposed so, the regression's answers are those of
    the same statistics in float64 to within float32's own precision."""
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 4, 300)
    data = (rng.normal(size=(4, 900))[labels] + rng.normal(size=(300, 900))).astype(np.float32)
    single = fit_standardised_logistic_regression(data, labels, 0.01, components=64)
    double = fit_standardised_logistic_regression(data.astype(np.float64), labels, 0.01, components=64)
    assert single[1].components_.dtype == np.float64  # stored as every other component
    np.testing.assert_allclose(single.predict_proba(data), double.predict_proba(data), atol=1e-4)


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


def test_a_fold_scores_and_measures_familiarity_as_a_whole_fit_without_the_gaussians() -> None:
    """Leaving a painter out refits the representation once per painter: under a trunk, the fold
    skips concat's Gaussians (they serve sampling alone) and answers exactly as the whole fit does."""
    from painterly_vae.config import LossConfig
    from painterly_vae.inference.clustering import ArtistClusters
    from painterly_vae.inference.latents import LatentViews

    rng = np.random.default_rng(3)
    labels = np.repeat([0, 1, 2], 30)
    views = LatentViews(rng.normal(size=(90, 3, 6)).astype(np.float32) + labels[:, None, None], np.zeros((90, 3)),
                        np.zeros((90, 3)), rng.normal(size=(90, 12)) + labels[:, None], rng.normal(size=(90, 40)))
    for representation in ("concat+trunk+gram", "concat"):
        whole = ArtistClusters(["a", "b", "c"], [0, 1, 2], LossConfig(), representation).fit(views, labels)
        fold = ArtistClusters(["a", "b", "c"], [0, 1, 2], LossConfig(), representation).fit_fold(views, labels)
        np.testing.assert_array_equal(fold.decision_scores(views), whole.decision_scores(views))
        np.testing.assert_array_equal(fold.familiarity_signals(views), whole.familiarity_signals(views))
        assert (fold.scorer.means is None) == (representation != "concat")  # concat's Gaussians are its scores
