"""Paintings by other painters, shown to the familiarity so that it learns what "someone else" looks like.

A run knows its own painters only: its familiarity (`familiarity`) says how like them a
painting is, never how like anyone else. Given a folder of paintings by painters the run does
not know (`clustering.others`, `--others DIR` at `train` and `cluster`), the Gram statistics'
regression is fitted once more with one class beside the run's painters, "someone else", made
of those paintings; a painting's `exposure` signal is its best known painter's log-probability
in that regression, low when "someone else" (or no one) takes the probability. The attribution
itself is untouched: the probabilities among the run's painters come from the representation
as before, and the folder only adds a familiarity signal that the run's left-out painters then
keep or not (`strangers.measure_strangers` chooses among the mixes in `familiarity.MIXES`).

On the five painters with MobileNetV2 and 1,910 paintings of twenty painters of other schools
as the folder, the AUROC against Morisot, Pissarro and Degas (never seen, never in the folder)
went from 0.831 to 0.864 and the share of their paintings flagged from 49.7% to 60.5%, with
13.6% of the known test paintings rejected instead of 11.7% (docs/results.md). Only runs that read paintings through a
pretrained trunk have Gram statistics; the others cannot use a folder.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from painterly_vae.errors import UsageError
from painterly_vae.inference.known_paintings import KnownPaintings
from painterly_vae.inference.latents import LatentViews
from painterly_vae.inference.painting_files import files_under, read_paintings
from painterly_vae.inference.representations import GRAM_COMPONENTS, fit_probe, probe_log_proba

MIN_PAINTINGS = 10  # fewer paintings of "someone else" teach the regression nothing but noise


@dataclass
class OtherPaintings:
    """The folder's paintings squared as the run's, and what was left out of them and why."""

    folder: Path
    images: np.ndarray  # uint8 (N, 3, size, size)
    skipped: Counter = field(default_factory=Counter)  # reason -> files

    def describe(self) -> str:
        """'412 paintings of other painters from DIR (3 skipped: 2 the run's own paintings, 1 not an image)'."""
        text = f"{len(self.images):,} paintings of other painters from {self.folder}"
        if self.skipped:
            reasons = ", ".join(f"{count} {reason}" for reason, count in self.skipped.most_common())
            text += f" ({sum(self.skipped.values())} skipped: {reasons})"
        return text


def read_other_paintings(folder: Path, preprocessing: dict[str, Any], known: KnownPaintings | None
                         ) -> OtherPaintings:
    """Every image under `folder` (`painting_files.files_under`) squared as `prepare` squared
    the run's paintings; files that are not usable paintings, and copies of the run's own
    paintings (`known`: by perceptual hash), are left out and counted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"--others: no folder {folder}")
    files = files_under(folder)
    squares, skipped = [], Counter()
    for painting in read_paintings(files, preprocessing):
        if painting.error is not None:
            skipped[painting.error.split(" (")[0]] += 1
        elif known is not None and known.role_of(painting.phash) is not None:
            skipped["the run's own paintings"] += 1
        else:
            squares.append(painting.square)
    if len(squares) < MIN_PAINTINGS:
        raise UsageError(f"--others: {folder} holds {len(squares)} usable paintings; at least {MIN_PAINTINGS} are needed")
    return OtherPaintings(folder, np.stack(squares), skipped)


class Exposure:
    """The Gram regression over the run's painters and "someone else"; its signal is the best
    known painter's log-probability."""

    def __init__(self, probe: dict[str, np.ndarray], paintings: int, source: str = "") -> None:
        self.probe = probe  # fit_probe's arrays, the last class "someone else"
        self.paintings = paintings  # of other painters it was fitted with
        self.source = source  # where they came from, in words (`OtherPaintings.describe`)

    @classmethod
    def fit(cls, views: LatentViews, labels: np.ndarray, others: LatentViews) -> "Exposure":
        """`views`, `labels`: the run's training paintings (artist indices 0..A-1); `others`: the
        folder's paintings through the same model."""
        if views.gram.shape[1] == 0:
            raise UsageError("--others needs a run that reads paintings through a pretrained trunk (model.trunk): "
                             "the familiarity learns 'someone else' from the trunk's Gram statistics")
        artists = int(np.max(labels)) + 1
        features = np.concatenate([views.gram, others.gram])  # float32, as `ExactPCA` decomposes them
        classes = np.concatenate([np.asarray(labels), np.full(len(others), artists)])
        return cls(fit_probe(features, classes, artists + 1, GRAM_COMPONENTS), len(others))

    def signal(self, views: LatentViews) -> np.ndarray:
        """(N,) the best known painter's log-probability beside "someone else": low = unfamiliar."""
        return probe_log_proba(self.probe, views.gram.astype(np.float64))[:, :-1].max(1)

    def state_dict(self) -> dict[str, object]:
        return {"probe": self.probe, "paintings": self.paintings, "source": self.source}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any] | None) -> "Exposure | None":
        if not state:
            return None
        return cls(dict(state["probe"]), int(state["paintings"]), str(state.get("source", "")))
