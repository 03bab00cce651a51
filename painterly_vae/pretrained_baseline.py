"""The practitioner's baseline: a frozen ImageNet network's pooled features + logistic regression.

What an ML practitioner tries first, and what the VAE must beat or at least match when it
borrows the same network: the global average of the network's last feature maps (1,280
values for MobileNetV2, 512 for VGG19) of each painting at the size the run reads (the
trunk's size for a trunk run), into the shared linear probe. The network is the run's own
(same weights, checked by hash), or any other asked for. The second probe reads the network's
style statistics instead (`FeatureNetwork.style_statistics`), the features `concat+trunk`
sets beside z, into the same regression (same strength) as `concat+trunk`: what the VAE's
latent adds to them is the VAE's own share. The third reads Gatys et al.'s whole style
representation (channel means and covariances, reduced to 256 principal components): the
strongest probe of the network measured on the five painters, without the VAE at all.
"""

from __future__ import annotations

import numpy as np
import torch

from painterly_vae.data import to_device_images
from painterly_vae.latents import encoding_bar
from painterly_vae.linear_probe import DEFAULT_STRENGTH, LinearProbe
from painterly_vae.model import resize
from painterly_vae.precision import autocast
from painterly_vae.pretrained import FeatureNetwork

BATCH = 32


def pooled_features(network: FeatureNetwork, size: int, device: torch.device, amp_dtype: torch.dtype | None,
                    progress: bool = False, style_layers: list[str] | None = None, gram: bool = False):
    """A feature function for `LinearProbe`: uint8 images -> (N, C) the pooled layer's average
    at `size` px, or with `style_layers` the style statistics at those layers (`gram`: with
    the channel covariances)."""

    @torch.inference_mode()
    def features(images: np.ndarray) -> np.ndarray:
        parts = []
        with encoding_bar(len(images), f"{network.record.network} features", progress) as bar:
            for start in range(0, len(images), BATCH):
                batch = resize(to_device_images(images[start : start + BATCH], device), size)
                batch = batch.contiguous(memory_format=torch.channels_last)
                with autocast(device, amp_dtype):
                    features = (network.pooled(batch) if style_layers is None
                                else network.style_statistics(batch, style_layers, gram))
                parts.append(features.float().cpu().numpy())
                bar.update(len(batch))
        return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)

    return features


def pretrained_features_classifier(network: FeatureNetwork, size: int, device: torch.device,
                                   amp_dtype: torch.dtype | None, seed: int = 0, progress: bool = False,
                                   style_layers: list[str] | None = None, strength: float = DEFAULT_STRENGTH,
                                   gram: bool = False, components: int | None = None) -> LinearProbe:
    return LinearProbe(pooled_features(network, size, device, amp_dtype, progress, style_layers, gram), strength, seed,
                       components)
