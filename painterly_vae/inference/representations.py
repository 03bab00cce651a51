"""How a painting is scored against each artist: the representations, one small class each.

A representation turns a painting's views (`latents.LatentViews`: its mu under every encoder,
each encoder's loss on it, the trunk's statistics) into one score per artist, higher = more
like that artist, and a familiarity (low = unlike every artist the run knows). It is fitted on
the training paintings of each artist; `clustering.ArtistClusters` calibrates its scores into
probabilities and a threshold, and stores it. Chosen by name in `REPRESENTATIONS` (the names
`clustering.representation` accepts are config.REPRESENTATIONS; a test keeps the two equal).

    concat   mu under every encoder, concatenated; one Gaussian per artist in that space
             (of the three that need no trunk, the best on real paintings by far)
    own      mu under artist a's encoder, scored against artist a's cluster. Weak by design:
             the KL term pulls each encoder's latents of its own artist towards N(0, I), so
             every artist's own cluster sits near the origin and other artists land there too
    elbo     each encoder's own loss on the painting (KL and pixel L1), standardised by how
             well that encoder explains its own artist's training paintings. A run trained
             with the DFC loss also trained on a deep-feature term that this score leaves out:
             it would need the feature network at every attribution, and the encoder whose
             reconstruction is closest in DFC error names the artist no better (47-50% on the
             five painters, experiments/record.md)
    concat+trunk  (runs with a trunk) concat beside the trunk's style statistics of the
             painting (each channel's mean and standard deviation at its style layers, read in
             the pass that feeds the encoders), scored by a logistic regression with balanced
             class weights: z carries what the encoders learned of each artist, the statistics
             the brushwork and palette a 100-number latent cannot keep. Its familiarity (is
             this painter one we know?) comes from a second regression on the trunk's Gram
             statistics alone (channel means and covariances at the same layers, reduced to
             256 principal components): the best unknown-artist detector measured, and one z
             does not improve (experiments/record.md). The Gaussian clusters of concat are fitted too
             (what `sample --artist` draws from).
    style    (runs with a trunk) the style statistics alone, in the same regression
    gram     (runs with a trunk) the Gram statistics' regression (concat+trunk's familiarity) alone
    concat+trunk+gram  (runs with a trunk) both regressions of concat+trunk, their
             probabilities multiplied: z and the style statistics beside the Gram statistics
             (the best of these on the five painters' validation paintings with MobileNetV2)
Which of them a run uses can be left to the validation paintings (`clustering.representation =
"auto"`, `representation_choice`).
Gaussians share one covariance (pooled within artists, Ledoit-Wolf shrinkage), as in linear
discriminant analysis: a few hundred paintings per artist cannot support one each.

Each stores plain arrays under the checkpoint keys it has always used (`STORED_KEYS`), so
runs fitted before these classes existed open unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax

from painterly_vae.config import LossConfig
from painterly_vae.inference.familiarity import nearest_similarity, unit_vectors
from painterly_vae.inference.latents import LatentViews

# concat+trunk's regularisation (scikit-learn's C): the best top-1 + balanced accuracy on the
# validation split of the five painters over 0.001-0.3 (two seeds at 64 px, one at 128 px).
TRUNK_PROBE_STRENGTH = 0.01
# concat+trunk's novelty regression reads this many principal components of the Gram statistics:
# the best of the candidates by leave-one-artist-out AUROC on the five painters (experiments/record.md).
GRAM_COMPONENTS = 256
# concat's one covariance over every encoder's z side by side grows with the square of painters x
# latent: 3.5 s to fit at 2,000 numbers a painting (20 painters), minutes at 10,000 (100). Beyond
# this many, trunk runs keep a covariance per encoder block for `sample` (all it reads of them) and
# do not offer concat among the candidates (`representation_choice`); below it nothing changes.
CONCAT_LIMIT = 2_000
# beyond CONCAT_LIMIT, concat+trunk's regression reads this many principal components of z beside
# the style statistics instead of all of them: at 100 painters 10,384 numbers a painting made its
# fit 188 s (and each of five cross-fitting folds about as long); through 512 components, seconds
PROBE_COMPONENTS = 512


# every key a fitted representation may store in the checkpoint's "clusters" (the others stored as None)
STORED_KEYS = ("means", "precision", "objective_mean", "objective_std", "probe", "novelty", "neighbours",
               "block_covariance")

Arrays = dict[str, "np.ndarray | dict[str, np.ndarray] | None"]


def concat_affordable(numbers: int) -> bool:
    """Whether a painting's z under every encoder (`numbers` of them: painters x latent) is small
    enough for one covariance over all of it, and for a regression on all of it (`CONCAT_LIMIT`)."""
    return numbers <= CONCAT_LIMIT


class Representation:
    """Scores of paintings against each artist; fitted on each artist's training paintings."""

    needs_reconstructions = False  # only a score of reconstructions needs the decoder pass per encoder
    needs_trunk = False  # only runs that read paintings through a pretrained trunk have its statistics
    # representations with the same key fit the same arrays and differ only in how they score
    # (`representation_choice.fit_representations` fits them once); None: a fit of its own
    shared_fit: str | None = None

    def __init__(self, artists: int, encoder_of_artist: list[int], loss: LossConfig) -> None:
        self.artists = artists
        self.encoder_of_artist = list(encoder_of_artist)
        self.loss = loss
        # the training paintings where familiarity's `nearest` looks (`fit_neighbours`); None in runs fitted before it
        self.neighbours: dict[str, np.ndarray] | None = None

    def fit(self, views: LatentViews, labels: np.ndarray) -> None:
        raise NotImplementedError

    def fit_fold(self, views: LatentViews, labels: np.ndarray, like: "Representation | None" = None) -> None:
        """Fit for a fold that leaves paintings out, which only scores paintings and measures their
        familiarity (never samples): as `fit`, unless part of the fit serves sampling alone.
        `like`: the same representation fitted on all the paintings, which a fold of the same
        painters may start its solvers from."""
        self.fit(views, labels)

    def fit_familiarity(self, views: LatentViews, labels: np.ndarray) -> None:
        """Fit what `familiarity` reads and no more: a fold that leaves a painter out to measure how
        strangers pass uses nothing else. As `fit_fold`, unless the familiarity reads less than the scores."""
        self.fit_fold(views, labels)

    def fit_neighbours(self, views: LatentViews) -> None:
        """Keep the training paintings, standardised, in the space `nearest` compares in."""
        features = self._neighbour_features(views)
        mean, scale = features.mean(0), np.maximum(features.std(0), 1e-9)
        self.neighbours = {"vectors": unit_vectors((features - mean) / scale), "mean": mean, "scale": scale}

    def familiarity_signals(self, views: LatentViews) -> np.ndarray:
        """(N, signals) `familiarity.SIGNALS`: the representation's own familiarity, and the
        similarity to the nearest training painting (absent for runs fitted before it)."""
        signals = [self.familiarity(views)]
        if self.neighbours is not None:
            stored = self.neighbours
            features = (self._neighbour_features(views) - stored["mean"]) / stored["scale"]
            signals.append(nearest_similarity(features, stored["vectors"]))
        return np.stack(signals, 1)

    def _neighbour_features(self, views: LatentViews) -> np.ndarray:
        """Where the nearest training painting is looked for: the embedding, unless a
        representation knows a better space."""
        return self.embedding(views)

    def scores(self, views: LatentViews) -> np.ndarray:
        """(N, artists) log-density-like scores: higher = more like that artist."""
        raise NotImplementedError

    def embedding(self, views: LatentViews) -> np.ndarray:
        """(N, D) the numbers it reads of each painting, unscaled: where "the nearest paintings"
        are looked for when an answer shows its evidence. mu under every encoder, concatenated,
        unless a representation reads more (or other numbers)."""
        return views.concatenated_mu()

    def familiarity(self, views: LatentViews) -> np.ndarray:
        """(N,) low = unlike every known artist: the best artist's score, unless a
        representation knows better."""
        return self.scores(views).max(1)

    def latent_gaussian(self, artist: int, latent_dim: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean (latent,) and covariance of mu under the artist's own encoder (`sample --artist`)."""
        raise ValueError("this representation holds no latent Gaussian")

    def arrays(self) -> Arrays:
        """What it stores, by checkpoint key (a subset of STORED_KEYS)."""
        raise NotImplementedError

    def load_arrays(self, stored: Arrays) -> None:
        raise NotImplementedError


class GaussianClusters(Representation):
    """One Gaussian per artist over `_features`, sharing a covariance (as in LDA)."""

    shared_features = False  # True: every artist's Gaussian reads the same features of a painting

    def __init__(self, artists: int, encoder_of_artist: list[int], loss: LossConfig) -> None:
        super().__init__(artists, encoder_of_artist, loss)
        self.means: np.ndarray | None = None  # (A, D)
        self.inverse_covariance: np.ndarray | None = None  # (D, D); "precision" in the checkpoint

    def _features(self, views: LatentViews, artist: int) -> np.ndarray:
        raise NotImplementedError

    def fit(self, views: LatentViews, labels: np.ndarray) -> None:
        from sklearn.covariance import LedoitWolf  # imported here: attribution never needs scikit-learn

        features = [self._features(views.select(labels == a), a) for a in range(self.artists)]
        self.means = np.stack([f.mean(0) for f in features])
        centred = np.concatenate([f - f.mean(0) for f in features])
        self.inverse_covariance = inverse_of(LedoitWolf(assume_centered=True, store_precision=False).fit(centred).covariance_)

    def scores(self, views: LatentViews) -> np.ndarray:
        if self.means is None or self.inverse_covariance is None:
            raise RuntimeError("fit the clusters first")
        if self.shared_features:
            return -0.5 * squared_mahalanobis(self._features(views, 0), self.means, self.inverse_covariance)
        return np.column_stack([-0.5 * squared_mahalanobis(self._features(views, a), self.means[a:a + 1],
                                                           self.inverse_covariance)[:, 0]
                                for a in range(self.artists)])

    def arrays(self) -> Arrays:
        return {"means": self.means, "precision": self.inverse_covariance, "neighbours": self.neighbours}

    def load_arrays(self, stored: Arrays) -> None:
        self.means, self.inverse_covariance = stored["means"], stored["precision"]
        self.neighbours = stored.get("neighbours")

    def _covariance(self) -> np.ndarray:
        if self.means is None or self.inverse_covariance is None:
            raise RuntimeError("fit the clusters first")
        return np.linalg.inv(self.inverse_covariance)


class Own(GaussianClusters):
    def _features(self, views: LatentViews, artist: int) -> np.ndarray:
        return views.mu[:, self.encoder_of_artist[artist], :].astype(np.float64)

    def latent_gaussian(self, artist: int, latent_dim: int) -> tuple[np.ndarray, np.ndarray]:
        covariance = self._covariance()
        return self.means[artist], covariance


class Concat(GaussianClusters):
    shared_features = True

    def _features(self, views: LatentViews, artist: int) -> np.ndarray:
        return views.concatenated_mu()

    def latent_gaussian(self, artist: int, latent_dim: int) -> tuple[np.ndarray, np.ndarray]:
        """The cluster's marginal on the artist's own encoder block."""
        covariance = self._covariance()
        encoder = self.encoder_of_artist[artist]
        block = slice(encoder * latent_dim, (encoder + 1) * latent_dim)
        return self.means[artist, block], covariance[block, block]


class Elbo(Representation):
    needs_reconstructions = True

    def __init__(self, artists: int, encoder_of_artist: list[int], loss: LossConfig) -> None:
        super().__init__(artists, encoder_of_artist, loss)
        self.objective_mean: np.ndarray | None = None  # (A,)
        self.objective_std: np.ndarray | None = None

    def fit(self, views: LatentViews, labels: np.ndarray) -> None:
        objective = views.objective(self.loss)
        own = [objective[labels == a, self.encoder_of_artist[a]] for a in range(self.artists)]
        self.objective_mean = np.array([o.mean() for o in own])
        self.objective_std = np.array([max(o.std(), 1e-6) for o in own])

    def scores(self, views: LatentViews) -> np.ndarray:
        if self.objective_mean is None:
            raise RuntimeError("fit the clusters first")
        objective = views.objective(self.loss)[:, self.encoder_of_artist]  # (N, A)
        return -(objective - self.objective_mean) / self.objective_std

    def embedding(self, views: LatentViews) -> np.ndarray:
        return views.objective(self.loss)

    def latent_gaussian(self, artist: int, latent_dim: int) -> tuple[np.ndarray, np.ndarray]:
        raise ValueError("elbo clusters score reconstruction errors and hold no latent Gaussian")

    def arrays(self) -> Arrays:
        return {"objective_mean": self.objective_mean, "objective_std": self.objective_std, "neighbours": self.neighbours}

    def load_arrays(self, stored: Arrays) -> None:
        self.objective_mean, self.objective_std = stored["objective_mean"], stored["objective_std"]
        self.neighbours = stored.get("neighbours")


class ConcatTrunk(Concat):
    needs_trunk = True
    shared_fit = "concat+trunk"  # its two regressions; gram and concat+trunk+gram score with them

    def __init__(self, artists: int, encoder_of_artist: list[int], loss: LossConfig) -> None:
        super().__init__(artists, encoder_of_artist, loss)
        self.probe: dict[str, np.ndarray] | None = None  # z and the style statistics: mean, scale, coef (A, D), intercept
        self.novelty: dict[str, np.ndarray] | None = None  # the Gram statistics' regression (with its PCA)
        self.block_covariance: np.ndarray | None = None  # (E, latent, latent) beyond CONCAT_LIMIT, instead of one
        # the paintings the Gram regression was just fitted on, as it read them, until `fit_neighbours` keeps them
        self._fitted_space: tuple[LatentViews, np.ndarray] | None = None

    def embedding(self, views: LatentViews) -> np.ndarray:
        return _with_trunk(views)

    def fit(self, views: LatentViews, labels: np.ndarray) -> None:
        # concat's Gaussians, what `sample --artist` draws from: one covariance, or one per encoder block
        if concat_affordable(views.concat_size):
            super().fit(views, labels)
        else:
            self.means, self.block_covariance = block_gaussians(views, labels, self.artists)
        self.fit_fold(views, labels)

    def fit_fold(self, views: LatentViews, labels: np.ndarray, like: Representation | None = None) -> None:
        """The two regressions, without concat's Gaussians: they serve `sample --artist` alone, and
        their covariance grows with the square of painters x latent (2,000 numbers a painting at
        20 painters: a Ledoit-Wolf fit of seconds in every fold). The regression on z and the
        style statistics starts from `like`'s (`fit_probe`); beyond `CONCAT_LIMIT` it reads
        `PROBE_COMPONENTS` principal components of them."""
        components = None if concat_affordable(views.concat_size) else PROBE_COMPONENTS
        self.probe = fit_probe(_with_trunk(views, np.float32), labels, self.artists, components,
                               like=getattr(like, "probe", None))
        self.fit_familiarity(views, labels)

    def fit_familiarity(self, views: LatentViews, labels: np.ndarray) -> None:
        """The Gram statistics' regression alone: the familiarity reads nothing else, and the
        regression on z and the style statistics is most of a fold's cost (10 of 11 s at 20 painters)."""
        self.novelty, space = fit_probe_reading(views.gram, labels, self.artists, GRAM_COMPONENTS)  # float32: `ExactPCA`
        self._fitted_space = (views, space)

    def fit_neighbours(self, views: LatentViews) -> None:
        """As every representation's, from the training paintings as the Gram regression's fit
        read them when these are its paintings (no second projection of thousands of statistics:
        a quarter of a left-out painter's fold at 20 painters)."""
        super().fit_neighbours(views)
        self._fitted_space = None  # not kept beyond the fit (nor the paintings with it)

    def scores(self, views: LatentViews) -> np.ndarray:
        if self.probe is None:
            raise RuntimeError("fit the clusters first")
        return probe_log_proba(self.probe, _with_trunk(views))

    def familiarity(self, views: LatentViews) -> np.ndarray:
        if self.novelty is None:  # stored before the Gram regression existed: the best score, as the others
            return super().familiarity(views)
        return self._gram_log_proba(views).max(1)

    def _gram_log_proba(self, views: LatentViews) -> np.ndarray:
        if self.novelty is None:
            raise RuntimeError("fit the clusters first")
        return probe_log_proba(self.novelty, views.gram.astype(np.float64))

    def _neighbour_features(self, views: LatentViews) -> np.ndarray:
        """The Gram regression's own space (its standardised principal components)."""
        if self.novelty is None:
            raise RuntimeError("fit the clusters first")
        if self._fitted_space is not None and self._fitted_space[0] is views:
            return self._fitted_space[1]
        return probe_space(self.novelty, views.gram.astype(np.float64))

    def latent_gaussian(self, artist: int, latent_dim: int) -> tuple[np.ndarray, np.ndarray]:
        if self.block_covariance is None:
            return super().latent_gaussian(artist, latent_dim)
        encoder = self.encoder_of_artist[artist]
        return self.means[artist, encoder * latent_dim:(encoder + 1) * latent_dim], self.block_covariance[encoder]

    def arrays(self) -> Arrays:
        return {**super().arrays(), "probe": self.probe, "novelty": self.novelty, "block_covariance": self.block_covariance}

    def load_arrays(self, stored: Arrays) -> None:
        super().load_arrays(stored)
        self.probe, self.novelty = stored.get("probe"), stored.get("novelty")
        self.block_covariance = stored.get("block_covariance")  # absent: one covariance (or runs fitted before)


class GramStatistics(ConcatTrunk):
    """The Gram statistics' regression alone (fitted as concat+trunk's familiarity)."""

    def fit_fold(self, views: LatentViews, labels: np.ndarray, like: Representation | None = None) -> None:
        """Its scores read the Gram regression alone: a fold fits nothing else."""
        self.fit_familiarity(views, labels)

    def scores(self, views: LatentViews) -> np.ndarray:
        return self._gram_log_proba(views)

    def embedding(self, views: LatentViews) -> np.ndarray:
        return self._neighbour_features(views)


class ConcatTrunkGram(ConcatTrunk):
    """concat+trunk's two regressions, their probabilities multiplied (and normalised again)."""

    def scores(self, views: LatentViews) -> np.ndarray:
        return log_softmax(super().scores(views) + self._gram_log_proba(views), axis=1)

    def embedding(self, views: LatentViews) -> np.ndarray:
        return np.hstack([_with_trunk(views), self._neighbour_features(views)])


class StyleStatistics(Representation):
    """The trunk's style statistics alone, in concat+trunk's regression."""

    needs_trunk = True

    def __init__(self, artists: int, encoder_of_artist: list[int], loss: LossConfig) -> None:
        super().__init__(artists, encoder_of_artist, loss)
        self.probe: dict[str, np.ndarray] | None = None

    def embedding(self, views: LatentViews) -> np.ndarray:
        return _style(views)

    def fit(self, views: LatentViews, labels: np.ndarray) -> None:
        self.probe = fit_probe(_style(views), labels, self.artists)

    def scores(self, views: LatentViews) -> np.ndarray:
        if self.probe is None:
            raise RuntimeError("fit the clusters first")
        return probe_log_proba(self.probe, _style(views))

    def arrays(self) -> Arrays:
        return {"probe": self.probe, "neighbours": self.neighbours}

    def load_arrays(self, stored: Arrays) -> None:
        self.probe, self.neighbours = stored.get("probe"), stored.get("neighbours")


def squared_mahalanobis(features: np.ndarray, means: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """(N, A) (x - m)^T P (x - m) of every painting x against every mean m, expanded as
    x^T P x - 2 m^T P x + m^T P m: three matrix products instead of a quadratic form per painting
    and mean (at 20 painters' 2,000-number concat, 0.1 s instead of 18 s for 189 paintings)."""
    projected = features @ precision  # (N, D); P is symmetric
    own = np.einsum("nd,nd->n", projected, features)
    means_projected = means @ precision  # (A, D)
    return own[:, None] - 2 * projected @ means.T + np.einsum("ad,ad->a", means_projected, means)[None, :]


REPRESENTATIONS: dict[str, type[Representation]] = {
    "own": Own,
    "concat": Concat,
    "elbo": Elbo,
    "concat+trunk": ConcatTrunk,
    "style": StyleStatistics,
    "gram": GramStatistics,
    "concat+trunk+gram": ConcatTrunkGram,
}


def inverse_of(covariance: np.ndarray) -> np.ndarray:
    """The inverse of a shrunk covariance, by its Cholesky factor: shrinkage toward a multiple of
    the identity makes it positive definite, and the factor costs a fraction of the
    eigendecomposition scikit-learn's pseudo-inverse takes (at 2,000 numbers a painting, 20
    painters' z, the fit 0.7 s instead of 2.8 s); the pseudo-inverse where it is not (a singular
    covariance: no shrinkage)."""
    import scipy.linalg

    try:
        factor = scipy.linalg.cho_factor(covariance, lower=True)
    except np.linalg.LinAlgError:
        return scipy.linalg.pinvh(covariance)
    inverse = scipy.linalg.cho_solve(factor, np.eye(len(covariance)))
    return (inverse + inverse.T) / 2  # exactly symmetric, as `squared_mahalanobis` assumes


def block_gaussians(views: LatentViews, labels: np.ndarray, artists: int) -> tuple[np.ndarray, np.ndarray]:
    """Each artist's mean of z under every encoder (A, E * latent), and for each encoder block the
    covariance pooled within artists (E, latent, latent; Ledoit-Wolf, as concat's one covariance):
    what `sample --artist` reads, at a cost linear in the encoders."""
    from sklearn.covariance import LedoitWolf  # imported here: attribution never needs scikit-learn

    mu = views.mu.astype(np.float64)
    means = np.stack([mu[labels == a].mean(0) for a in range(artists)])  # (A, E, latent)
    centred = mu - means[labels]
    covariance = np.stack([LedoitWolf(assume_centered=True).fit(centred[:, e]).covariance_ for e in range(mu.shape[1])])
    return means.reshape(artists, -1), covariance


def _with_trunk(views: LatentViews, precision: type = np.float64) -> np.ndarray:
    """(N, E * latent + S) concat and the trunk's style statistics side by side. Their regression is
    fitted on them in float32, as the encoders and the network give them: at twenty painters
    (1,507 paintings x 2,384 numbers) 1.2 s instead of 2.6 s, probabilities within 5e-4 of float64's
    (experiments/performance-record.md); it scores in float64."""
    return np.hstack([views.mu.reshape(len(views.mu), -1).astype(precision, copy=False), _style(views, precision)])


def _style(views: LatentViews, precision: type = np.float64) -> np.ndarray:
    if views.style.shape[1] == 0:
        raise ValueError("this representation needs a run with a trunk (model.trunk)")
    return views.style.astype(precision, copy=False)


def fit_probe(features: np.ndarray, labels: np.ndarray, artists: int,
              components: int | None = None, like: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """A balanced logistic regression of concat+trunk (`components`: on that many principal
    components of the standardised features), as plain arrays scored without scikit-learn.
    `like`: the same regression fitted on other paintings of the same painters (the whole run's,
    for a fold of its training paintings), which the solver starts from (`warm_start`)."""
    return fit_probe_reading(features, labels, artists, components, like)[0]


def fit_probe_reading(features: np.ndarray, labels: np.ndarray, artists: int, components: int | None = None,
                      like: dict[str, np.ndarray] | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """`fit_probe`, and the paintings as the regression read them (`probe_space` of `features`,
    from the fit itself)."""
    from painterly_vae.inference.linear_probe import fit_standardised_logistic_regression

    start = warm_start(like, features, artists) if like is not None and not components else None
    pipeline, space = fit_standardised_logistic_regression(features, labels, TRUNK_PROBE_STRENGTH, components=components,
                                                           start=start, with_space=True)
    regression = pipeline[-1]
    coef, intercept = regression.coef_, regression.intercept_
    if artists == 2:  # scikit-learn keeps one logit for two classes: the other's is 0
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    probe = {"mean": pipeline[0].mean_, "scale": pipeline[0].scale_, "coef": coef, "intercept": intercept}
    if len(pipeline) == 4:  # standardise, PCA, standardise, regression
        pca, rescale = pipeline[1], pipeline[2]
        probe.update(pca_mean=pca.mean_, pca_components=pca.components_, mean2=rescale.mean_, scale2=rescale.scale_)
    return probe, space


def warm_start(like: dict[str, np.ndarray], features: np.ndarray, artists: int
               ) -> tuple[np.ndarray, np.ndarray] | None:
    """`like`'s logits rewritten for features standardised by their own mean and scale, as the
    new regression will standardise them (the same logits for every painting), or None where
    there is nothing to start from (other painters, features or reduced features, two painters:
    scikit-learn keeps one logit for two)."""
    if "pca_components" in like or artists < 3 or like["coef"].shape != (artists, features.shape[1]):
        return None
    mean, scale = features.mean(0), features.std(0)
    scale[scale == 0] = 1.0  # as StandardScaler does for a constant feature
    coef = like["coef"] * scale / like["scale"]
    return coef, like["intercept"] + like["coef"] @ ((mean - like["mean"]) / like["scale"])


def probe_space(probe: dict[str, np.ndarray], features: np.ndarray) -> np.ndarray:
    """The features as the regression reads them: standardised (and reduced, when it was)."""
    features = (features - probe["mean"]) / probe["scale"]
    if "pca_components" in probe:
        features = ((features - probe["pca_mean"]) @ probe["pca_components"].T - probe["mean2"]) / probe["scale2"]
    return features


def probe_log_proba(probe: dict[str, np.ndarray], features: np.ndarray) -> np.ndarray:
    logits = probe_space(probe, features) @ probe["coef"].T + probe["intercept"]
    return log_softmax(logits, axis=1)
