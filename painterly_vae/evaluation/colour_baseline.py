"""The floor under every number: a colour histogram into a logistic regression.

No deep features, no VAE: a 3-D RGB histogram (8 bins per channel, 512 features, each
painting's histogram normalised to sum to 1, square-rooted as the Hellinger embedding) fed to
the shared linear probe (`painterly_vae.inference.linear_probe`). If the VAE does not beat this, its
latent space has learned nothing about style beyond the palette.
"""

from __future__ import annotations

import numpy as np

from painterly_vae.inference.linear_probe import LinearProbe

BINS = 8


def colour_histograms(images: np.ndarray) -> np.ndarray:
    """(N, 3, H, W) uint8 -> (N, BINS^3) square-rooted normalised joint RGB histograms."""
    quantised = (images.astype(np.int64) * BINS) // 256  # (N, 3, H, W) in [0, BINS)
    codes = (quantised[:, 0] * BINS + quantised[:, 1]) * BINS + quantised[:, 2]  # (N, H, W)
    flat = codes.reshape(len(images), -1)
    histograms = np.stack([np.bincount(row, minlength=BINS**3) for row in flat]).astype(np.float64)
    return np.sqrt(histograms / histograms.sum(1, keepdims=True))


def colour_histogram_classifier(seed: int = 0) -> LinearProbe:
    """The colour-histogram baseline, ready to fit on uint8 images."""
    return LinearProbe(colour_histograms, seed=seed)
