"""A patch discriminator on the decoder's paintings, and the adversarial terms it gives.

After Isola et al. (pix2pix, 2017) and Esser et al. (VQGAN, "Taming transformers", 2021), the
recipe of the sharp autoencoders under latent diffusion: a small convolutional network judges
overlapping patches of a painting real or decoded, so the decoder is pushed towards the
texture and brushwork L1 averages away (L1 alone paints the mean of what z allows: a blur).

- The discriminator: 4x4 stride-2 convolutions (`loss.discriminator_channels`) with
  GroupNorm (no running statistics, so a skipped step leaves nothing to restore) and
  LeakyReLU(0.2), then a 4x4 convolution to one logit per patch.
- Its loss is the hinge: mean(relu(1 - D(real))) + mean(relu(1 + D(decoded))).
- The decoder's adversarial term is -mean(D(decoded)), weighted by
  `adaptive_weight`: the norm of the reconstruction loss's gradient at the decoder's last layer
  over the norm of the adversarial term's gradient there, so the two pull equally hard whatever
  their scales, times `loss.adversarial_weight`; nothing before `loss.adversarial_start_step`
  (the decoder first learns to reconstruct, then to paint).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MAX_ADAPTIVE_WEIGHT = 1e4  # the ratio of two gradient norms, bounded (VQGAN's)


class PatchDiscriminator(nn.Module):
    """(B, 3, H, W) paintings in [0, 1] -> (B, 1, h, w) logits, one per overlapping patch."""

    def __init__(self, channels: list[int], leaky_slope: float = 0.2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3
        for index, width in enumerate(channels):
            layers.append(nn.Conv2d(in_channels, width, kernel_size=4, stride=2, padding=1, bias=index == 0))
            if index > 0:  # not on the first layer, as pix2pix
                layers.append(nn.GroupNorm(min(32, width // 4) or 1, width))
            layers.append(nn.LeakyReLU(leaky_slope))
            in_channels = width
        layers.append(nn.Conv2d(in_channels, 1, kernel_size=4, stride=1, padding=1))
        self.layers = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.layers(images * 2 - 1)


def hinge_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - real_logits.float()).mean() + F.relu(1 + fake_logits.float()).mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """What the decoder minimises: the discriminator's verdict on its paintings, negated."""
    return -fake_logits.float().mean()


def adaptive_weight(reconstruction_loss: torch.Tensor, adversarial_loss: torch.Tensor,
                    last_layer: torch.Tensor) -> torch.Tensor:
    """||d reconstruction / d last layer|| / ||d adversarial / d last layer||, bounded, detached."""
    reconstruction_grad = torch.autograd.grad(reconstruction_loss, last_layer, retain_graph=True)[0]
    adversarial_grad = torch.autograd.grad(adversarial_loss, last_layer, retain_graph=True)[0]
    weight = reconstruction_grad.norm() / (adversarial_grad.norm() + 1e-4)
    return weight.clamp(0.0, MAX_ADAPTIVE_WEIGHT).detach()
