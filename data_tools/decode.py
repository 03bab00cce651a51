"""Reading one image file into 8-bit RGB, or saying exactly why not.

Everything a collection of scanned paintings throws at us ends here: EXIF-rotated photos,
CMYK JPEGs, palette GIFs, greyscale and 16-bit PNGs, transparency (composited on white),
truncated downloads, HTML error pages saved as .jpg, thumbnails too small to learn from, and
headers claiming billions of pixels (decompression bombs). A file that cannot be used raises
`ImageRejected` with a short reason code that `prepare` counts in its summary.

`prepare` and `attribute` both decode through `load_rgb`, so a painting is seen the same way
in training and at attribution time.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 120_000_000  # about 11000 x 11000: larger files are refused as bombs

REASONS = {
    "not-an-image": "not an image Pillow can identify",
    "truncated": "truncated or corrupt image data",
    "too-small": "smaller than the minimum size",
    "too-large": "more pixels than the decompression-bomb limit",
    "unreadable": "could not be read",
}


class ImageRejected(Exception):
    """A file that cannot become a training image; `reason` is a key of REASONS (or prepare's)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def load_rgb(
    path: str | Path | BinaryIO,
    *,
    min_size: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    draft_size: int | None = None,
) -> tuple[Image.Image, tuple[int, int]]:
    """Decode a file (path or binary stream) to an upright 8-bit RGB image; returns it and the
    original (width, height).

    `draft_size` lets JPEGs decode at a reduced scale (libjpeg's DCT scaling) as long as the
    shorter side stays at least that large: several times faster on multi-megapixel photos.
    `min_size` applies to the shorter side of the original.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            width, height = image.size
            if width * height > max_pixels:
                raise ImageRejected("too-large", f"{width}x{height} exceeds {max_pixels} pixels")
            if min(width, height) < min_size:
                raise ImageRejected("too-small", f"{width}x{height}, shorter side below {min_size}")
            if draft_size is not None and image.format == "JPEG":
                scale = min(width, height) / draft_size
                if scale >= 2:
                    image.draft("RGB", (int(width / scale) + 1, int(height / scale) + 1))
            image.load()
            image = ImageOps.exif_transpose(image)
            return to_rgb(image), (width, height)
    except ImageRejected:
        raise
    except UnidentifiedImageError:
        raise ImageRejected("not-an-image", "Pillow cannot identify the file") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected("too-large", str(error)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        message = str(error)
        if "truncated" in message or "broken" in message or isinstance(error, (SyntaxError, EOFError)):
            raise ImageRejected("truncated", message or type(error).__name__) from None
        raise ImageRejected("unreadable", message or type(error).__name__) from None


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB: CMYK and palettes converted, alpha composited on white,
    16- and 32-bit greyscale scaled down rather than clipped."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        grey = np.clip(values * (255.0 / peak) + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        peak = 1.0 if values.max(initial=0) <= 1.0 else 255.0
        return Image.fromarray(np.clip(values * (255.0 / peak) + 0.5, 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if image.mode != "RGB":
        return image.convert("RGB")
    return image
