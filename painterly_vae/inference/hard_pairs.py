"""The pairs of painters a run tells apart least well, and the sentence an answer owes its reader.

"Canaletto 58%, Bellotto 40%" means one thing from a run that tells those two apart on 19
paintings in 20 and another from one that manages 6 in 10: experts confuse a workshop's or a
family's hands, and so does a run. So when a run is fitted, every pair of its painters is measured
on the validation paintings: of the paintings by either of the two, the share whose probabilities
rank their own painter above the other (`PairSeparation`). An answer whose two leading painters
are a pair told apart less often than `WELL_TOLD` says so with that share. `most_confused` reads
the same from a confusion matrix, for `evaluate`'s list of the pairs confused most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WELL_TOLD = 0.9  # below this share of their paintings told apart, a pair is named in the answer
MIN_PAINTINGS = 4  # fewer validation paintings of the two: too few to say


@dataclass
class PairSeparation:
    """For every pair of painters (a, b): how many validation paintings by either, and how many of
    those the run ranked their own painter above the other for. Symmetric."""

    told_apart: np.ndarray  # (A, A) paintings ranked right, by either painter
    paintings: np.ndarray  # (A, A) paintings by either painter

    @classmethod
    def measure(cls, scores: np.ndarray, labels: np.ndarray) -> "PairSeparation":
        """From (N, A) scores that order the painters as the probabilities do, and the true painters."""
        scores, labels = np.asarray(scores, np.float64), np.asarray(labels)
        artists = scores.shape[1]
        right = np.zeros((artists, artists))
        counted = np.zeros((artists, artists))
        own = scores[np.arange(len(labels)), labels]
        for artist in range(artists):
            mine = labels == artist
            right[artist] = (own[mine, None] > scores[mine]).sum(0)
            counted[artist] = mine.sum()
        return cls(right + right.T, counted + counted.T)

    def share(self, a: int, b: int) -> float | None:
        """How often the run tells a from b (None: too few paintings of the two to say)."""
        if a == b or self.paintings[a, b] < MIN_PAINTINGS:
            return None
        return float(self.told_apart[a, b] / self.paintings[a, b])

    def describe(self, artists: list[str], a: int, b: int) -> str | None:
        """'this run tells canaletto from bernardo-bellotto 7 times in 10 (on 31 validation paintings
        of the two)', or None where it tells them apart well (or cannot say)."""
        share = self.share(a, b)
        if share is None or share >= WELL_TOLD:
            return None
        return (f"this run tells {artists[a]} from {artists[b]} {round(share * 10)} times in 10 "
                f"(on {int(self.paintings[a, b])} validation paintings of the two)")

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"told_apart": self.told_apart, "paintings": self.paintings}

    @classmethod
    def from_state_dict(cls, state: dict[str, np.ndarray] | None) -> "PairSeparation | None":
        if not state:
            return None  # runs fitted before pairs were measured
        return cls(np.asarray(state["told_apart"], np.float64), np.asarray(state["paintings"], np.float64))


@dataclass(frozen=True)
class ConfusedPair:
    """Two painters and how often each was named for the other's paintings."""

    first: str
    second: str
    first_as_second: int  # paintings by `first` attributed to `second`
    second_as_first: int
    paintings: int  # paintings by either

    @property
    def confused(self) -> int:
        return self.first_as_second + self.second_as_first

    def describe(self) -> str:
        return (f"{self.first} / {self.second}: {self.confused} of {self.paintings} "
                f"({self.first_as_second} + {self.second_as_first})")


def most_confused(confusion: np.ndarray, artists: list[str], top: int = 5) -> list[ConfusedPair]:
    """The pairs with the most paintings attributed to the other painter of the two (rows: true
    painter, columns: attributed), most first; pairs never confused are left out."""
    confusion = np.asarray(confusion)
    per_artist = confusion.sum(1)
    pairs = [ConfusedPair(artists[a], artists[b], int(confusion[a, b]), int(confusion[b, a]),
                          int(per_artist[a] + per_artist[b]))
             for a in range(len(artists)) for b in range(a + 1, len(artists))]
    return sorted((p for p in pairs if p.confused), key=lambda p: (-p.confused, p.first, p.second))[:top]
