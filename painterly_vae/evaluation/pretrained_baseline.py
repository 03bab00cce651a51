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
import torch

from painterly_vae.inference.latents import encoding_bar
from painterly_vae.inference.linear_probe import LinearProbe
from painterly_vae.model.model import resize
from painterly_vae.model.pretrained import FeatureNetwork
from painterly_vae.runtime.batches import to_device_images
from painterly_vae.runtime.precision import autocast

BATCH = 32


def pooled_features(network: FeatureNetwork, size: int, device: torch.device, amp_dtype: torch.dtype | None,
                    progress: bool = False):
    """A feature function for `LinearProbe`: uint8 images -> (N, C) pooled activations at `size` px."""

    @torch.inference_mode()
    def features(images: np.ndarray) -> np.ndarray:
        parts = []
        with encoding_bar(len(images), f"{network.record.network} features", progress) as bar:
            for start in range(0, len(images), BATCH):
                batch = resize(to_device_images(images[start : start + BATCH], device), size)
                with autocast(device, amp_dtype):
                    parts.append(network.pooled(batch.contiguous(memory_format=torch.channels_last)).float().cpu().numpy())
                bar.update(len(batch))
        return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)

    return features


def pretrained_features_classifier(network: FeatureNetwork, size: int, device: torch.device,
                                   amp_dtype: torch.dtype | None, seed: int = 0, progress: bool = False) -> LinearProbe:
    return LinearProbe(pooled_features(network, size, device, amp_dtype, progress), seed=seed)
