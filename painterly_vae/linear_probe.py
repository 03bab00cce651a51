"""A linear probe: fixed features of each painting, standardised, into a logistic regression.

The baselines `evaluate` sets beside the VAE differ only in their features (a colour
histogram; a frozen ImageNet network's pooled activations); the classifier on top is the
same: a multinomial logistic regression with balanced class weights (the artists' catalogues
are very unequal) on standardised features.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

Features = Callable[[np.ndarray], np.ndarray]  # (N, 3, H, W) uint8 -> (N, D)
DEFAULT_STRENGTH = 0.1  # the baselines' regularisation (scikit-learn's C)


def standardised_logistic_regression(strength: float, seed: int = 0):
    """The classifier every probe uses: standardise, then multinomial logistic regression with
    balanced class weights (`strength` is scikit-learn's C: smaller = more regularised)."""
    return make_pipeline(
        StandardScaler(),
        LogisticRegression(C=strength, max_iter=3000, class_weight="balanced", random_state=seed),
    )


class LinearProbe:
    """fit / predict / predict_proba on uint8 image arrays, through `features`."""

    def __init__(self, features: Features, strength: float = DEFAULT_STRENGTH, seed: int = 0) -> None:
        self.features = features
        self.model = standardised_logistic_regression(strength, seed)

    def fit(self, images: np.ndarray, labels: np.ndarray) -> "LinearProbe":
        self.model.fit(self.features(images), labels)
        return self

    @property
    def classes(self) -> np.ndarray:
        return self.model.classes_

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(self.features(images))

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.model.predict(self.features(images))
