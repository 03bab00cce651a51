"""Synthetic painters: artists with habits, drawing any number of distinct paintings.

Real paintings need the internet; tests and the demo must not. Each synthetic artist has a
style drawn from a seed, and differs from the others in its hand at least as much as in its
palette (a model that reads only colour should lose to one that sees the painting): a stroke
shape (straight dashes, round dabs, or curved strokes), short or long strokes, a preferred
stroke direction of its own and how strictly it is kept, a canvas grain, composition habits
(where the horizon sits, how the strokes crowd the focus, landscape or portrait canvases, and
a tonal layout: where the light colours of the painting go, above the horizon, below it, at
the focus or around it); a palette that is the common one plus one colour of its own; and a
career: each painting has a year, and the strokes lengthen or shorten over the career, so a
painting's date is (weakly) visible in it. Every painting is a new draw from its artist's
style. Measured on the demo's painters (4 x 120 at 64 px, 384 to fit, 96 held out): a colour
histogram names 45% of the held-out paintings (chance 25%), a histogram of stroke
orientations 99%, the 8 x 8 thumbnail (the layout) 98%; the demo's VAE run 100% of its test
split against 48% for the colour histogram.

`painterly-vae synth` writes them in the raw layout (one folder per artist, a manifest), so
`prepare` treats them exactly like fetched paintings.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from tqdm import tqdm

from data_tools.atomic import atomic_write_bytes
from data_tools.manifest import MANIFEST_FILE, append_entry, read_manifest

STROKE_SHAPES = ("dash", "dab", "curve")
PALETTES = ("own", "shared")
# where a painter puts the light colours of a painting: above the horizon (a bright sky), below it,
# in the crowd of strokes at the focus (a lit figure on a dark ground), or around it
LIGHTS = ("above", "below", "centre", "around")
TONAL_SHARE = 0.8  # strokes that follow the tonal layout; the others take any colour of the painting
SHARED_PALETTE = [(200, 190, 160), (70, 90, 120), (230, 225, 210), (120, 110, 80), (150, 60, 50), (90, 130, 90), (210, 160, 90)]
OWN_COLOURS, COLOURS_PER_PAINTING = 1, 4


@dataclass(frozen=True)
class PainterStyle:
    """The habits of one synthetic artist (sizes are fractions of the canvas's shorter side)."""

    name: str
    palette: tuple[tuple[int, int, int], ...]
    stroke_shape: str
    stroke_length: float
    stroke_width: float
    direction: float  # preferred stroke angle, radians
    direction_spread: float  # standard deviation of the angle, radians
    strokes_per_area: float  # strokes per (shorter side / 10)^2
    horizon: float  # where the background changes colour, fraction of the height
    centre_weight: float  # 0 = strokes anywhere, 1 = crowded around the focus
    focus: tuple[float, float]  # where the strokes crowd, fractions of width and height
    light: str  # where the light colours go (LIGHTS): the painting's tonal layout
    texture: float  # amplitude of the canvas grain, 0..255
    blur: float  # softening radius
    landscape_share: float  # probability of a landscape (4:3) rather than portrait (3:4) canvas
    career: tuple[int, int]  # first and last year
    drift: float  # stroke length grows by this factor over the career (may be negative)


def painter_style(artist: int, seed: int = 0, artists: int = 4, palette: str = "own") -> PainterStyle:
    """The style of synthetic artist number `artist` (of `artists`) under `seed`.

    The hand is spread over the artists by design, so that no two share it: stroke
    directions evenly spaced over the half-turn, short and long strokes alternating, the
    stroke shapes in turn, the horizon and the crowding of the centre at different heights.
    The palette is mostly shared: with `palette="own"` each artist adds OWN_COLOURS colour of
    its own to the common palette (a painting uses COLOURS_PER_PAINTING of them, so the own
    colour is in about half its paintings); with `palette="shared"` every artist paints from
    the same colours, and only the hand tells them apart."""
    if palette not in PALETTES:
        raise ValueError(f"palette must be one of {PALETTES}, got '{palette}'")
    rng = np.random.default_rng([seed, artist, 0x5EED])
    place = artist / max(artists, 1)  # the artist's place among the others, in [0, 1)
    own = [_hsv(rng.uniform(0, 1), rng.uniform(0.3, 0.8), rng.uniform(0.4, 0.9)) for _ in range(OWN_COLOURS)]
    colours = own + SHARED_PALETTE if palette == "own" else SHARED_PALETTE
    long_strokes = artist % 2 == 1
    start = int(rng.integers(1840, 1890))
    return PainterStyle(
        name=f"painter-{artist + 1}",
        palette=tuple(colours),
        stroke_shape=STROKE_SHAPES[artist % len(STROKE_SHAPES)],
        stroke_length=float(rng.uniform(0.18, 0.26) if long_strokes else rng.uniform(0.05, 0.09)),
        stroke_width=float(rng.uniform(0.02, 0.035) if long_strokes else rng.uniform(0.035, 0.05)),
        direction=float(math.pi * place + rng.uniform(-0.1, 0.1)),
        direction_spread=float(rng.uniform(0.1, 0.3)),
        strokes_per_area=float(rng.uniform(0.6, 1.0) if long_strokes else rng.uniform(1.2, 1.8)),
        horizon=float(0.25 + 0.55 * ((artist * 0.618) % 1.0)),
        centre_weight=float(rng.uniform(0.7, 0.85)),
        focus=(0.5, 0.5),
        light=LIGHTS[artist % len(LIGHTS)],
        texture=float(rng.uniform(2.0, 16.0)),
        blur=float(rng.uniform(0.0, 0.006)),
        landscape_share=float(rng.uniform(0.2, 0.9)),
        career=(start, start + int(rng.integers(15, 40))),
        drift=float(rng.uniform(-0.5, 0.8)),
    )


@dataclass(frozen=True)
class SyntheticPainting:
    image: Image.Image
    year: int


def paint(style: PainterStyle, size: int, seed: int, square: bool = False) -> SyntheticPainting:
    """One painting by `style` whose shorter side is `size`; distinct seeds, distinct paintings."""
    rng = np.random.default_rng([zlib.crc32(style.name.encode()), seed])
    long_side = size if square else round(size * 4 / 3)
    width, height = (long_side, size) if rng.random() < style.landscape_share else (size, long_side)
    progress = rng.random()  # where in the career this painting falls
    year = style.career[0] + round(progress * (style.career[1] - style.career[0]))
    chosen = rng.choice(len(style.palette), size=COLOURS_PER_PAINTING, replace=False)  # this painting's colours
    palette = np.array(style.palette, dtype=float)[chosen] * rng.uniform(0.8, 1.15)  # and its light
    palette = np.clip(palette + rng.normal(0, 25, size=3), 0, 255)  # and its colour cast
    order = np.argsort(palette @ np.array([0.299, 0.587, 0.114]))
    dark, light = palette[order[:2]], palette[order[2:]]
    sky, ground = {"above": (light[1], dark[0]), "below": (dark[0], light[1]),
                   "centre": (dark[1], dark[0]), "around": (light[0], light[1])}[style.light]
    horizon_share = float(np.clip(style.horizon + rng.normal(0, 0.05), 0.1, 0.9))
    horizon = int(height * horizon_share)
    canvas = np.empty((height, width, 3))
    canvas[:horizon], canvas[horizon:] = sky, ground
    image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    length_scale = 1.0 + style.drift * progress
    count = int(style.strokes_per_area * (width * height / 100) * rng.uniform(0.8, 1.2))

    def tonal(up: bool, focused: bool) -> np.ndarray:
        """The colours a stroke there takes, by the painter's tonal layout."""
        lit = {"above": up, "below": not up, "centre": focused, "around": not focused}[style.light]
        return (light if lit else dark) if rng.random() < TONAL_SHARE else palette

    for _ in range(count):
        _stroke(draw, style, (width, height), rng, tonal, horizon_share, length_scale)
    if style.blur > 0:
        image = image.filter(ImageFilter.GaussianBlur(style.blur * size))
    grain = rng.normal(0.0, style.texture, size=(height, width, 1))
    pixels = np.clip(np.asarray(image, dtype=float) + grain, 0, 255).astype(np.uint8)
    return SyntheticPainting(Image.fromarray(pixels), year)


def _stroke(draw: ImageDraw.ImageDraw, style: PainterStyle, canvas: tuple[int, int], rng: np.random.Generator,
            tonal: Callable[[bool, bool], np.ndarray], horizon: float, length_scale: float) -> None:
    width, height = canvas
    side = min(width, height)
    focused = rng.random() < style.centre_weight
    if focused:
        x, y = np.clip(rng.normal(style.focus, 0.15, size=2), 0, 1) * (width, height)
    else:
        x, y = rng.uniform(0, 1, size=2) * (width, height)
    colours = tonal(y < horizon * height, focused)
    fill = tuple(int(c) for c in np.clip(colours[rng.integers(len(colours))] + rng.normal(0, 12, size=3), 0, 255))
    angle = style.direction + rng.normal(0, style.direction_spread)
    length = max(1.0, style.stroke_length * length_scale * side * rng.uniform(0.6, 1.4))
    stroke_width = max(1, int(round(style.stroke_width * side * rng.uniform(0.7, 1.3))))
    dx, dy = math.cos(angle) * length / 2, math.sin(angle) * length / 2
    if style.stroke_shape == "dab":
        r = max(1.0, stroke_width * 1.2)
        draw.ellipse([x - r - abs(dx) / 3, y - r - abs(dy) / 3, x + r + abs(dx) / 3, y + r + abs(dy) / 3], fill=fill)
    elif style.stroke_shape == "curve":
        bend = rng.normal(0, 0.6)
        points = []
        for t in np.linspace(-1, 1, 6):
            offset = bend * (1 - t * t) * length / 3
            points.append((x + t * dx - math.sin(angle) * offset, y + t * dy + math.cos(angle) * offset))
        draw.line(points, fill=fill, width=stroke_width, joint="curve")
    else:
        draw.line([(x - dx, y - dy), (x + dx, y + dy)], fill=fill, width=stroke_width)


def write_synthetic_raw(out: str | Path, artists: int, per_artist: int, size: int = 256, seed: int = 0,
                        progress: bool = False) -> Path:
    """Paint `per_artist` JPEGs for each of `artists` painters into `out/<painter>/`, with a
    manifest. Rerunning with the same arguments keeps what is there (same bytes, same names)
    without painting it again, so a killed run continues where it stopped."""
    out = Path(out)
    manifest_path = out / MANIFEST_FILE
    listed = {e.get("source_id") for e in read_manifest(manifest_path)}
    bar = tqdm(total=artists * per_artist, disable=not progress, unit="painting", desc="synth", dynamic_ncols=True)
    for artist in range(artists):
        style = painter_style(artist, seed, artists)
        # stored paintings by file name without the year (which is known only once painted)
        stored = {path.name.rsplit("-", 1)[0] for path in (out / style.name).glob(f"synthetic-{seed}-*.jpg")}
        for number in range(per_artist):
            bar.update(1)
            source_id = f"{style.name}-{seed}-{number}"
            if source_id in listed and f"synthetic-{seed}-{number:04d}" in stored:
                continue
            painting = paint(style, size, seed=seed * 1_000_003 + number)
            path = out / style.name / f"synthetic-{seed}-{number:04d}-{painting.year}.jpg"
            buffer = io.BytesIO()
            painting.image.save(buffer, format="JPEG", quality=92)
            data = buffer.getvalue()
            atomic_write_bytes(path, data)
            append_entry(manifest_path, {
                "artist": style.name, "source": "synthetic", "source_id": source_id,
                "title": f"Synthetic study {number + 1}", "year": painting.year,
                "license": "CC0-1.0 (generated by painterly-vae)", "credit": f"synthetic painter {style.name}, seed {seed}",
                "sha256": hashlib.sha256(data).hexdigest(), "width": painting.image.width, "height": painting.image.height,
            })
    bar.close()
    return out


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return int(r * 255), int(g * 255), int(b * 255)
