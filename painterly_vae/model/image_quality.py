"""Reconstruction quality per image: PSNR, SSIM and sharpness for images in [0, 1].

SSIM follows Wang et al., "Image quality assessment: from error visibility to structural
similarity" (2004): an 11x11 Gaussian window (sigma 1.5), constants (0.01)^2 and (0.03)^2,
computed per channel over the valid region and averaged.

Sharpness is the mean gradient magnitude (horizontal and vertical neighbour differences) of
an image; a reconstruction's sharpness over its input's says how much of the input's edges
and texture survive: 1 = as sharp, an L1-trained VAE's blur sits far below.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

WINDOW = 11
SIGMA = 1.5


def psnr(images: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """(B,) peak signal-to-noise ratio in dB; identical images give +inf."""
    mse = (images.float() - references.float()).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse)


def ssim(images: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """(B,) structural similarity, 1 for identical images; differentiable (the structural loss term
    `loss.ssim_weight` trains on it), in float32 or float64 when given float64."""
    dtype = torch.promote_types(images.dtype, torch.float32)
    x, y = images.to(dtype), references.to(dtype)
    channels = x.shape[1]
    window = min(WINDOW, x.shape[-1], x.shape[-2])
    coords = torch.arange(window, dtype=dtype, device=x.device) - (window - 1) / 2
    gauss = torch.exp(-coords.pow(2) / (2 * SIGMA**2))
    gauss = gauss / gauss.sum()
    kernel = (gauss[:, None] * gauss[None, :]).expand(channels, 1, window, window).contiguous()

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, kernel, groups=channels)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x.pow(2)
    var_y = blur(y * y) - mu_y.pow(2)
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    value = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x.pow(2) + mu_y.pow(2) + c1) * (var_x + var_y + c2))
    return value.flatten(1).mean(1)


def gradient_magnitude(images: torch.Tensor) -> torch.Tensor:
    """(B,) mean absolute difference between neighbouring pixels, across and down."""
    x = images.float()
    across = (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).mean(1)
    down = (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).mean(1)
    return (across + down) / 2


def sharpness_ratio(images: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """(B,) gradient magnitude of `images` over that of `references` (1 = as sharp)."""
    return gradient_magnitude(images) / gradient_magnitude(references).clamp_min(1e-8)
