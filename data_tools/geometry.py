"""Turning a painting of any shape into square training images.

    crop   resize the shorter side to the target size, cut the centre square (default)
    pad    resize the longer side to the target size, letterbox on black
    crops  several squares per painting (centre, then the four corners) from a copy whose
           shorter side is CROPS_ZOOM x the target: more images for artists with few works

Resampling is Lanczos (antialiased), with Pillow's `reducing_gap` for a fast first
reduction of big photos. The first image of every mode is the "canonical view" that
`attribute` uses for an unseen painting, so it is preprocessed as the run was trained.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

FITS = ("crop", "pad", "crops")
CROPS_ZOOM = 1.25
MAX_CROPS = 5
_LANCZOS = Image.Resampling.LANCZOS


def fit_image(image: Image.Image, size: int, fit: str, crops: int = MAX_CROPS) -> list[np.ndarray]:
    """Square uint8 arrays (3, size, size) from an RGB image; one for crop/pad, `crops` for crops."""
    if fit == "crop":
        squares = [_centre_square(_resize_shorter(image, size), size)]
    elif fit == "pad":
        squares = [_letterbox(image, size)]
    elif fit == "crops":
        if not 1 <= crops <= MAX_CROPS:
            raise ValueError(f"crops must be between 1 and {MAX_CROPS}")
        zoomed = _resize_shorter(image, round(size * CROPS_ZOOM))
        squares = [zoomed.crop(box) for box in _crop_boxes(zoomed.size, size)[:crops]]
    else:
        raise ValueError(f"unknown fit '{fit}', expected one of {FITS}")
    return [np.asarray(square, dtype=np.uint8).transpose(2, 0, 1).copy() for square in squares]


def _resize_shorter(image: Image.Image, target: int) -> Image.Image:
    width, height = image.size
    scale = target / min(width, height)
    new_size = (max(target, round(width * scale)), max(target, round(height * scale)))
    return image.resize(new_size, _LANCZOS, reducing_gap=3.0) if new_size != image.size else image


def _centre_square(image: Image.Image, size: int) -> Image.Image:
    width, height = image.size
    left, top = (width - size) // 2, (height - size) // 2
    return image.crop((left, top, left + size, top + size))


def _letterbox(image: Image.Image, size: int) -> Image.Image:
    width, height = image.size
    scale = size / max(width, height)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = image.resize(new_size, _LANCZOS, reducing_gap=3.0)
    canvas = Image.new("RGB", (size, size), (0, 0, 0))
    canvas.paste(resized, ((size - new_size[0]) // 2, (size - new_size[1]) // 2))
    return canvas


def _crop_boxes(image_size: tuple[int, int], size: int) -> list[tuple[int, int, int, int]]:
    """Centre first, then top-left, top-right, bottom-left, bottom-right."""
    width, height = image_size
    right, bottom = width - size, height - size
    corners = [((width - size) // 2, (height - size) // 2), (0, 0), (right, 0), (0, bottom), (right, bottom)]
    return [(x, y, x + size, y + size) for x, y in corners]
