"""A painting as every encoder sees it: the raw material of attribution.

For an unknown painting we do not know which encoder to use, so we run all of them: the
posterior mean mu under each encoder, and each encoder's own objective (KL + L1 weight x L1
of the reconstruction through the shared decoder); with a trunk, also the trunk's style and
Gram statistics of the painting (from the pass that fed the encoders). The representations
compared in `clustering` are all built from these views.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from painterly_vae.config import LossConfig
from painterly_vae.model.losses import kl_per_dimension
from painterly_vae.model.model import ModelInputs, PainterlyVAE
from painterly_vae.runtime.batched import InferenceSettings, run_batched


@dataclass
class LatentViews:
    """N paintings through E encoders."""

    mu: np.ndarray  # (N, E, latent) posterior means
    l1: np.ndarray  # (N, E) mean absolute pixel error of the reconstruction
    kl: np.ndarray  # (N, E) KL of the posterior in nats, summed over dimensions
    style: np.ndarray  # (N, S) the trunk's style statistics (`pretrained.channel_statistics`); (N, 0) without
    gram: np.ndarray  # (N, G) its Gram statistics (`pretrained.gram_statistics`); (N, 0) without a trunk

    def __len__(self) -> int:
        return len(self.mu)

    def objective(self, loss: LossConfig) -> np.ndarray:
        """(N, E) each encoder's loss on each painting: lower = the encoder explains it better.
        Uses per-pixel L1 and per-dimension KL (the default reductions) so encoders compare;
        the DFC term of runs trained with it is not part of it (see clustering's `elbo`)."""
        return loss.kl_weight * self.kl / self.mu.shape[2] + loss.encoder_l1_weight * self.l1

    @staticmethod
    def concatenate(parts: list["LatentViews"]) -> "LatentViews":
        if not parts:
            raise ValueError("nothing to concatenate")
        return LatentViews(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("mu", "l1", "kl", "style", "gram")))

    @property
    def concat_size(self) -> int:
        """How many numbers of z a painting has under every encoder, side by side (E x latent)."""
        return self.mu.shape[1] * self.mu.shape[2]

    def concatenated_mu(self) -> np.ndarray:
        """(N, E * latent) float64: each painting's mu under every encoder, side by side
        (the shared-space picture that `concat` clusters, dating and the maps use)."""
        return self.mu.reshape(len(self.mu), -1).astype(np.float64)

    def select(self, rows: np.ndarray) -> "LatentViews":
        return LatentViews(self.mu[rows], self.l1[rows], self.kl[rows], self.style[rows], self.gram[rows])


def encoding_bar(total: int, what: str, progress: bool) -> tqdm:
    """The progress bar of a long encoding (thousands of paintings through a trunk take minutes)."""
    return tqdm(total=total, unit="painting", desc=what, disable=not progress, dynamic_ncols=True, leave=False)


def encode_views(model: PainterlyVAE, images: np.ndarray, settings: InferenceSettings, reconstruct: bool = True,
                 bar: tqdm | None = None) -> LatentViews:
    """Every painting of `images` (uint8, (N, 3, H, W)) through every encoder, in batches as
    `settings` say (the run's inference precision, layout and batch size); z = mu, so the
    result is deterministic.

    The reconstructions (for `l1`) cost a decoder pass per encoder, most of the work: without
    `reconstruct`, `l1` is NaN and only mu and KL are computed (all `concat` and `own` need)."""
    model.eval()
    parts = run_batched(images, lambda batch: views_of_batch(model, batch, reconstruct), settings, bar)
    if not parts:
        encoders = len(model.encoders)
        return LatentViews(np.zeros((0, encoders, model.config.latent_dim), np.float32), np.zeros((0, encoders)),
                           np.zeros((0, encoders)), np.zeros((0, 0)), np.zeros((0, 0)))
    return LatentViews.concatenate(parts)


def views_of_batch(model: PainterlyVAE, images: torch.Tensor, reconstruct: bool = True) -> LatentViews:
    """One batch (float, (B, 3, H, W) in [0, 1], on the model's device, laid out) through every
    encoder; the trunk, when there is one, runs once for all of them. Call it without
    gradients (`encode_views` does)."""
    return views_of_inputs(model, model.inputs(images, style=True), reconstruct)


def views_of_inputs(model: PainterlyVAE, inputs: ModelInputs, reconstruct: bool = True) -> LatentViews:
    """`views_of_batch` of paintings already made into the model's inputs (with the trunk's
    statistics, when there is a trunk): the trunk cache's maps of the training paintings."""
    mus, l1s, kls = [], [], []
    for index, encoder in enumerate(model.encoders):
        mu, logvar = encoder(inputs.encoder)
        mu, logvar = mu.float(), logvar.float()
        mus.append(mu)
        if reconstruct:
            reconstruction = model.shared_decoder(mu, index).float()
            l1s.append((reconstruction - inputs.target).abs().flatten(1).mean(1))
        else:
            l1s.append(torch.full((len(mu),), float("nan"), device=mu.device))
        kls.append(kl_per_dimension(mu, logvar).sum(1))
    empty = np.zeros((len(inputs.target), 0), np.float32)
    return LatentViews(torch.stack(mus, 1).cpu().numpy(), torch.stack(l1s, 1).cpu().numpy(),
                       torch.stack(kls, 1).cpu().numpy(),
                       inputs.style.float().cpu().numpy() if inputs.style is not None else empty,
                       inputs.gram.float().cpu().numpy() if inputs.gram is not None else empty)
