"""Decoding: every odd or broken file either becomes 8-bit RGB or is rejected with a reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from images import bomb_png, painting, save, sixteen_bit_png, truncated_jpeg
from PIL import Image

from data_tools.decode import ImageRejected, load_rgb


def _reason(path: Path, **kwargs: object) -> str:
    with pytest.raises(ImageRejected) as caught:
        load_rgb(path, **kwargs)
    return caught.value.reason


def test_rejections_with_reasons(tmp_path: Path) -> None:
    assert _reason(truncated_jpeg(tmp_path / "cut.jpg")) == "truncated"
    text = tmp_path / "page.jpg"
    text.write_text("<html><body>429 Too Many Requests</body></html>")
    assert _reason(text) == "not-an-image"
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert _reason(empty) == "not-an-image"
    assert _reason(save(Image.new("RGB", (1, 1)), tmp_path / "dot.png"), min_size=64) == "too-small"
    assert _reason(bomb_png(tmp_path / "bomb.png")) == "too-large"


def test_alpha_is_composited_on_white(tmp_path: Path) -> None:
    rgba = Image.new("RGBA", (80, 80), (255, 0, 0, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 40, 80))  # left half fully transparent
    image, _ = load_rgb(save(rgba, tmp_path / "alpha.png"))
    pixels = np.asarray(image)
    assert image.mode == "RGB"
    assert tuple(pixels[40, 10]) == (255, 255, 255)
    assert tuple(pixels[40, 70]) == (255, 0, 0)


def test_cmyk_palette_greyscale_and_16_bit_become_rgb(tmp_path: Path) -> None:
    source = painting(3, 96)
    cmyk, _ = load_rgb(save(source.convert("CMYK"), tmp_path / "cmyk.jpg", quality=95))
    assert cmyk.mode == "RGB"
    assert np.abs(np.asarray(cmyk, float) - np.asarray(source, float)).mean() < 12  # colours survive

    transparent_gif = source.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    transparent_gif.info["transparency"] = 0
    gif, _ = load_rgb(save(transparent_gif, tmp_path / "palette.gif", transparency=0))
    assert gif.mode == "RGB"

    grey, _ = load_rgb(save(source.convert("L"), tmp_path / "grey.png"))
    assert grey.mode == "RGB"

    deep, _ = load_rgb(sixteen_bit_png(tmp_path / "deep.png"))
    row = np.asarray(deep)[0, :, 0]
    assert deep.mode == "RGB" and row[0] == 0 and row[-1] == 255  # scaled, not clipped to white
    assert 100 < row[len(row) // 2] < 155


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    image = Image.new("RGB", (60, 90), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 60, 45))  # red on top, stored portrait
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    upright, original = load_rgb(save(image, tmp_path / "rotated.jpg", exif=exif, quality=95))
    assert original == (60, 90)
    assert upright.size == (90, 60)  # shown as landscape
    pixels = np.asarray(upright, int)
    assert pixels[30, 80, 0] > 200 and pixels[30, 10, 2] > 200  # red now on the right, blue on the left


def test_jpeg_draft_keeps_enough_pixels(tmp_path: Path) -> None:
    big = save(painting(5, 1200), tmp_path / "big.jpg", quality=90)
    image, original = load_rgb(big, draft_size=256)
    assert min(original) == 1200
    assert 256 <= min(image.size) < 1200
