"""Artist clusters in the shared latent space: who painted this, and is it anyone we know?

`ArtistClusters` is a small estimator in the scikit-learn manner (fit, predict,
predict_proba, score) over `LatentViews`. A representation (`representations`, chosen by
name, or by the validation paintings: `representation_choice`) scores each painting against
each artist; the scores become probabilities with a temperature calibrated on the validation
split, and a painting whose familiarity (`familiarity`: the representation's own score, the
similarity to the nearest training painting, or their mean, as leaving painters out chose) is
below a threshold (calibrated so that a set share of validation paintings pass) is "unknown". Its state is tensors and plain numbers, stored in the checkpoint and
loaded with `weights_only=True`, under the keys it has always had.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.special import log_softmax, softmax

from painterly_vae.config import REPRESENTATIONS, ClusteringConfig, LossConfig
from painterly_vae.inference import representations
from painterly_vae.inference.exposure import Exposure
from painterly_vae.inference.familiarity import FamiliarityMix, available_mixes, threshold_letting_through
from painterly_vae.inference.hard_pairs import PairSeparation
from painterly_vae.inference.known_paintings import KnownPaintings
from painterly_vae.inference.latents import LatentViews
from painterly_vae.inference.painter_thresholds import PainterThresholds
from painterly_vae.inference.plausible_painters import PlausiblePainters
from painterly_vae.inference.representation_choice import accuracy, describe_selection
from painterly_vae.inference.representations import STORED_KEYS, Representation
from painterly_vae.inference.strangers import StrangerRate

DEFAULT_REPRESENTATION = ClusteringConfig().representation
TEMPERATURES = np.exp(np.linspace(np.log(1e-2), np.log(1e3), 241))


class ArtistClusters:
    """Calibrated probabilities and an unknown-artist threshold over a chosen representation."""

    def __init__(self, artists: list[str], encoder_of_artist: list[int], loss: LossConfig,
                 representation: str = DEFAULT_REPRESENTATION, accept_share: float = 0.95) -> None:
        if representation not in REPRESENTATIONS:
            raise ValueError(f"representation must be one of {REPRESENTATIONS}, got '{representation}'")
        self.artists = list(artists)
        self.encoder_of_artist = list(encoder_of_artist)
        self.representation = representation
        self.scorer: Representation = representations.REPRESENTATIONS[representation](
            len(self.artists), self.encoder_of_artist, loss)
        self.accept_share = accept_share
        self.temperature = 1.0
        self.threshold = -np.inf
        self.validation: dict[str, float] | None = None  # how it attributed the validation paintings
        self.familiarity_reference: np.ndarray | None = None  # the validation paintings' familiarities, sorted
        self.strangers: StrangerRate | None = None  # how often a painter it never saw passes (`strangers`)
        self.known: KnownPaintings | None = None  # the paintings it was fitted and calibrated on
        self.familiarity_mix: FamiliarityMix | None = None  # None: runs calibrated before it (the score alone, raw)
        self.selection: dict[str, Any] | None = None  # how `representation_choice` chose (None: named in the config)
        self.pairs: PairSeparation | None = None  # how often it tells each pair of painters apart (validation)
        self.exposure: Exposure | None = None  # the familiarity's "someone else" (`exposure`); None: not shown any
        self.painter_thresholds: PainterThresholds | None = None  # one per painter (`painter_thresholds`); None: one for all
        self.plausible: PlausiblePainters | None = None  # each painter's probability floor (fitted with the above)

    @property
    def needs_reconstructions(self) -> bool:
        """Only `elbo` scores reconstructions; the others need the posterior means alone."""
        return self.scorer.needs_reconstructions

    @property
    def probe(self) -> dict[str, np.ndarray] | None:
        """concat+trunk's regression on z and the style statistics (None for the others)."""
        return getattr(self.scorer, "probe", None)

    @property
    def novelty(self) -> dict[str, np.ndarray] | None:
        """concat+trunk's regression on the Gram statistics, its familiarity (None for the others)."""
        return getattr(self.scorer, "novelty", None)

    # ------------------------------------------------------------------ fitting
    def fit(self, views: LatentViews, labels: np.ndarray) -> "ArtistClusters":
        """Fit on training paintings (labels: artist indices)."""
        labels = np.asarray(labels)
        missing = [a for i, a in enumerate(self.artists) if not np.any(labels == i)]
        if missing:
            raise ValueError(f"no training paintings for {', '.join(missing)}")
        self.scorer.fit(views, labels)
        self.scorer.fit_neighbours(views)
        return self

    def fit_fold(self, views: LatentViews, labels: np.ndarray, like: "ArtistClusters | None" = None) -> "ArtistClusters":
        """Fit on a fold that leaves paintings out, to score them and measure familiarity only
        (`Representation.fit_fold`: what serves sampling alone is not fitted); `like`: the same
        attribution fitted on every training painting of the same painters, where its solvers
        may start (the cross-fitted calibration's folds)."""
        self.scorer.fit_fold(views, np.asarray(labels), None if like is None else like.scorer)
        self.scorer.fit_neighbours(views)
        return self

    def fit_familiarity(self, views: LatentViews, labels: np.ndarray) -> "ArtistClusters":
        """Fit on a fold that leaves a painter out only what its familiarity reads
        (`Representation.fit_familiarity`): such a fold measures how strangers pass and nothing else."""
        self.scorer.fit_familiarity(views, np.asarray(labels))
        self.scorer.fit_neighbours(views)
        return self

    def fit_exposure(self, views: LatentViews, labels: np.ndarray, others: LatentViews | None) -> "ArtistClusters":
        """Show the familiarity paintings by other painters (`exposure`), beside the training
        paintings it was fitted on; None: none (the familiarity has its two signals)."""
        self.exposure = None if others is None else Exposure.fit(views, np.asarray(labels), others)
        return self

    def calibrate(self, views: LatentViews, labels: np.ndarray, mix: str | None = None) -> "ArtistClusters":
        """Temperature (lowest NLL on a grid) and rejection threshold from validation paintings;
        `mix`: which familiarity signals (`familiarity.MIXES`; default: every one the run has)."""
        scores = self.decision_scores(views)
        labels = np.asarray(labels)
        if len(labels):
            nll = [-log_softmax(scores / t, axis=1)[np.arange(len(labels)), labels].mean() for t in TEMPERATURES]
            self.temperature = float(TEMPERATURES[int(np.argmin(nll))])
            signals = self.familiarity_signals(views)
            self.familiarity_mix = FamiliarityMix.fit(signals, mix or available_mixes(signals.shape[1])[-1])
            familiarity = self.familiarity_mix.combine(signals)
            self.threshold = threshold_letting_through(familiarity, self.accept_share)
            self.familiarity_reference = np.sort(familiarity)
            self.validation = {"paintings": len(labels), **accuracy(scores.argmax(1), labels)}
            self.pairs = PairSeparation.measure(scores, labels)
        return self

    # ------------------------------------------------------------------ predicting
    def decision_scores(self, views: LatentViews) -> np.ndarray:
        """(N, A) log-density-like scores: higher = more like that artist."""
        return self.scorer.scores(views)

    def predict_proba(self, views: LatentViews) -> np.ndarray:
        return softmax(self.decision_scores(views) / self.temperature, axis=1)

    def predict(self, views: LatentViews) -> np.ndarray:
        return self.decision_scores(views).argmax(1)

    def score(self, views: LatentViews, labels: np.ndarray) -> float:
        """Mean accuracy, as scikit-learn's classifiers define `score`."""
        return float(np.mean(self.predict(views) == np.asarray(labels)))

    def familiarity(self, views: LatentViews) -> np.ndarray:
        """(N,) low = unlike every known artist: the chosen mix of `familiarity_signals`."""
        signals = self.familiarity_signals(views)
        return signals[:, 0] if self.familiarity_mix is None else self.familiarity_mix.combine(signals)

    def familiarity_signals(self, views: LatentViews) -> np.ndarray:
        """(N, signals) every familiarity signal (`familiarity.SIGNALS`) before they are mixed."""
        signals = self.scorer.familiarity_signals(views)
        if self.exposure is None:
            return signals
        return np.column_stack([signals, self.exposure.signal(views)])

    def embedding(self, views: LatentViews) -> np.ndarray:
        """(N, D) the numbers the attribution reads of each painting (where evidence is looked for)."""
        return self.scorer.embedding(views)

    def is_unknown(self, views: LatentViews) -> np.ndarray:
        return self.rejects(self.familiarity(views), self.predict(views))

    def rejects(self, familiarity: np.ndarray, named: np.ndarray) -> np.ndarray:
        """(N,) "unknown artist": below the run's one threshold, or, with a threshold per painter,
        less like the run's painters than the threshold of the painter each is `named`."""
        familiarity = np.asarray(familiarity)
        if self.painter_thresholds is None:
            return familiarity < self.threshold
        return self.painter_thresholds.rejects(self.likeness(familiarity), named)

    def plausible_given(self, probabilities: np.ndarray, familiarity: np.ndarray) -> np.ndarray | None:
        """(N, painters) the plausible painters (`plausible_painters`): those whose probability
        reaches their floor, none for a painting called unknown; None for runs without floors."""
        if self.plausible is None:
            return None
        sets = self.plausible.sets(probabilities)
        sets[self.rejects(familiarity, np.asarray(probabilities).argmax(1))] = False
        return sets

    def threshold_for(self, named: int) -> float:
        """The familiarity below which a painting named painter `named` is unknown (the run's one
        threshold, or that painter's own as a familiarity: the lowest validation familiarity
        with at least its share of the validation paintings at or below it)."""
        if self.painter_thresholds is None:
            return self.threshold
        share, reference = float(self.painter_thresholds.shares[named]), self.familiarity_reference
        if not np.isfinite(share) or share <= 0:
            return -np.inf
        return float(reference[min(int(np.ceil(share * len(reference))), len(reference)) - 1])

    def likeness(self, familiarity: np.ndarray) -> np.ndarray:
        """(N,) the share of the validation paintings each is at least as familiar as."""
        reference = self.familiarity_reference
        return np.searchsorted(reference, np.asarray(familiarity), side="right") / len(reference)

    def describe_familiarity(self, familiarity: float) -> str | None:
        """The familiarity as a reader's sentence part: 'less like these painters than 97% of
        their own paintings' (against the validation paintings); None for runs fitted before
        the reference was kept."""
        reference = self.familiarity_reference
        if reference is None or not len(reference):
            return None
        below = float(self.likeness(np.array([familiarity]))[0])
        if below < 0.5:
            return f"less like these painters than {round((1 - below) * 100)}% of their own paintings"
        return f"as like these painters as {round(below * 100)}% of their own paintings are, or more"

    def describe_threshold(self) -> str:
        """What "unknown artist" means for this run, in one sentence (what it costs the run's own
        painters, and what it caught when each painter was left out)."""
        passing = round(self.accept_share * 100)
        if self.painter_thresholds is not None:
            sentence = (f"'unknown artist' means less like these painters than {passing}% of the named painter's own "
                        f"paintings are, set painter by painter (so at most about {100 - passing}% of any painter's "
                        f"own are called unknown)")
        else:
            sentence = (f"'unknown artist' means less like these painters than {passing}% of their own validation "
                        f"paintings are (so about {100 - passing}% of theirs are called unknown too)")
        rate = self.strangers
        if rate is not None and rate.auroc is not None:
            sentence += f"; with {rate.left_out()} left out in turn, it caught {1 - rate.pass_rate:.0%} of that painter's paintings"
            if self.painter_thresholds is not None:
                sentence += " (with one threshold for all)"
        if self.exposure is not None and self.familiarity_mix is not None and "exposure" in self.familiarity_mix.mix:
            sentence += f"; what someone else looks like, it learnt from {self.exposure.paintings:,} paintings of other painters"
        return sentence

    def latent_gaussian(self, artist: int, latent_dim: int) -> tuple[np.ndarray, np.ndarray]:
        """The artist's cluster seen from its own encoder: mean (latent,) and covariance
        (latent, latent) of mu under that encoder, what `sample --artist` draws from; `elbo`
        holds none (ValueError)."""
        return self.scorer.latent_gaussian(artist, latent_dim)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Tensors and plain values only (checkpoints load with weights_only=True)."""
        stored = {key: None for key in STORED_KEYS}
        stored.update({key: _tensors(value) for key, value in self.scorer.arrays().items()})
        return {
            "artists": list(self.artists),
            "encoder_of_artist": list(self.encoder_of_artist),
            "representation": self.representation,
            "accept_share": self.accept_share,
            **stored,
            "temperature": self.temperature,
            "threshold": self.threshold,
            "validation": self.validation,
            "familiarity_reference": _tensors(self.familiarity_reference),
            "strangers": self.strangers.state_dict() if self.strangers is not None else None,
            "known_paintings": self.known.state_dict() if self.known is not None else None,
            "familiarity_mix": _tensors(self.familiarity_mix.state_dict()) if self.familiarity_mix is not None else None,
            "selection": self.selection,
            "pairs": _tensors(self.pairs.state_dict()) if self.pairs is not None else None,
            "exposure": _tensors(self.exposure.state_dict()) if self.exposure is not None else None,
            "painter_thresholds": (_tensors(self.painter_thresholds.state_dict())
                                   if self.painter_thresholds is not None else None),
            "plausible": _tensors(self.plausible.state_dict()) if self.plausible is not None else None,
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any], loss: LossConfig) -> "ArtistClusters":
        clusters = cls(state["artists"], state["encoder_of_artist"], loss, state["representation"], state["accept_share"])
        clusters.scorer.load_arrays({key: _arrays(state.get(key)) for key in STORED_KEYS})  # absent: stored before it existed
        clusters.temperature, clusters.threshold = float(state["temperature"]), float(state["threshold"])
        clusters.validation = state.get("validation")  # absent in runs fitted before it was recorded
        clusters.familiarity_reference = _arrays(state.get("familiarity_reference"))  # these three: likewise
        clusters.strangers = StrangerRate.from_state_dict(state.get("strangers"))
        clusters.known = KnownPaintings.from_state_dict(state.get("known_paintings"))
        clusters.familiarity_mix = FamiliarityMix.from_state_dict(_arrays(state.get("familiarity_mix")))
        clusters.selection = state.get("selection")
        clusters.pairs = PairSeparation.from_state_dict(_arrays(state.get("pairs")))  # absent before pairs
        clusters.exposure = Exposure.from_state_dict(_arrays(state.get("exposure")))  # absent: shown no others
        clusters.painter_thresholds = PainterThresholds.from_state_dict(_arrays(state.get("painter_thresholds")))
        clusters.plausible = PlausiblePainters.from_state_dict(_arrays(state.get("plausible")))
        return clusters

    def describe_validation(self) -> str:
        """One line on how the run attributed its own validation paintings (or why it cannot say)."""
        if not self.validation:
            return f"{self.representation}; no validation paintings to measure it on"
        v = self.validation
        chosen = describe_selection(self.selection)
        return (f"{self.representation}: {v['top1']:.1%} top-1, {v['balanced_accuracy']:.1%} balanced on "
                f"{v['paintings']} validation paintings (evaluate measures the test split)"
                + (f"; {chosen}" if chosen else ""))


def _tensors(value: Any) -> Any:
    """Arrays (or a dict of them) as tensors for the checkpoint: float64, float32 ones kept float32
    (the stored training paintings of `nearest`); other values as they are."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, dict):
        return {key: _tensors(item) for key, item in value.items()}
    array = np.asarray(value)
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32 if array.dtype == np.float32 else np.float64))


def _arrays(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, dict):
        return {key: _arrays(item) for key, item in value.items()}
    return value.numpy()
