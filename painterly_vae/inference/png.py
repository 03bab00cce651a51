"""A picture as the bytes of a PNG file: what `sample` writes one image at a time, and what
the page sends (thumbnails, and the crossings inlined in its answers)."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image


def to_pixels(image: np.ndarray | torch.Tensor) -> np.ndarray:
    """(3, H, W) floats in [0, 1] (what the decoder paints) -> uint8, rounded."""
    if isinstance(image, torch.Tensor):
        image = image.detach().float().cpu().numpy()
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


def png_bytes(pixels: np.ndarray, side: int | None = None) -> bytes:
    """uint8 (3, H, W) -> a PNG file's bytes, resized (Lanczos) to `side` x `side` when given."""
    image = Image.fromarray(np.ascontiguousarray(np.asarray(pixels).transpose(1, 2, 0)))
    if side is not None and image.size != (side, side):
        image = image.resize((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
