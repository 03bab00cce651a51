"""The deep-feature-consistent (DFC-VAE) loss: compare a pretrained network's activations, not just pixels.

An L1 loss alone rewards the average of every plausible reconstruction, which is a blur; a
painter's style lives in brushwork and texture, exactly what it blurs away. DFC-VAE (Hou et
al., 2017) adds the squared difference between a pretrained network's activations of the
input and of the reconstruction (VGG19 relu1_1, relu2_1, relu3_1 in the paper; any network
of `painterly_vae.feature_networks` here, each with its default taps). The network is frozen;
gradients flow through it into the reconstruction only.
"""

from __future__ import annotations

import torch
from torch import nn

from painterly_vae.model.pretrained import FeatureNetwork


class PerceptualLoss(nn.Module):
    """Sum over the chosen layers of the mean squared difference of activations."""

    def __init__(self, network: FeatureNetwork, layers: list[str]) -> None:
        super().__init__()
        if not layers:
            raise ValueError("the perceptual loss needs at least one layer")
        self.network = network
        self.taps = sorted({network.spec.index(name) for name in layers})

    def forward(self, reconstruction: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        """(scalar) the loss; gradients flow into `reconstruction` only."""
        with torch.no_grad():
            targets = self.network.activations(images, self.taps)
        produced = self.network.activations(reconstruction, self.taps)
        return sum(((p.float() - t.float()) ** 2).mean() for p, t in zip(produced, targets))
