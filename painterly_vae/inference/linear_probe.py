"""A linear probe: fixed features of each painting, standardised, into a logistic regression.

The baselines `evaluate` sets beside the VAE differ only in their features (a colour
histogram; a frozen ImageNet network's pooled activations); the classifier on top is the
same: a multinomial logistic regression with balanced class weights (the artists' catalogues
are very unequal) on standardised features.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

Features = Callable[[np.ndarray], np.ndarray]  # (N, 3, H, W) uint8 -> (N, D)
DEFAULT_STRENGTH = 0.1  # the baselines' regularisation (scikit-learn's C)
# The regression's objective is strictly convex, so every solver ends at the same optimum; Newton's
# method (conjugate gradients on the Hessian) gets there in 8-17 iterations where L-BFGS took up to
# 300: z beside the style statistics of twenty painters (1,507 paintings x 2,384 numbers) in 2.4 s
# instead of 10.5 s, with a lower objective on every collection measured
# (experiments/fit/fold_shortcuts.py; on synthetic statistics `bench/probe_fit.py`).
SOLVER = "newton-cg"


class ExactPCA(BaseEstimator, TransformerMixin):
    """The leading principal components, exactly, from the eigendecomposition of the smaller of the
    two products of the centred features (paintings x paintings when there are fewer paintings
    than features): the components of a full SVD (up to each one's sign, which the regression
    after it absorbs) at a fraction of its cost (`bench/probe_fit.py`). Features in single precision
    (the network's Gram statistics are stored so) are decomposed in single precision: on both
    collections the same validation answers within 2e-6 of a probability and the same strangers'
    AUROC to four digits, the painters left out in turn 1.3-1.45x sooner
    (experiments/performance-record.md). scikit-learn's attributes: `mean_`, `components_` (float64)."""

    def __init__(self, n_components: int) -> None:
        self.n_components = n_components

    def fit(self, features: np.ndarray, labels: object = None) -> "ExactPCA":
        self.fit_transform(features)
        return self

    def fit_transform(self, features: np.ndarray, labels: object = None) -> np.ndarray:
        """Fit, and the features' components: with fewer paintings than features they come out of
        the eigendecomposition itself (X V = U s), no second pass over the features (a fold's
        regression of the Gram statistics fits through here)."""
        features = np.asarray(features)
        precision = np.float32 if features.dtype == np.float32 else np.float64
        features = features.astype(precision, copy=False)
        self.mean_ = features.mean(0, dtype=np.float64)
        centred = features - self.mean_.astype(precision)
        wide = centred.shape[0] < centred.shape[1]
        product = centred @ centred.T if wide else centred.T @ centred
        size = len(product)
        keep = min(self.n_components, size)
        # only the leading eigenpairs (LAPACK's subset driver: 2.4 s instead of 17 s for all 2,471)
        values, vectors = scipy.linalg.eigh(product, subset_by_index=[size - keep, size - 1])
        values, vectors = np.maximum(values[::-1], 0.0), vectors[:, ::-1]
        if not wide:
            self.components_ = vectors.T.astype(np.float64)
            return (centred @ vectors).astype(np.float64)
        singular = np.sqrt(np.maximum(values, np.finfo(precision).tiny))  # left singular vectors to right ones: V = X^T U / s
        self.components_ = (centred.T @ vectors / singular).T.astype(np.float64)
        return (vectors * singular).astype(np.float64)

    def transform(self, features: np.ndarray) -> np.ndarray:
        return (np.asarray(features, np.float64) - self.mean_) @ self.components_.T


def standardised_logistic_regression(strength: float, seed: int = 0, components: int | None = None):
    """The classifier every probe uses: standardise, then multinomial logistic regression with
    balanced class weights (`strength` is scikit-learn's C: smaller = more regularised). With
    `components`, the standardised features are first reduced to that many principal
    components (and standardised again): for thousands of features against a few thousand
    paintings. The decomposition is the exact one (`ExactPCA`): the randomized default moved the
    five painters' unknown-artist AUROC by 0.01 and their balanced accuracy by 6 points from one
    random seed to the next. The solver is Newton's method with conjugate gradients (`SOLVER`)."""
    reduce = [ExactPCA(components), StandardScaler()] if components else []
    return make_pipeline(
        StandardScaler(),
        *reduce,
        LogisticRegression(C=strength, solver=SOLVER, max_iter=3000, class_weight="balanced", random_state=seed),
    )


def fit_standardised_logistic_regression(features: np.ndarray, labels: np.ndarray, strength: float, seed: int = 0,
                                         components: int | None = None,
                                         start: tuple[np.ndarray, np.ndarray] | None = None, with_space: bool = False):
    """`standardised_logistic_regression` fitted; a collection smaller than `components` (in
    paintings or features) gets as many components as it can have. `start`: the coefficients
    and intercepts, in the standardised features' space, that the solver begins from (a warm
    start: the objective is strictly convex, so it ends at the same optimum, sooner when the
    start is near it). `with_space`: also the features as the regression read them (standardised,
    reduced; in the features' precision where nothing reduced them), as the fit computed them."""
    if components:
        components = min(components, *features.shape)
    pipeline = standardised_logistic_regression(strength, seed, components)
    if start is not None:
        regression = pipeline[-1].set_params(warm_start=True)
        regression.coef_, regression.intercept_ = start
    space = pipeline[:-1].fit_transform(features)  # the slice's steps are the pipeline's own: fitted in place
    pipeline[-1].fit(space, labels)
    return (pipeline, space) if with_space else pipeline


def regression_objective(pipeline, features: np.ndarray, labels: np.ndarray) -> float:
    """What a fitted `standardised_logistic_regression`'s solver minimised, at its coefficients:
    C x the balanced log-loss + half the squared coefficients (lower: nearer the optimum every
    solver seeks; how solvers are compared)."""
    from scipy.special import log_softmax
    from sklearn.utils.class_weight import compute_sample_weight

    read, regression = pipeline[:-1].transform(features), pipeline[-1]
    log_p = log_softmax(read @ regression.coef_.T + regression.intercept_, axis=1)[np.arange(len(labels)), labels]
    return float(-regression.C * (compute_sample_weight("balanced", labels) * log_p).sum()
                 + 0.5 * (regression.coef_ ** 2).sum())


class LinearProbe:
    """fit / predict / predict_proba on uint8 image arrays, through `features`."""

    def __init__(self, features: Features, strength: float = DEFAULT_STRENGTH, seed: int = 0) -> None:
        self.features = features
        self.strength, self.seed = strength, seed
        self.model = None

    def fit(self, images: np.ndarray, labels: np.ndarray) -> "LinearProbe":
        self.model = fit_standardised_logistic_regression(self.features(images), labels, self.strength, self.seed)
        return self

    @property
    def classes(self) -> np.ndarray:
        return self.model.classes_

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(self.features(images))

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.model.predict(self.features(images))
