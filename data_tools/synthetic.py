"""Synthetic painters: artists with habits, drawing any number of distinct paintings.

Real paintings need the internet; tests and the demo must not. Each synthetic artist has a
style drawn from a seed: a palette (partly shared with the others, so colour alone does not
give the artist away), a stroke shape (straight dashes, dabs, or curved strokes), stroke
length and width, a preferred stroke direction and how strictly it is kept, a canvas texture,
and composition habits (where the horizon sits, whether strokes crowd the centre). Every
painting of an artist is a new draw from that style, so artists are separable but not
trivially, and attribution accuracy on them is a meaningful smoke test.
"""

from __future__ import annotations

import colorsys
import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

STROKE_SHAPES = ("dash", "dab", "curve")
SHARED_PALETTE = [(200, 190, 160), (70, 90, 120), (230, 225, 210), (120, 110, 80)]


@dataclass(frozen=True)
class PainterStyle:
    """The habits of one synthetic artist (all sizes relative to the canvas side)."""

    name: str
    palette: tuple[tuple[int, int, int], ...]
    stroke_shape: str
    stroke_length: float  # fraction of the canvas side
    stroke_width: float  # fraction of the canvas side
    direction: float  # preferred stroke angle, radians
    direction_spread: float  # standard deviation of the angle, radians
    strokes_per_area: float  # strokes per (canvas side / 10)^2
    horizon: float  # where the background changes colour, fraction of the height
    centre_weight: float  # 0 = strokes anywhere, 1 = crowded around the centre
    texture: float  # amplitude of the canvas grain, 0..255
    blur: float  # softening radius, fraction of the canvas side


def painter_style(artist: int, seed: int = 0) -> PainterStyle:
    """The style of synthetic artist number `artist` under `seed` (deterministic)."""
    rng = np.random.default_rng([seed, artist, 0x5EED])
    hue = (artist * 0.618034 + rng.uniform(-0.05, 0.05)) % 1.0
    own = [_hsv(hue + rng.uniform(-0.08, 0.08), rng.uniform(0.35, 0.9), rng.uniform(0.35, 0.95)) for _ in range(3)]
    shared = [SHARED_PALETTE[i] for i in rng.choice(len(SHARED_PALETTE), size=2, replace=False)]
    return PainterStyle(
        name=f"painter-{artist + 1}",
        palette=tuple(own + shared),
        stroke_shape=STROKE_SHAPES[artist % len(STROKE_SHAPES)],
        stroke_length=float(rng.uniform(0.04, 0.25)),
        stroke_width=float(rng.uniform(0.01, 0.04)),
        direction=float(rng.uniform(0, math.pi)),
        direction_spread=float(rng.uniform(0.1, 1.2)),
        strokes_per_area=float(rng.uniform(1.5, 4.0)),
        horizon=float(rng.uniform(0.25, 0.75)),
        centre_weight=float(rng.uniform(0.0, 1.0)),
        texture=float(rng.uniform(0.0, 18.0)),
        blur=float(rng.uniform(0.0, 0.006)),
    )


def paint(style: PainterStyle, size: int, seed: int) -> Image.Image:
    """One painting (RGB, size x size) by `style`; distinct seeds give distinct paintings."""
    rng = np.random.default_rng([zlib.crc32(style.name.encode()), seed])
    palette = np.array(style.palette, dtype=float)
    sky, ground = palette[rng.choice(len(palette), size=2, replace=False)]
    horizon = int(size * np.clip(style.horizon + rng.normal(0, 0.08), 0.1, 0.9))
    canvas = np.empty((size, size, 3))
    canvas[:horizon] = sky
    canvas[horizon:] = ground
    image = Image.fromarray(canvas.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    count = int(style.strokes_per_area * (size / 10) ** 2 * rng.uniform(0.8, 1.2))
    for _ in range(count):
        _stroke(draw, style, size, rng, palette)
    if style.blur > 0:
        image = image.filter(ImageFilter.GaussianBlur(style.blur * size))
    pixels = np.asarray(image, dtype=float)
    grain = rng.normal(0.0, style.texture, size=(size, size, 1))
    return Image.fromarray(np.clip(pixels + grain, 0, 255).astype(np.uint8))


def _stroke(draw: ImageDraw.ImageDraw, style: PainterStyle, size: int, rng: np.random.Generator, palette: np.ndarray) -> None:
    if rng.random() < style.centre_weight:
        x, y = np.clip(rng.normal(0.5, 0.18, size=2), 0, 1) * size
    else:
        x, y = rng.uniform(0, size, size=2)
    colour = np.clip(palette[rng.integers(len(palette))] + rng.normal(0, 12, size=3), 0, 255)
    fill = tuple(int(c) for c in colour)
    angle = style.direction + rng.normal(0, style.direction_spread)
    length = max(1.0, style.stroke_length * size * rng.uniform(0.6, 1.4))
    width = max(1, int(round(style.stroke_width * size * rng.uniform(0.7, 1.3))))
    dx, dy = math.cos(angle) * length / 2, math.sin(angle) * length / 2
    if style.stroke_shape == "dab":
        radius = max(1.0, width * 1.2)
        draw.ellipse([x - radius - abs(dx) / 3, y - radius - abs(dy) / 3, x + radius + abs(dx) / 3, y + radius + abs(dy) / 3], fill=fill)
    elif style.stroke_shape == "curve":
        bend = rng.normal(0, 0.6)
        points = []
        for t in np.linspace(-1, 1, 6):
            offset = bend * (1 - t * t) * length / 3
            points.append((x + t * dx - math.sin(angle) * offset, y + t * dy + math.cos(angle) * offset))
        draw.line(points, fill=fill, width=width, joint="curve")
    else:
        draw.line([(x - dx, y - dy), (x + dx, y + dy)], fill=fill, width=width)


def paintings_array(style: PainterStyle, count: int, size: int, first_seed: int) -> np.ndarray:
    """`count` paintings as a uint8 array (N, 3, size, size), seeds first_seed, first_seed+1, ..."""
    out = np.empty((count, 3, size, size), dtype=np.uint8)
    for i in range(count):
        out[i] = np.asarray(paint(style, size, first_seed + i)).transpose(2, 0, 1)
    return out


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return int(r * 255), int(g * 255), int(b * 255)


def write_synthetic_processed(
    out_dir: str | Path, artists: int, per_artist: int, size: int, seed: int = 0,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
) -> Path:
    """Paint `per_artist` paintings for each of `artists` painters straight into the processed
    format (train/val/test by painting number), for tests and the demo."""
    from data_tools.processed import SPLITS, write_processed

    counts = [int(per_artist * fractions[0]), int(per_artist * fractions[1])]
    counts.append(per_artist - sum(counts))
    arrays: dict[str, dict[str, np.ndarray]] = {}
    rows: dict[str, dict[str, list[dict]]] = {}
    for artist in range(artists):
        style = painter_style(artist, seed)
        paintings = paintings_array(style, per_artist, size, first_seed=seed * 1_000_003)
        bounds = np.cumsum([0, *counts])
        arrays[style.name] = {split: paintings[bounds[i] : bounds[i + 1]] for i, split in enumerate(SPLITS)}
        rows[style.name] = {
            split: [{"artist": style.name, "source": "synthetic", "source_id": f"{style.name}-{n}", "title": f"Synthetic {n}"}
                    for n in range(bounds[i], bounds[i + 1])]
            for i, split in enumerate(SPLITS)
        }
    return write_processed(out_dir, arrays, rows, {"synthetic": {"artists": artists, "per_artist": per_artist, "size": size, "seed": seed}})
