"""Reconstruction quality figures: sharpness says how much of the input's edges survive."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from painterly_vae.model.image_quality import sharpness_ratio, ssim


def test_a_blur_is_less_sharp_than_its_input_and_a_copy_exactly_as_sharp() -> None:
    torch.manual_seed(0)
    images = torch.rand(3, 3, 32, 32)
    blurred = F.interpolate(F.avg_pool2d(images, 4), scale_factor=4, mode="bilinear")
    ratio = sharpness_ratio(blurred, images)
    assert ratio.shape == (3,) and bool((ratio < 0.5).all())
    torch.testing.assert_close(sharpness_ratio(images.clone(), images), torch.ones(3))
    assert bool((ssim(blurred, images) < ssim(images, images)).all())
