"""How often a painter the run never saw passes as one it knows: measured when a run is fitted.

A run's probabilities are a softmax over its own painters: a Cassatt given to a run of five
Impressionists comes back as "Renoir 0.7" however unlike Renoir it is. The unknown-artist
threshold catches some strangers, but how many is a property of the run and its painters,
and every answer should say it. It is measured the only way a run can measure it on its own
data: leave one painter out. For each of the run's painters, the attribution is fitted again
(same representation, same rule for the threshold) on the training paintings of the others
and calibrated on their validation paintings; the held-out painter's validation paintings are
then strangers, and the share of them above that threshold is how often a stranger passes.
The mean over painters is what `attribute` quotes ("about 8 in 10 paintings by painters it
never saw pass as one of them").

The same folds choose what familiarity is (`familiarity.MIXES`): for each mix of signals, its
AUROC between the held-out painter's paintings and the others' validation paintings, and its
pass rate at that mix's threshold; the run keeps the mix with the best mean AUROC.

A run of many painters leaves out at most `clustering.left_out_painters` of them (20 by
default), spread evenly over its painters (`left_out_painters`): each fold refits a regression
over all the others, so leaving out every one of a hundred painters would cost the square of the
painters; a sample of twenty keeps the fit linear in them, and the rate is a mean over painters either way.

A run of two painters cannot do this (one painter left is not an attribution); the answer
then says it was not measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from painterly_vae.inference.familiarity import FamiliarityMix, available_mixes, threshold_letting_through
from painterly_vae.inference.latents import LatentViews

MIN_PAINTERS = 3  # leaving one out must leave an attribution between at least two


@dataclass
class StrangerRate:
    """The share of a held-out painter's validation paintings the others' attribution accepted."""

    pass_rate: float  # mean over the held-out painters
    per_artist: dict[str, float]
    paintings: int  # held-out validation paintings counted, over all painters
    mix: str = "score"  # the familiarity mix measured (and chosen); runs fitted before mixes: the score
    auroc: float | None = None  # its mean AUROC, strangers against the others' validation paintings
    mixes: dict[str, dict[str, float]] | None = None  # every mix measured: auroc, pass_rate
    painters: int = 0  # the run's painters, of which `per_artist`'s were left out (0: runs fitted before a limit: all)

    def state_dict(self) -> dict[str, object]:
        return {"pass_rate": self.pass_rate, "per_artist": dict(self.per_artist), "paintings": self.paintings,
                "mix": self.mix, "auroc": self.auroc, "mixes": self.mixes, "painters": self.painters}

    @classmethod
    def from_state_dict(cls, state: dict[str, object] | None) -> "StrangerRate | None":
        if not state:
            return None
        auroc = state.get("auroc")
        return cls(float(state["pass_rate"]), {k: float(v) for k, v in dict(state["per_artist"]).items()},
                   int(state["paintings"]), str(state.get("mix", "score")), None if auroc is None else float(auroc),
                   state.get("mixes"), int(state.get("painters", 0)))

    def describe(self) -> str:
        """'about 8 in 10 paintings by painters it never saw pass as one of them' (a sentence part)."""
        tenths = round(self.pass_rate * 10)
        share = ("nearly every painting" if tenths == 10 else "almost no painting" if tenths == 0
                 else f"about {tenths} in 10 paintings")
        verb = "passes" if tenths in (0, 10) else "pass"
        return f"{share} by painters it never saw {verb} as one of them (measured leaving {self.left_out()} out in turn)"

    def left_out(self) -> str:
        """Which painters the rate was measured on: 'each painter', or 'each of 20 of its 100 painters'."""
        if not self.painters or len(self.per_artist) >= self.painters:
            return "each painter"
        return f"each of {len(self.per_artist)} of its {self.painters} painters"


# what `measure_strangers` needs to fit an attribution on a subset of painters: their indices -> an
# object with fit_familiarity(views, labels), fit_exposure(views, labels, others), familiarity_signals(views)
# and accept_share (each mix is calibrated here)
ClustersFactory = Callable[[list[int]], object]


def left_out_painters(painters: int, at_most: int) -> list[int]:
    """The painters left out in turn: every one, or `at_most` of them (0: no limit) spread evenly
    over the run's order (the first and the last always among them)."""
    if not at_most or painters <= at_most:
        return list(range(painters))
    return [int(index) for index in np.unique(np.linspace(0, painters - 1, at_most).round())]


def measure_strangers(make_clusters: ClustersFactory, artists: list[str], train_views: LatentViews,
                      train_labels: np.ndarray, val_views: LatentViews, val_labels: np.ndarray,
                      others: LatentViews | None = None, at_most: int = 0) -> StrangerRate | None:
    """Leave each painter out in turn (see the module's docstring; `at_most`: that many of them at
    most, `left_out_painters`) and keep the familiarity mix with the best mean AUROC; None with
    fewer than MIN_PAINTERS painters or without validation paintings of every one of them.
    `others`: paintings by painters the run does not know, shown to every fold's familiarity as
    the whole run's is (`exposure`). `make_clusters` is given the painters kept."""
    from sklearn.metrics import roc_auc_score  # imported here: attribution never needs scikit-learn

    present = [a for a in range(len(artists)) if np.any(val_labels == a) and np.any(train_labels == a)]
    if len(artists) < MIN_PAINTERS or len(present) < len(artists):
        return None
    passed: dict[str, dict[str, float]] = {}  # mix -> held-out painter -> share passed
    aurocs: dict[str, list[float]] = {}
    counted = 0
    for held_out in left_out_painters(len(artists), at_most):
        kept = [a for a in range(len(artists)) if a != held_out]
        relabel = np.full(len(artists), -1)
        relabel[kept] = np.arange(len(kept))
        clusters = make_clusters(kept)
        in_train, in_val = train_labels != held_out, val_labels != held_out
        fold_views, fold_labels = train_views.select(in_train), relabel[train_labels[in_train]]
        clusters.fit_familiarity(fold_views, fold_labels)
        clusters.fit_exposure(fold_views, fold_labels, others)
        known = clusters.familiarity_signals(val_views.select(in_val))
        strangers = clusters.familiarity_signals(val_views.select(~in_val))
        for mix in available_mixes(known.shape[1]):
            combined = FamiliarityMix.fit(known, mix)
            familiar, stranger = combined.combine(known), combined.combine(strangers)
            threshold = threshold_letting_through(familiar, clusters.accept_share)
            passed.setdefault(mix, {})[artists[held_out]] = float(np.mean(stranger >= threshold))
            is_stranger = np.r_[np.zeros(len(familiar)), np.ones(len(stranger))]
            aurocs.setdefault(mix, []).append(float(roc_auc_score(is_stranger, -np.r_[familiar, stranger])))
        counted += len(strangers)
    mixes = {mix: {"auroc": float(np.mean(aurocs[mix])), "pass_rate": float(np.mean(list(passed[mix].values())))}
             for mix in passed}
    best = max(mixes, key=lambda mix: mixes[mix]["auroc"])
    return StrangerRate(mixes[best]["pass_rate"], passed[best], counted, best, mixes[best]["auroc"], mixes, len(artists))
