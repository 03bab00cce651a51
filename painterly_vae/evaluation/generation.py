"""What the shared decoder makes beyond giving a painting back, as the borrowed network sees it.

- Crossings: each evaluated painting through every *other* artist's encoder, decoded. The report
  this project follows reads a crossing as "the painting in that artist's hand"; the network's
  style probe (fitted on the original training paintings) says whether it moved that way: the
  probability it gives the encoder's painter on the crossing, beside the probability it gives
  the same painter on the painting's own reconstruction. A shift near 0 means the encoders
  hand the decoder one shared z and the crossing is the reconstruction again.
- Samples: for each artist, as many samples from its fitted latent cluster as it has evaluated
  paintings, against those paintings: the Fréchet distance of their style statistics, beside
  the same distance for that artist's reconstructions (same network, same count of paintings,
  so the two are biased alike and comparable with each other, not with published FIDs).
"""

from __future__ import annotations

import numpy as np
import torch

from painterly_vae.evaluation.evaluation_set import EvaluationSet
from painterly_vae.evaluation.fidelity import frechet_distance
from painterly_vae.evaluation.reconstructions import Reconstructions, network_view
from painterly_vae.inference.explore import decode, sample_batches
from painterly_vae.inference.trained_run import TrainedRun
from painterly_vae.runtime.batched import run_batched_codes

# crossings in all, at most: each encoder crosses every other painter's evaluated paintings while
# they number CROSSINGS / painters or fewer (every one, for the five painters' 308), else that many
# spread over them. A crossing decodes the painting's z under the other encoder (from its encoding)
# and runs the network over the result; all of them at 100 painters would be 100 x 198 paintings,
# growing with the square of the painters.
CROSSINGS = 2_000


def crossing_shift(run: TrainedRun, evaluation: EvaluationSet, reconstructions: Reconstructions,
                   probe) -> dict[str, dict[str, float]] | None:
    """Per encoder's painter (and "mean"): the probe's mean probability of that painter on the
    crossings of the other painters' paintings through its encoder (at most `CROSSINGS` in all),
    on the same paintings' own reconstructions, and the difference. None for a run with one
    encoder or no probe."""
    model = run.model
    if probe is None or len(set(model.encoder_of_each_artist())) < 2:
        return None
    column = {int(c): i for i, c in enumerate(probe.classes_)}
    own = probe.predict_proba(reconstructions.stacked("reconstruction_gram").numpy())
    labels = reconstructions.labels
    per_encoder = max(1, CROSSINGS // len(run.artists))
    shifts: dict[str, dict[str, float]] = {}
    for encoder, painter in enumerate(run.artists):
        others = np.flatnonzero(labels != encoder)  # reconstructions' rows, in the order of the paintings below
        if not len(others) or encoder not in column:
            continue
        rows = np.concatenate([np.flatnonzero(evaluation.labels == index) for index in range(len(run.artists))
                               if index != encoder and (evaluation.labels == index).any()])
        if len(rows) > per_encoder:
            chosen = np.unique(np.linspace(0, len(rows) - 1, per_encoder).round().astype(int))
            rows, others = rows[chosen], others[chosen]
        grams = _crossing_grams(run, evaluation.views.mu[rows, model.encoder_index(encoder)], encoder)
        crossed = float(probe.predict_proba(grams)[:, column[encoder]].mean())
        before = float(own[others, column[encoder]].mean())
        shifts[painter] = {"crossings": crossed, "own_reconstructions": before, "shift": crossed - before}
    if shifts:
        shifts["mean"] = {key: float(np.mean([s[key] for s in shifts.values()]))
                          for key in ("crossings", "own_reconstructions", "shift")}
    return shifts or None


def _crossing_grams(run: TrainedRun, codes: np.ndarray, artist: int) -> np.ndarray:
    """The network's Gram statistics of the paintings whose z under `artist`'s encoder are `codes`
    (the evaluation's own, z = mu), decoded as that encoder's: the encoder and the trunk's pass
    over the paintings ran once, when they were encoded, not again for each crossing."""
    index = run.model.encoder_index(artist)
    grams = run_batched_codes(codes, lambda z: network_view(run.model, decode(run.model, z, index))[1].cpu(),
                              run.inference)
    return torch.cat(grams).numpy()


def sample_frechet(run: TrainedRun, reconstructions: Reconstructions, probe) -> dict[str, dict[str, float]] | None:
    """Per artist: the Fréchet distance of its samples (z from its fitted latent cluster) to its
    evaluated paintings, and of its reconstructions to the same paintings. None without a probe
    (no trunk) or when the clusters hold no latent Gaussians (the `elbo` representation)."""
    if probe is None:
        return None
    clusters = run.require_clusters()
    distances: dict[str, dict[str, float]] = {}
    for artist in reconstructions.artists:
        originals = reconstructions.originals_style(artist)
        if len(originals) < 2:
            continue
        index = run.artists.index(artist)
        try:
            clusters.latent_gaussian(index, run.model.config.latent_dim)
        except ValueError:  # a representation without latent Gaussians: no samples to measure
            return None
        with torch.inference_mode():
            samples = torch.cat([network_view(run.model, batch)[0].cpu() for batch in
                                 sample_batches(run.model, clusters, index, len(originals), run.config.training.seed)])
        distances[artist] = {"samples": frechet_distance(samples.numpy(), originals),
                             "reconstructions": reconstructions.frechet(artist)}
    return distances or None
