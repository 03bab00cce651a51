"""Artist clusters in the shared latent space: who painted this, and is it anyone we know?

`ArtistClusters` is a small estimator in the scikit-learn manner (fit, predict,
predict_proba, score) over `LatentViews`. It models each artist as a Gaussian cluster and
turns the per-artist log-densities into probabilities with a temperature calibrated on the
validation split; a painting whose best log-density is below a threshold (calibrated so that
a set share of validation paintings pass) is "unknown". Its state is tensors and plain
numbers, stored in the checkpoint and loaded with `weights_only=True`.

Representations of a painting whose artist is unknown (the README compares them):
    concat   mu under every encoder, concatenated; one Gaussian per artist in that space
             (default: of the three that need no trunk, the best on real paintings by far)
    own      mu under artist a's encoder, scored against artist a's cluster. Weak by design:
             the KL term pulls each encoder's latents of its own artist towards N(0, I), so
             every artist's own cluster sits near the origin and other artists land there too
    elbo     each encoder's own loss on the painting (KL and pixel L1), standardised by how
             well that encoder explains its own artist's training paintings. A run trained
             with the DFC loss also trained on a deep-feature term that this score leaves out:
             it would need the feature network at every attribution, and the encoder whose
             reconstruction is closest in DFC error names the artist no better (47-50% on the
             five painters, docs/results.md)
    concat+trunk  (runs with a trunk) concat beside the trunk's style statistics of the
             painting (each channel's mean and standard deviation at its style layers, read in
             the pass that feeds the encoders), scored by a logistic regression with balanced
             class weights: z carries what the encoders learned of each artist, the statistics
             the brushwork and palette a 100-number latent cannot keep. Its familiarity (is
             this painter one we know?) comes from a second regression on the trunk's Gram
             statistics alone (channel means and covariances at the same layers, reduced to
             256 principal components): the best unknown-artist detector measured, and one z
             does not improve (docs/results.md). The Gaussian clusters of concat are fitted too
             (what `sample --artist` draws from).
Gaussians share one covariance (pooled within artists, Ledoit-Wolf shrinkage), as in linear
discriminant analysis: a few hundred paintings per artist cannot support one each.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.special import log_softmax, softmax

from painterly_vae.config import REPRESENTATIONS, ClusteringConfig, LossConfig
from painterly_vae.inference.latents import LatentViews

DEFAULT_REPRESENTATION = ClusteringConfig().representation
TEMPERATURES = np.exp(np.linspace(np.log(1e-2), np.log(1e3), 241))
# concat+trunk's regularisation (scikit-learn's C): the best top-1 + balanced accuracy on the
# validation split of the five painters over 0.001-0.3 (two seeds at 64 px, one at 128 px).
TRUNK_PROBE_STRENGTH = 0.01
# concat+trunk's novelty regression reads this many principal components of the Gram statistics:
# the best of the candidates by leave-one-artist-out AUROC on the five painters (docs/results.md).
GRAM_COMPONENTS = 256


class ArtistClusters:
    """One Gaussian cluster per artist over a chosen representation of the latents."""

    def __init__(self, artists: list[str], encoder_of_artist: list[int], loss: LossConfig,
                 representation: str = DEFAULT_REPRESENTATION, accept_share: float = 0.95) -> None:
        if representation not in REPRESENTATIONS:
            raise ValueError(f"representation must be one of {REPRESENTATIONS}, got '{representation}'")
        self.artists = list(artists)
        self.encoder_of_artist = list(encoder_of_artist)
        self.loss = loss
        self.representation = representation
        self.accept_share = accept_share
        self.means: np.ndarray | None = None  # (A, D)
        self.inverse_covariance: np.ndarray | None = None  # (D, D) shared within artists; "precision" in the state dict
        self.objective_mean: np.ndarray | None = None  # (A,) for "elbo"
        self.objective_std: np.ndarray | None = None
        self.probe: dict[str, np.ndarray] | None = None  # concat+trunk: mean, scale, coef (A, D), intercept (A)
        self.novelty: dict[str, np.ndarray] | None = None  # concat+trunk: the Gram statistics' regression
        self.temperature = 1.0
        self.threshold = -np.inf
        self.validation: dict[str, float] | None = None  # how it attributed the validation paintings

    @property
    def needs_reconstructions(self) -> bool:
        """Only `elbo` scores reconstructions; the others need the posterior means alone."""
        return self.representation == "elbo"

    # ------------------------------------------------------------------ fitting
    def fit(self, views: LatentViews, labels: np.ndarray) -> "ArtistClusters":
        """Fit the clusters on training paintings (labels: artist indices)."""
        labels = np.asarray(labels)
        missing = [a for i, a in enumerate(self.artists) if not np.any(labels == i)]
        if missing:
            raise ValueError(f"no training paintings for {', '.join(missing)}")
        if self.representation == "elbo":
            objective = views.objective(self.loss)
            own = [objective[labels == a, self.encoder_of_artist[a]] for a in range(len(self.artists))]
            self.objective_mean = np.array([o.mean() for o in own])
            self.objective_std = np.array([max(o.std(), 1e-6) for o in own])
            return self
        from sklearn.covariance import LedoitWolf  # imported here: attribution never needs scikit-learn

        features = [self._features(views.select(labels == a), a) for a in range(len(self.artists))]
        self.means = np.stack([f.mean(0) for f in features])
        centred = np.concatenate([f - f.mean(0) for f in features])
        self.inverse_covariance = LedoitWolf(assume_centered=True).fit(centred).precision_
        if self.representation == "concat+trunk":
            self.probe = _fit_probe(_with_trunk(views), labels, len(self.artists))
            self.novelty = _fit_probe(views.gram.astype(np.float64), labels, len(self.artists), GRAM_COMPONENTS)
        return self

    def calibrate(self, views: LatentViews, labels: np.ndarray) -> "ArtistClusters":
        """Temperature (lowest NLL on a grid) and rejection threshold from validation paintings."""
        scores = self.decision_scores(views)
        labels = np.asarray(labels)
        if len(labels):
            nll = [-log_softmax(scores / t, axis=1)[np.arange(len(labels)), labels].mean() for t in TEMPERATURES]
            self.temperature = float(TEMPERATURES[int(np.argmin(nll))])
            self.threshold = float(np.quantile(self.familiarity(views), 1 - self.accept_share))
            predicted = scores.argmax(1)
            recalls = [np.mean(predicted[labels == a] == a) for a in np.unique(labels)]
            self.validation = {"paintings": len(labels), "top1": float(np.mean(predicted == labels)),
                               "balanced_accuracy": float(np.mean(recalls))}
        return self

    # ------------------------------------------------------------------ predicting
    def decision_scores(self, views: LatentViews) -> np.ndarray:
        """(N, A) log-density-like scores: higher = more like that artist."""
        if self.representation == "elbo":
            if self.objective_mean is None:
                raise RuntimeError("fit the clusters first")
            objective = views.objective(self.loss)[:, self.encoder_of_artist]  # (N, A)
            return -(objective - self.objective_mean) / self.objective_std
        if self.representation == "concat+trunk":
            if self.probe is None:
                raise RuntimeError("fit the clusters first")
            return _probe_log_proba(self.probe, _with_trunk(views))
        if self.means is None or self.inverse_covariance is None:
            raise RuntimeError("fit the clusters first")
        scores = np.empty((len(views), len(self.artists)))
        for a in range(len(self.artists)):
            difference = self._features(views, a) - self.means[a]
            scores[:, a] = -0.5 * np.einsum("nd,de,ne->n", difference, self.inverse_covariance, difference)
        return scores

    def predict_proba(self, views: LatentViews) -> np.ndarray:
        return softmax(self.decision_scores(views) / self.temperature, axis=1)

    def predict(self, views: LatentViews) -> np.ndarray:
        return self.decision_scores(views).argmax(1)

    def score(self, views: LatentViews, labels: np.ndarray) -> float:
        """Mean accuracy, as scikit-learn's classifiers define `score`."""
        return float(np.mean(self.predict(views) == np.asarray(labels)))

    def familiarity(self, views: LatentViews) -> np.ndarray:
        """(N,) the best artist's score (for concat+trunk, under the Gram statistics' regression):
        low = unlike every known artist."""
        if self.novelty is not None:
            return _probe_log_proba(self.novelty, views.gram.astype(np.float64)).max(1)
        return self.decision_scores(views).max(1)

    def is_unknown(self, views: LatentViews) -> np.ndarray:
        return self.familiarity(views) < self.threshold

    def latent_gaussian(self, artist: int, latent_dim: int) -> tuple[np.ndarray, np.ndarray]:
        """The artist's cluster seen from its own encoder: mean (latent,) and covariance
        (latent, latent) of mu under that encoder, what `sample --artist` draws from.

        For `concat` it is the cluster's marginal on the artist's encoder block; `elbo`
        clusters hold no latent Gaussian."""
        if self.representation == "elbo":
            raise ValueError("elbo clusters score reconstruction errors and hold no latent Gaussian")
        if self.means is None or self.inverse_covariance is None:
            raise RuntimeError("fit the clusters first")
        covariance = np.linalg.inv(self.inverse_covariance)
        if self.representation == "own":
            return self.means[artist], covariance
        block = slice(self.encoder_of_artist[artist] * latent_dim, (self.encoder_of_artist[artist] + 1) * latent_dim)
        return self.means[artist, block], covariance[block, block]

    def _features(self, views: LatentViews, artist: int) -> np.ndarray:
        if self.representation == "own":
            return views.mu[:, self.encoder_of_artist[artist], :].astype(np.float64)
        return views.concatenated_mu()

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Tensors and plain values only (checkpoints load with weights_only=True)."""
        tensor = lambda a: None if a is None else torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))  # noqa: E731
        return {
            "artists": list(self.artists),
            "encoder_of_artist": list(self.encoder_of_artist),
            "representation": self.representation,
            "accept_share": self.accept_share,
            "means": tensor(self.means),
            "precision": tensor(self.inverse_covariance),
            "objective_mean": tensor(self.objective_mean),
            "objective_std": tensor(self.objective_std),
            "probe": None if self.probe is None else {key: tensor(value) for key, value in self.probe.items()},
            "novelty": None if self.novelty is None else {key: tensor(value) for key, value in self.novelty.items()},
            "temperature": self.temperature,
            "threshold": self.threshold,
            "validation": self.validation,
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any], loss: LossConfig) -> "ArtistClusters":
        clusters = cls(state["artists"], state["encoder_of_artist"], loss, state["representation"], state["accept_share"])
        array = lambda t: None if t is None else t.numpy()  # noqa: E731
        clusters.means, clusters.inverse_covariance = array(state["means"]), array(state["precision"])
        clusters.objective_mean, clusters.objective_std = array(state["objective_mean"]), array(state["objective_std"])
        if state.get("probe") is not None:  # absent before concat+trunk existed
            clusters.probe = {key: array(value) for key, value in state["probe"].items()}
        if state.get("novelty") is not None:
            clusters.novelty = {key: array(value) for key, value in state["novelty"].items()}
        clusters.temperature, clusters.threshold = float(state["temperature"]), float(state["threshold"])
        clusters.validation = state.get("validation")  # absent in runs fitted before it was recorded
        return clusters

    def describe_validation(self) -> str:
        """One line on how the run attributed its own validation paintings (or why it cannot say)."""
        if not self.validation:
            return f"{self.representation}; no validation paintings to measure it on"
        v = self.validation
        return (f"{self.representation}: {v['top1']:.1%} top-1, {v['balanced_accuracy']:.1%} balanced on "
                f"{v['paintings']} validation paintings (evaluate measures the test split)")


def _with_trunk(views: LatentViews) -> np.ndarray:
    """(N, E * latent + S) concat and the trunk's style statistics side by side."""
    if views.style.shape[1] == 0:
        raise ValueError("concat+trunk needs a run with a trunk (model.trunk)")
    return np.hstack([views.concatenated_mu(), views.style.astype(np.float64)])


def _fit_probe(features: np.ndarray, labels: np.ndarray, artists: int,
               components: int | None = None) -> dict[str, np.ndarray]:
    """A balanced logistic regression of concat+trunk (`components`: on that many principal
    components of the standardised features), as plain arrays scored without scikit-learn."""
    from painterly_vae.inference.linear_probe import fit_standardised_logistic_regression

    pipeline = fit_standardised_logistic_regression(features, labels, TRUNK_PROBE_STRENGTH, components=components)
    regression = pipeline[-1]
    coef, intercept = regression.coef_, regression.intercept_
    if artists == 2:  # scikit-learn keeps one logit for two classes: the other's is 0
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    probe = {"mean": pipeline[0].mean_, "scale": pipeline[0].scale_, "coef": coef, "intercept": intercept}
    if len(pipeline) == 4:  # standardise, PCA, standardise, regression
        pca, rescale = pipeline[1], pipeline[2]
        probe.update(pca_mean=pca.mean_, pca_components=pca.components_, mean2=rescale.mean_, scale2=rescale.scale_)
    return probe


def _probe_log_proba(probe: dict[str, np.ndarray], features: np.ndarray) -> np.ndarray:
    features = (features - probe["mean"]) / probe["scale"]
    if "pca_components" in probe:
        features = ((features - probe["pca_mean"]) @ probe["pca_components"].T - probe["mean2"]) / probe["scale2"]
    logits = features @ probe["coef"].T + probe["intercept"]
    return log_softmax(logits, axis=1)
