"""An "unknown artist" threshold for each painter, with a guarantee a historian can read.

One threshold for all (`clustering.unknown_threshold = "overall"`) lets a share of all the
validation paintings through; painters whose paintings are less alike pay for it (on the five
painters' test paintings: Monet 16%, Manet 3 of 8, Boudin 3% rejected where 10% was asked).
Split-conformal calibration per painter (`"per-painter"`) gives each painter its own threshold,
so that at most the configured share of any painter's own paintings is called unknown: with n
calibration paintings of a painter, a painting named that painter is unknown when less like
the run's painters than the floor(alpha (n + 1))-th least familiar of them. That holds for
every painter by construction (paintings exchangeable with its calibration ones), but only
where n is large enough: below 1/alpha - 1 paintings (9 at alpha = 0.1) nothing can be
rejected. Manet has 8 validation paintings, so the calibration also takes the training
paintings, cross-fitted: in `FOLDS` folds, each fold's familiarity from an attribution fitted on
the other folds (never on the painting itself).

Familiarities of different fits are not on one scale; every fit's is expressed as its likeness,
the share of the validation paintings the painting is at least as familiar as (what answers say:
"as like these painters as 70% of their own paintings"), and thresholds are likeness shares.

On the five painters' test paintings (alpha 0.1): false rejections 9.7% with every painter at
or below 14% (one threshold: 11.7%, Manet 3 of 8), strangers flagged 43.5% instead of 49.7%;
with paintings of other painters shown (`exposure`) 9.4%, every painter at or below 11%, 51.6%
flagged (docs/results.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

FOLDS = 5  # cross-fitting folds of the training paintings


def conformal_threshold(likeness: np.ndarray, alpha: float) -> float:
    """The likeness below which a painting is unknown: the floor(alpha (n + 1))-th lowest of the
    n calibration paintings' (-inf, nothing rejected, when that rank is 0)."""
    rank = int(np.floor(alpha * (len(likeness) + 1)))
    return -np.inf if rank < 1 else float(np.sort(likeness)[rank - 1])


def cross_fitted(answers_without: Callable[[np.ndarray, np.ndarray], np.ndarray], labels: np.ndarray,
                 seed: int = 0) -> np.ndarray | None:
    """(N, D) what an attribution fitted without each training painting says of it:
    `answers_without(kept, held)` fits on the training paintings `kept` (a boolean mask) and
    returns (held paintings, D) numbers of those `held` (their likeness, their probabilities).
    Folds are drawn within each painter, so every fit keeps every painter; None when a painter
    has fewer than two training paintings."""
    counts = np.bincount(labels)
    if counts.min() < 2:
        return None
    folds = min(FOLDS, int(counts.min()))
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), int)
    for painter in np.unique(labels):
        rows = np.flatnonzero(labels == painter)
        fold_of[rng.permutation(rows)] = np.arange(len(rows)) % folds
    answers = None
    for fold in range(folds):
        held = fold_of == fold
        part = answers_without(~held, held)
        answers = np.empty((len(labels), part.shape[1])) if answers is None else answers
        answers[held] = part
    return answers


@dataclass
class PainterThresholds:
    """Each painter's likeness threshold, and how many paintings calibrated it."""

    shares: np.ndarray  # (painters,) likeness below which a painting named that painter is unknown
    calibration: np.ndarray  # (painters,) calibration paintings of each

    @classmethod
    def fit(cls, likeness: np.ndarray, labels: np.ndarray, painters: int, alpha: float) -> "PainterThresholds":
        """From calibration paintings' likeness and painters (validation, and training cross-fitted)."""
        shares = [conformal_threshold(likeness[labels == painter], alpha) for painter in range(painters)]
        return cls(np.array(shares, float), np.bincount(labels, minlength=painters))

    def rejects(self, likeness: np.ndarray, named: np.ndarray) -> np.ndarray:
        """(N,) unknown: less like the run's painters than the threshold of the painter each is named."""
        return np.asarray(likeness) < self.shares[np.asarray(named, int)]

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"shares": self.shares.astype(np.float64), "calibration": self.calibration.astype(np.float64)}

    @classmethod
    def from_state_dict(cls, state: dict[str, np.ndarray] | None) -> "PainterThresholds | None":
        if not state:
            return None
        return cls(np.asarray(state["shares"], float), np.asarray(state["calibration"]).astype(int))
