"""The practitioner's baseline: a frozen ImageNet network's pooled features + logistic regression.

What an ML practitioner tries first, and what the VAE must beat or at least match when it
borrows the same network: the global average of the network's last feature maps (1,280
values for MobileNetV2, 512 for VGG19) of each painting at the size the run reads (the
trunk's size for a trunk run), into the shared linear probe. The network is the run's own
(same weights, checked by hash), or any other asked for. For the run's trunk, `evaluate` also
probes the network's style and Gram statistics, which the run's views already hold.
"""

from __future__ import annotations

import numpy as np

from painterly_vae.inference.latents import encoding_bar
from painterly_vae.inference.linear_probe import LinearProbe
from painterly_vae.model.model import resize
from painterly_vae.model.pretrained import FeatureNetwork
from painterly_vae.runtime.batched import InferenceSettings, run_batched


def pooled_features(network: FeatureNetwork, size: int, settings: InferenceSettings, progress: bool = False):
    """A feature function for `LinearProbe`: uint8 images -> (N, C) pooled activations at `size` px."""

    def features(images: np.ndarray) -> np.ndarray:
        with encoding_bar(len(images), f"{network.record.network} features", progress) as bar:
            parts = run_batched(images, lambda batch: network.pooled(resize(batch, size)).float().cpu().numpy(),
                                settings, bar)
        return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)

    return features


def pretrained_features_classifier(network: FeatureNetwork, size: int, settings: InferenceSettings, seed: int = 0,
                                   progress: bool = False) -> LinearProbe:
    return LinearProbe(pooled_features(network, size, settings, progress), seed=seed)
