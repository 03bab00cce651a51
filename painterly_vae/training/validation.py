"""Validation: each artist's paintings of a split through its own encoder, without gradients.

The encoder objective (the number `best.pt` follows), pixel L1, KL per artist and per latent
dimension, and the active units that show posterior collapse. A function of the model and
the data alone, so the trainer calls it between steps and anything else (a test, an
evaluation) can call it on a trained model and get the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch

from data_tools.processed import ProcessedData
from painterly_vae.config import LossConfig
from painterly_vae.model.losses import kl_per_dimension, l1_term, vae_loss
from painterly_vae.model.model import PainterlyVAE
from painterly_vae.model.perceptual import FeatureDistances
from painterly_vae.runtime.batched import InferenceSettings, run_batched

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. (2016): a unit is active if Var_x E[z_u | x] > 0.01

PerceptualTerm = Callable[[torch.Tensor, torch.Tensor], "FeatureDistances | None"]


@dataclass
class Validation:
    """Validation of the current model: each artist through its own encoder, z = mu."""

    loss: float  # mean over artists of the encoder objective kl_weight * KL + encoder_l1_weight * L1
    l1: dict[str, float]  # per artist: mean absolute pixel error (whatever the loss reduction)
    kl: dict[str, float]  # per artist: KL in nats per painting, summed over latent dimensions
    kl_per_dimension: torch.Tensor  # (latent,) nats, averaged over all validation images
    active_units: int

    @property
    def kl_total(self) -> float:
        """KL summed over latent dimensions, in nats per painting (whatever the loss reduction)."""
        return float(self.kl_per_dimension.sum())

    @property
    def mean_l1(self) -> float:
        """Per-pixel mean absolute error, averaged over artists."""
        return sum(self.l1.values()) / len(self.l1)


class _Batch(NamedTuple):
    objective: float  # the encoder objective, summed over the batch's paintings
    pixel_l1: float  # per-pixel L1, summed over the batch's paintings
    kl: torch.Tensor  # (B, latent) nats
    mu: torch.Tensor  # (B, latent)


def validate(model: PainterlyVAE, data: ProcessedData, split: str, loss: LossConfig, settings: InferenceSettings,
             perceptual: PerceptualTerm | None = None) -> Validation | None:
    """Each artist's `split` through its own encoder (eval mode); None if the split is empty.
    `perceptual` is the run's deep-feature terms (the encoder objective includes them when training does)."""
    model.eval()
    l1s: dict[str, float] = {}
    kls: dict[str, float] = {}
    losses: list[float] = []
    measured: list[_Batch] = []
    for artist_index, artist in enumerate(model.artists):

        def measure(images: torch.Tensor, artist_index: int = artist_index) -> _Batch:
            output = model(images, artist_index)
            term = perceptual(output.reconstruction, output.target) if perceptual is not None else None
            terms = vae_loss(output.reconstruction, output.target, output.mu, output.logvar, loss, perceptual=term)
            pixel_l1 = l1_term(output.reconstruction.float(), output.target, "mean")
            return _Batch(float(terms.encoder_loss) * len(images), float(pixel_l1) * len(images),
                          kl_per_dimension(output.mu.float(), output.logvar.float()), output.mu.float())

        batches = run_batched(data.array(artist, split), measure, settings)
        if not batches:
            continue
        count = sum(len(batch.mu) for batch in batches)
        losses.append(sum(batch.objective for batch in batches) / count)
        l1s[artist] = sum(batch.pixel_l1 for batch in batches) / count
        kls[artist] = sum(float(batch.kl.sum()) for batch in batches) / count
        measured += batches
    if not losses:
        return None
    mu = torch.cat([batch.mu for batch in measured])
    variance = mu.var(0) if len(mu) > 1 else torch.zeros_like(mu[0])
    return Validation(loss=sum(losses) / len(losses), l1=l1s, kl=kls,
                      kl_per_dimension=torch.cat([batch.kl for batch in measured]).mean(0).cpu(),
                      active_units=int((variance > ACTIVE_UNIT_THRESHOLD).sum()))
