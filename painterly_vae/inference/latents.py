"""A painting as every encoder sees it: the raw material of attribution.

For an unknown painting we do not know which encoder to use, so we run all of them: the
posterior mean mu under each encoder, and each encoder's own objective (KL + L1 weight x L1
of the reconstruction through the shared decoder); with a trunk, also the trunk's style and
Gram statistics of the painting (from the pass that fed the encoders). The representations
compared in `clustering` are all built from these views.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import torch
from tqdm import tqdm

from painterly_vae.config import LossConfig
from painterly_vae.model.losses import kl_per_dimension
from painterly_vae.model.model import PainterlyVAE
from painterly_vae.runtime.precision import autocast


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

    def concatenated_mu(self) -> np.ndarray:
        """(N, E * latent) float64: each painting's mu under every encoder, side by side
        (the shared-space picture that `concat` clusters, dating and the maps use)."""
        return self.mu.reshape(len(self.mu), -1).astype(np.float64)

    def select(self, rows: np.ndarray) -> "LatentViews":
        return LatentViews(self.mu[rows], self.l1[rows], self.kl[rows], self.style[rows], self.gram[rows])


def encoding_bar(total: int, what: str, progress: bool) -> tqdm:
    """The progress bar of a long encoding (thousands of paintings through a trunk take minutes)."""
    return tqdm(total=total, unit="painting", desc=what, disable=not progress, dynamic_ncols=True, leave=False)


@torch.inference_mode()
def encode_views(model: PainterlyVAE, batches: Iterable[torch.Tensor], reconstruct: bool = True,
                 amp_dtype: torch.dtype | None = None, bar: tqdm | None = None) -> LatentViews:
    """Run every batch (float, (B, 3, H, W) in [0, 1], on the model's device) through every
    encoder in eval mode; z = mu, so the result is deterministic.

    The reconstructions (for `l1`) cost a decoder pass per encoder, most of the work: without
    `reconstruct`, `l1` is NaN and only mu and KL are computed (all `concat` and `own` need).
    `amp_dtype` runs the convolutions under autocast, as training did."""
    model.eval()
    device = next(model.parameters()).device
    mus, l1s, kls, styles, grams = [], [], [], [], []
    for images in batches:
        with autocast(device, amp_dtype):  # the trunk, when there is one, runs once for all encoders
            inputs = model.inputs(model.laid_out(images), style=True)
        if inputs.style is not None:
            styles.append(inputs.style.cpu())
            grams.append(inputs.gram.cpu())
        batch_mu, batch_l1, batch_kl = [], [], []
        for encoder in model.encoders:
            with autocast(device, amp_dtype):
                mu, logvar = encoder(inputs.encoder)
                reconstruction = model.shared_decoder(mu).float() if reconstruct else None
            mu, logvar = mu.float(), logvar.float()
            batch_mu.append(mu)
            if reconstruction is not None:
                batch_l1.append((reconstruction - inputs.target).abs().flatten(1).mean(1))
            else:
                batch_l1.append(torch.full((len(images),), float("nan"), device=device))
            batch_kl.append(kl_per_dimension(mu, logvar).sum(1))
        mus.append(torch.stack(batch_mu, 1).cpu())
        l1s.append(torch.stack(batch_l1, 1).cpu())
        kls.append(torch.stack(batch_kl, 1).cpu())
        if bar is not None:
            bar.update(len(images))
    encoders = len(model.encoders)
    if not mus:
        return LatentViews(np.zeros((0, encoders, model.config.latent_dim), np.float32), np.zeros((0, encoders)),
                           np.zeros((0, encoders)), np.zeros((0, 0)), np.zeros((0, 0)))
    count = sum(len(mu) for mu in mus)
    style = torch.cat(styles).numpy() if styles else np.zeros((count, 0), np.float32)
    gram = torch.cat(grams).numpy() if grams else np.zeros((count, 0), np.float32)
    return LatentViews(torch.cat(mus).numpy(), torch.cat(l1s).numpy(), torch.cat(kls).numpy(), style, gram)
