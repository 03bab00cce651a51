"""The paintings an evaluation scores: every painting of a split, through every encoder.

Read once, artist by artist: their views (the latents every representation and probe reads),
their artist (an index in the run, or UNKNOWN for a painter the run never saw), the images
(for the baselines and the pictures) and their years. The run's own attribution of each
known painting is added once made, so every baseline's lead is measured on the same
paintings (a paired comparison).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_tools.processed import SPLITS, ProcessedData
from painterly_vae.errors import UsageError
from painterly_vae.inference.dating import split_years
from painterly_vae.inference.latents import LatentViews, encode_views, encoding_bar
from painterly_vae.inference.trained_run import TrainedRun

UNKNOWN = -1
ALL_SPLITS = "all"


@dataclass
class EvaluationSet:
    """The paintings evaluated: their views, their artist (index in the run, or UNKNOWN), names."""

    data: ProcessedData
    split: str  # train, val, test or all
    views: LatentViews
    labels: np.ndarray  # (N,) run artist index or UNKNOWN
    names: list[str]  # (N,) artist folder name of each painting
    images: np.ndarray  # (N, 3, H, W) uint8
    years: np.ndarray  # (N,) year of each painting, NaN where unknown
    attributed: np.ndarray | None = None  # (known,) the run's own artist for each known painting, once attributed

    @property
    def known(self) -> np.ndarray:
        return self.labels != UNKNOWN


def encode_evaluation_set(run: TrainedRun, data: ProcessedData, split: str, progress: bool,
                          unknown_split: str | None = None, reconstruct: bool = True) -> EvaluationSet:
    """Every painting of `split` (or of every split, for "all"), artist by artist; the paintings
    of artists the run does not know from `unknown_split` instead when given (their splits were
    never seen by the run, so "all" of them measures unknown artists on more paintings). Without
    `reconstruct`, no decoder pass per encoder (`encode_views`): `l1` is NaN."""
    parts, labels, names, images, years = [], [], [], [], []

    def splits_of(artist: str) -> tuple[str, ...]:
        chosen = split if artist in run.artists or unknown_split is None else unknown_split
        return SPLITS if chosen == ALL_SPLITS else (chosen,)

    with encoding_bar(sum(data.count(a, s) for a in data.artists for s in splits_of(a)), "encoding", progress) as bar:
        for artist in data.artists:
            for part in splits_of(artist):
                array = np.asarray(data.array(artist, part))  # read once: encoded, and kept for the pictures
                if not len(array):
                    continue
                parts.append(encode_views(run.model, array, run.inference, reconstruct, bar=bar))
                labels.append(np.full(len(array), run.artists.index(artist) if artist in run.artists else UNKNOWN))
                names += [artist] * len(array)
                images.append(array)
                years.append(split_years(data, [artist], part))
    if not parts:
        raise UsageError(f"no paintings in the {split} split of {data.root}")
    return EvaluationSet(data, split, LatentViews.concatenate(parts), np.concatenate(labels), names,
                         np.concatenate(images), np.concatenate(years))
