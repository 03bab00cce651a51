"""The attribution's fit made cheaper without changing its answers: Gaussian scores by matrix
products, folds that fit only what the familiarity reads, the Gram representation's folds without
the regression on z, at most `clustering.left_out_painters` painters left out in turn, the
regression's Newton solver and the covariance inverted by its Cholesky factor."""

from __future__ import annotations

import numpy as np
import pytest

from painterly_vae.config import LossConfig, load_config
from painterly_vae.errors import UsageError
from painterly_vae.inference.clustering import ArtistClusters
from painterly_vae.inference.latents import LatentViews
from painterly_vae.inference.representations import squared_mahalanobis
from painterly_vae.inference.strangers import left_out_painters, measure_strangers

PAINTERS = 6


def constructed_views(seed: int, each: int) -> tuple[LatentViews, np.ndarray]:
    """Six painters whose z (one 4-number block per encoder), style and Gram statistics all carry
    the painter, with noise: every representation tells them apart, none perfectly."""
    rng = np.random.default_rng(seed)
    centre = np.random.default_rng(99).standard_normal
    mu_c, style_c, gram_c = centre((PAINTERS, PAINTERS, 4)), centre((PAINTERS, 10)), centre((PAINTERS, 40))
    labels = np.repeat(np.arange(PAINTERS), each)
    n = len(labels)
    mu = (mu_c[labels] + 1.5 * rng.standard_normal((n, PAINTERS, 4))).astype(np.float32)
    style = (style_c[labels] + 1.5 * rng.standard_normal((n, 10))).astype(np.float32)
    gram = (gram_c[labels] + 2.0 * rng.standard_normal((n, 40))).astype(np.float32)
    return LatentViews(mu, np.zeros((n, PAINTERS)), np.ones((n, PAINTERS)), style, gram), labels


def clusters(representation: str, painters: int = PAINTERS) -> ArtistClusters:
    return ArtistClusters([f"p{a}" for a in range(painters)], list(range(painters)), LossConfig(), representation, 0.9)


def test_squared_mahalanobis_is_the_quadratic_form_of_every_painting_against_every_mean() -> None:
    rng = np.random.default_rng(0)
    features, means = rng.standard_normal((7, 5)), rng.standard_normal((3, 5))
    root = rng.standard_normal((5, 5))
    precision = root @ root.T + np.eye(5)
    expected = np.array([[(x - m) @ precision @ (x - m) for m in means] for x in features])
    np.testing.assert_allclose(squared_mahalanobis(features, means, precision), expected, rtol=1e-10)


@pytest.mark.parametrize("representation", ["concat", "own"])
def test_gaussian_clusters_score_as_before(representation: str) -> None:
    train, train_labels = constructed_views(0, 30)
    test, test_labels = constructed_views(1, 20)
    fitted = clusters(representation).fit(train, train_labels)
    scorer = fitted.scorer
    expected = np.column_stack([
        -0.5 * np.einsum("nd,de,ne->n", scorer._features(test, a) - scorer.means[a], scorer.inverse_covariance,
                         scorer._features(test, a) - scorer.means[a])
        for a in range(PAINTERS)])
    np.testing.assert_allclose(fitted.decision_scores(test), expected, rtol=1e-9, atol=1e-9)
    assert fitted.score(test, test_labels) > 1.5 / PAINTERS  # better than chance: the scores still name painters


@pytest.mark.parametrize("representation", ["concat+trunk+gram", "concat+trunk", "gram", "style", "concat"])
def test_a_fold_fitted_for_the_familiarity_alone_measures_strangers_as_a_whole_fit(representation: str) -> None:
    train, train_labels = constructed_views(0, 30)
    val, _ = constructed_views(2, 15)
    whole = clusters(representation).fit_fold(train, train_labels)
    familiarity_only = clusters(representation).fit_familiarity(train, train_labels)
    np.testing.assert_allclose(familiarity_only.familiarity_signals(val), whole.familiarity_signals(val), rtol=1e-12)


def test_the_gram_representation_scores_the_same_from_a_fold_without_the_regression_on_z() -> None:
    train, train_labels = constructed_views(0, 30)
    test, _ = constructed_views(1, 20)
    whole = clusters("gram").fit(train, train_labels)
    fold = clusters("gram").fit_fold(train, train_labels)
    assert fold.probe is None  # the regression on z and the style statistics was never fitted
    np.testing.assert_allclose(fold.decision_scores(test), whole.decision_scores(test), rtol=1e-12)


def test_at_most_so_many_painters_are_left_out_spread_over_the_run() -> None:
    assert left_out_painters(5, 20) == [0, 1, 2, 3, 4]
    assert left_out_painters(100, 0) == list(range(100))
    chosen = left_out_painters(100, 20)
    assert len(chosen) == 20 and chosen[0] == 0 and chosen[-1] == 99
    assert max(np.diff(chosen)) - min(np.diff(chosen)) <= 1  # evenly spread


def test_a_limit_on_the_painters_left_out_measures_that_many_and_says_so() -> None:
    train, train_labels = constructed_views(0, 30)
    val, val_labels = constructed_views(2, 15)
    names = [f"p{a}" for a in range(PAINTERS)]
    made = []

    def clusters_of(kept: list[int]) -> ArtistClusters:
        made.append(kept)
        return clusters("gram", len(kept))

    every = measure_strangers(clusters_of, names, train, train_labels, val, val_labels)
    limited = measure_strangers(clusters_of, names, train, train_labels, val, val_labels, at_most=3)
    assert len(made) == PAINTERS + 3
    assert sorted(limited.per_artist) == ["p0", "p2", "p5"]
    for name in limited.per_artist:  # each left-out painter measured as when every one is left out
        assert limited.per_artist[name] == every.per_artist[name]
    assert "leaving each painter out in turn" in every.describe()
    assert "leaving each of 3 of its 6 painters out in turn" in limited.describe()
    assert limited.left_out() == "each of 3 of its 6 painters"


def test_the_limit_is_a_checked_config_key() -> None:
    assert load_config().clustering.left_out_painters == 20
    assert load_config(None, ["clustering.left_out_painters=0"]).clustering.left_out_painters == 0
    with pytest.raises((UsageError, ValueError), match="clustering.left_out_painters"):
        load_config(None, ["clustering.left_out_painters=-1"])


def test_a_warm_start_is_the_whole_fits_logits_and_ends_where_a_cold_fit_ends() -> None:
    from painterly_vae.inference.representations import _with_trunk, fit_probe, probe_log_proba, warm_start

    train, train_labels = constructed_views(0, 30)
    test, _ = constructed_views(1, 20)
    features, held = _with_trunk(train), np.arange(len(train_labels)) % 5 != 0  # a cross-fitting fold
    whole = fit_probe(features, train_labels, PAINTERS)
    coef, intercept = warm_start(whole, features[held], PAINTERS)
    mean, scale = features[held].mean(0), features[held].std(0)
    start_logits = ((features - mean) / scale) @ coef.T + intercept
    whole_logits = ((features - whole["mean"]) / whole["scale"]) @ whole["coef"].T + whole["intercept"]
    np.testing.assert_allclose(start_logits, whole_logits, rtol=1e-9, atol=1e-9)  # the same logits, rewritten
    cold = fit_probe(features[held], train_labels[held], PAINTERS)
    warm = fit_probe(features[held], train_labels[held], PAINTERS, like=whole)
    tested = _with_trunk(test)
    np.testing.assert_allclose(np.exp(probe_log_proba(warm, tested)), np.exp(probe_log_proba(cold, tested)), atol=0.02)
    assert warm_start(whole, features[held][:, :-1], PAINTERS) is None  # other features: nothing to start from


def test_beyond_the_concat_limit_sampling_keeps_a_covariance_per_encoder_and_auto_skips_concat(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from painterly_vae.inference import representations
    from painterly_vae.inference.representation_choice import candidates

    assert "concat" in candidates(True, 2_000) and "concat" not in candidates(True, 2_001)
    assert candidates(False, 10_000) == ("concat",)  # without a trunk it is the only one
    train, train_labels = constructed_views(0, 30)
    one = clusters("concat+trunk").fit(train, train_labels)
    monkeypatch.setattr(representations, "CONCAT_LIMIT", 10)  # 6 painters x 4 numbers is beyond it
    blocks = clusters("concat+trunk").fit(train, train_labels)
    assert one.scorer.block_covariance is None and blocks.scorer.block_covariance.shape == (PAINTERS, 4, 4)
    for artist in range(PAINTERS):  # the same mean; both covariances near the painters' spread (1.5 a number)
        mean_one, covariance_one = one.latent_gaussian(artist, 4)
        mean_block, covariance_block = blocks.latent_gaussian(artist, 4)
        np.testing.assert_allclose(mean_block, mean_one, rtol=1e-9)
        for covariance in (covariance_one, covariance_block):
            np.testing.assert_allclose(np.diag(covariance), 2.25, rtol=0.15)
            assert np.abs(covariance - np.diag(np.diag(covariance))).max() < 0.35
    stored = ArtistClusters.from_state_dict(blocks.state_dict(), LossConfig())
    np.testing.assert_array_equal(stored.latent_gaussian(2, 4)[1], blocks.latent_gaussian(2, 4)[1])
    np.testing.assert_array_equal(stored.predict_proba(train), blocks.predict_proba(train))  # attribution unchanged
    assert blocks.scorer.inverse_covariance is None  # no covariance over every encoder's z was fitted


def test_beyond_the_concat_limit_the_regression_on_z_reads_principal_components(monkeypatch: pytest.MonkeyPatch) -> None:
    from painterly_vae.inference import representations

    train, train_labels = constructed_views(0, 30)
    test, test_labels = constructed_views(1, 20)
    whole = clusters("concat+trunk").fit(train, train_labels)
    monkeypatch.setattr(representations, "CONCAT_LIMIT", 10)
    monkeypatch.setattr(representations, "PROBE_COMPONENTS", 12)
    reduced = clusters("concat+trunk").fit(train, train_labels)
    assert "pca_components" not in whole.probe
    assert reduced.probe["pca_components"].shape == (12, PAINTERS * 4 + 10)  # z of six encoders and the style
    assert reduced.score(test, test_labels) > whole.score(test, test_labels) - 0.1  # names painters about as well
    stored = ArtistClusters.from_state_dict(reduced.state_dict(), LossConfig())
    np.testing.assert_array_equal(stored.predict_proba(test), reduced.predict_proba(test))


def test_newtons_method_ends_where_lbfgs_ends_or_nearer_the_optimum() -> None:
    """Both solve the same strictly convex objective: the regression's answers agree, and Newton's
    objective is no higher (L-BFGS stops on its tolerance a little short of the optimum)."""
    from painterly_vae.inference import linear_probe
    from painterly_vae.inference.representations import TRUNK_PROBE_STRENGTH, _with_trunk

    train, labels = constructed_views(0, 30)
    test, _ = constructed_views(1, 20)
    features = _with_trunk(train)

    def objective(pipeline) -> float:
        return linear_probe.regression_objective(pipeline, features, labels)

    newton = linear_probe.fit_standardised_logistic_regression(features, labels, TRUNK_PROBE_STRENGTH)
    lbfgs = linear_probe.standardised_logistic_regression(TRUNK_PROBE_STRENGTH)
    lbfgs[-1].set_params(solver="lbfgs")
    lbfgs.fit(features, labels)
    assert newton[-1].solver == "newton-cg"
    assert objective(newton) <= objective(lbfgs) + 1e-9
    np.testing.assert_allclose(newton.predict_proba(_with_trunk(test)), lbfgs.predict_proba(_with_trunk(test)), atol=0.01)


def test_a_shrunk_covariance_is_inverted_by_its_cholesky_factor_and_a_singular_one_still_inverts() -> None:
    from painterly_vae.inference.representations import inverse_of

    rng = np.random.default_rng(5)
    root = rng.standard_normal((30, 12))
    shrunk = 0.9 * root.T @ root / 30 + 0.1 * np.eye(12)
    np.testing.assert_allclose(inverse_of(shrunk) @ shrunk, np.eye(12), atol=1e-9)
    singular = root[:, :3].T @ root[:, :3]  # rank 3 of 3, then padded with a zero row and column
    padded = np.pad(singular, ((0, 1), (0, 1)))
    inverse = inverse_of(padded)  # no Cholesky factor: the pseudo-inverse
    np.testing.assert_allclose(inverse[:3, :3] @ singular, np.eye(3), atol=1e-9)
    assert np.all(inverse[3] == 0)


@pytest.mark.parametrize("representation", ["gram", "concat+trunk+gram"])
def test_the_nearest_paintings_are_kept_from_the_fit_as_a_second_projection_would_keep_them(representation: str) -> None:
    from painterly_vae.inference.familiarity import unit_vectors
    from painterly_vae.inference.representations import probe_space

    train, train_labels = constructed_views(0, 30)
    fitted = clusters(representation).fit_fold(train, train_labels)
    again = probe_space(fitted.scorer.novelty, train.gram.astype(np.float64))
    expected = unit_vectors((again - again.mean(0)) / again.std(0))
    np.testing.assert_allclose(fitted.scorer.neighbours["vectors"], expected, atol=1e-5)
    assert fitted.scorer._fitted_space is None  # the training paintings are not held beyond the fit
