"""Which paintings a run has already seen: an attribution of one of them proves nothing.

A historian who attributes a folder may well drop in paintings the run trained on (the same
file, or a resized or re-encoded copy from another site). The run remembers the perceptual
hash (`data_tools.near_duplicates`, the one `prepare` deduplicates with) of every painting of
its training and validation splits; `attribute` marks a painting within the same Hamming
distance of one of them, so that a correct answer on it is not taken for evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from data_tools.near_duplicates import DEFAULT_MAX_DISTANCE
from data_tools.processed import ProcessedData

ROLES = {"train": "one of the paintings the run trained on", "val": "one of the paintings the run calibrated on"}


@dataclass
class KnownPaintings:
    """Perceptual hashes of the run's training and validation paintings, by split."""

    hashes: dict[str, np.ndarray] = field(default_factory=dict)  # split -> uint64 hashes
    max_distance: int = DEFAULT_MAX_DISTANCE

    @classmethod
    def of(cls, data: ProcessedData, artists: list[str]) -> "KnownPaintings":
        hashes = {}
        for split in ROLES:
            values = [int(row["phash"], 16) for artist in artists for row in data.rows(artist, split) if row.get("phash")]
            hashes[split] = np.array(values, dtype=np.uint64)
        return cls(hashes)

    def role_of(self, phash: int | None) -> str | None:
        """"train" or "val" when the picture is (a near copy of) one of those paintings, else None."""
        if phash is None:
            return None
        for split, values in self.hashes.items():
            if len(values) and int(np.bitwise_count(values ^ np.uint64(phash)).min()) <= self.max_distance:
                return split
        return None

    def state_dict(self) -> dict[str, object]:
        """Hex strings (64-bit hashes do not survive a float tensor; checkpoints load weights_only)."""
        return {"max_distance": self.max_distance,
                **{split: [f"{int(value):016x}" for value in values] for split, values in self.hashes.items()}}

    @classmethod
    def from_state_dict(cls, state: dict[str, object] | None) -> "KnownPaintings | None":
        if not state:
            return None
        hashes = {split: np.array([int(value, 16) for value in state.get(split, [])], dtype=np.uint64) for split in ROLES}
        return cls(hashes, int(state.get("max_distance", DEFAULT_MAX_DISTANCE)))
