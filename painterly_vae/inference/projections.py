"""2-D pictures of the shared latent space: which features, and how they are flattened.

A painting's place in the shared space is its posterior mean under every encoder,
concatenated (what attribution uses), each coordinate standardised so that no encoder's
scale dominates. `evaluate` draws these points coloured by artist; `map` puts the paintings
themselves at them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from painterly_vae.inference.latents import LatentViews

PROJECTIONS = ("pca", "tsne")


def shared_space_features(views: "LatentViews") -> np.ndarray:
    """(N, E * latent) standardised features: mu under every encoder, concatenated."""
    features = views.concatenated_mu()
    return (features - features.mean(0)) / (features.std(0) + 1e-8)


def project(features: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """(N, D) -> (N, 2) by PCA or t-SNE (perplexity adapted to small sets; deterministic)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if method not in PROJECTIONS:
        raise ValueError(f"projection must be one of {PROJECTIONS}, got {method!r}")
    if method == "pca" or len(features) <= 5:
        return PCA(n_components=2, random_state=seed).fit_transform(features)
    perplexity = float(min(30, max(2, (len(features) - 1) // 3)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(features)
