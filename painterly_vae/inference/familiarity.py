"""Is this painter one the run knows? The signals, and the mix of them that caught strangers best.

A softmax over the run's painters always names one of them; what says "none of these" is a
familiarity score with a threshold. Two signals are measured for every painting (three when the
run was shown paintings by other painters):

    score    what the representation says of its best painter (the Gram-statistics regression's
             best log-probability for concat+trunk and its kin; the best cluster score for the
             others): confident = familiar
    nearest  the cosine similarity to the nearest training painting, in the space the
             representation scores in (for runs with a trunk, the standardised principal
             components of the Gram statistics): a painting no training painting resembles is
             by a stranger, however confident the regression is
    exposure the best known painter's log-probability in the Gram regression fitted beside a
             class "someone else" of a folder of other painters' paintings (`exposure`; only
             runs fitted with `clustering.others`)

On the five paper painters with a MobileNetV2 trunk, leaving each painter out in turn, their
AUROC against the held-out painter is 0.73 (score), 0.66 (nearest) and 0.78 (their mean); on
three painters no run saw (Morisot, Pissarro, Degas) 0.79, 0.77 and 0.84 (experiments/record.md).
Which mix a run uses is not fixed: `strangers.measure_strangers` leaves each of the run's
painters out, measures every mix in `MIXES`, and the run keeps the best (`FamiliarityMix`).
Each signal is standardised by its mean and spread on the validation paintings, so the mix is
a plain mean and its threshold a quantile of the same paintings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIGNALS = ("score", "nearest", "exposure")
# a run has the first two signals (runs fitted before `nearest`: the first), and `exposure` when it
# was fitted with paintings of other painters (`exposure`); the last mix a run can use is its default
MIXES: dict[str, tuple[int, ...]] = {"score": (0,), "nearest": (1,), "score+nearest": (0, 1),
                                     "exposure": (2,), "score+exposure": (0, 2), "nearest+exposure": (1, 2),
                                     "score+nearest+exposure": (0, 1, 2)}
BLOCK = 1024  # paintings compared with the training paintings at a time (bounds the similarity matrix)


def unit_vectors(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1, as float32: how the training paintings are stored for `nearest`
    (2,471 paintings x 256 numbers: 2.5 MB)."""
    vectors = np.asarray(vectors, np.float64)
    return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def nearest_similarity(vectors: np.ndarray, training: np.ndarray) -> np.ndarray:
    """(N,) each painting's cosine similarity to the nearest training painting (`training`: unit
    vectors), a block of paintings at a time."""
    query = unit_vectors(vectors)
    if not len(query):
        return np.zeros(0)
    return np.concatenate([(query[i:i + BLOCK] @ training.T).max(1)
                           for i in range(0, len(query), BLOCK)]).astype(np.float64)


@dataclass
class FamiliarityMix:
    """Which signals make the familiarity, and each one's mean and spread on the validation paintings."""

    mix: str  # a key of MIXES
    mean: np.ndarray  # (signals,)
    std: np.ndarray

    @classmethod
    def fit(cls, signals: np.ndarray, mix: str) -> "FamiliarityMix":
        """Standardisation from the validation paintings' signals ((N, signals) as
        `ArtistClusters.familiarity_signals` gives them)."""
        if mix not in MIXES or max(MIXES[mix]) >= signals.shape[1]:
            raise ValueError(f"familiarity mix '{mix}' needs signals this run does not have")
        return cls(mix, signals.mean(0), np.maximum(signals.std(0), 1e-9))

    def combine(self, signals: np.ndarray) -> np.ndarray:
        """(N,) the familiarity: the mean of the chosen signals, each standardised."""
        chosen = list(MIXES[self.mix])
        return ((signals[:, chosen] - self.mean[chosen]) / self.std[chosen]).mean(1)

    def state_dict(self) -> dict[str, object]:
        return {"mix": self.mix, "mean": self.mean.astype(np.float64), "std": self.std.astype(np.float64)}

    @classmethod
    def from_state_dict(cls, state: dict[str, object] | None) -> "FamiliarityMix | None":
        if not state:
            return None
        return cls(str(state["mix"]), np.asarray(state["mean"], np.float64), np.asarray(state["std"], np.float64))


def threshold_letting_through(familiarity: np.ndarray, accept_share: float) -> float:
    """The familiarity below which a painting is "unknown": `accept_share` of the validation
    paintings' `familiarity` lies at or above it."""
    return float(np.quantile(familiarity, 1 - accept_share))


def available_mixes(signals: int) -> list[str]:
    """The mixes a run with `signals` signals can use (runs fitted before `nearest` have one)."""
    return [name for name, chosen in MIXES.items() if max(chosen) < signals]

