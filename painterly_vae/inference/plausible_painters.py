"""Which of its painters could have painted it: a set, with a guarantee for each painter.

The probabilities rank the run's painters; a reader also wants to know which of them are worth
considering at all, with a promise that holds for every painter. Split-conformal calibration per
painter (Mondrian) on the probabilities: painter k's floor is the floor(alpha (n + 1))-th lowest
probability that the run gave k on n of k's own paintings it was not fitted on (validation, and
training paintings cross-fitted: `painter_thresholds.cross_fitted`); a painting's plausible
painters are those whose probability reaches their floor, and none when the painting is called
unknown (`painter_thresholds`, calibrated the same way at the same share). Each test leaves out
at most alpha of a painter's own paintings, so k's own paintings name k in their set at least
1 - 2 alpha of the time, for every k (on average over calibrations), whatever the others'
catalogues. The set may hold several painters (a pair the run confuses) or none: the painting is
unlike the painters, or no painter gives it a probability as high as it gives most of its own.

It is fitted with the threshold per painter (`clustering.unknown_threshold = "per-painter"`),
at the same share (1 - `clustering.accept_share`). A painter with fewer than 1/alpha - 1
calibration paintings always passes the probability test (its floor cannot be set).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from painterly_vae.inference.painter_thresholds import conformal_threshold


@dataclass
class PlausiblePainters:
    floors: np.ndarray  # (painters,) the probability a painter must reach to be plausible
    alpha: float  # at most this share of a painter's own paintings fall below its floor

    @classmethod
    def fit(cls, probabilities: np.ndarray, labels: np.ndarray, alpha: float) -> "PlausiblePainters":
        """From calibration paintings' probabilities (N, painters) and painters (N,)."""
        probabilities, labels = np.asarray(probabilities), np.asarray(labels)
        floors = [conformal_threshold(probabilities[labels == k, k], alpha) for k in range(probabilities.shape[1])]
        return cls(np.array(floors, float), float(alpha))

    def sets(self, probabilities: np.ndarray) -> np.ndarray:
        """(N, painters) True where the painter is plausible."""
        return np.asarray(probabilities) >= self.floors

    def describe(self, names: list[str]) -> str:
        """'plausible: claude-monet, alfred-sisley (8 in 10 or more of each painter's own paintings
        name that painter here)', or that none is."""
        level = f"{round((1 - 2 * self.alpha) * 10)} in 10 or more"
        promise = f"{level} of each painter's own paintings name that painter here"
        if not names:
            return f"none of the run's painters is plausible ({promise})"
        return f"plausible: {', '.join(names)} ({promise})"

    def state_dict(self) -> dict[str, object]:
        return {"floors": self.floors.astype(np.float64), "alpha": self.alpha}

    @classmethod
    def from_state_dict(cls, state: dict[str, object] | None) -> "PlausiblePainters | None":
        if not state:
            return None
        return cls(np.asarray(state["floors"], float), float(state["alpha"]))
