"""Real image files for tests: good paintings and every kind of bad file, made on the spot."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from data_tools.synthetic import paint, painter_style


def painting(seed: int, size: int = 96, artist: int = 0) -> Image.Image:
    """A distinct synthetic painting (different seeds never look alike to the perceptual hash)."""
    return paint(painter_style(artist, seed=7), size, seed).image


def save(image: Image.Image, path: Path, **params: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **params)
    return path


def truncated_jpeg(path: Path, seed: int = 1) -> Path:
    buffer = io.BytesIO()
    painting(seed, 160).save(buffer, format="JPEG", quality=90)
    data = buffer.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[: len(data) // 2])
    return path


def bomb_png(path: Path, side: int = 40_000) -> Path:
    """A tiny PNG whose header claims side x side pixels (a decompression bomb)."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", side, side)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))
    return path


def sixteen_bit_png(path: Path, size: int = 96) -> Path:
    ramp = np.tile(np.linspace(0, 65535, size, dtype=np.uint16), (size, 1))
    image = Image.fromarray(ramp)
    assert image.mode == "I;16"
    return save(image, path)
