"""Is this decoded picture a painting worth a verdict? The checks `prepare` and `attribute` share.

Decoding (`decode.load_rgb`) already refuses what is not an image, what is truncated, too
large, or smaller than the minimum size. What decodes fine can still be junk for a style
model: a blank or near-flat picture (a grey square, a failed scan) has no brushwork to read,
and a long strip (a banner, a frieze detail of 300 x 20000) becomes a square of which the
model sees a sliver. `prepare` leaves such files out of training; `attribute` refuses them
with the reason instead of giving a confident name, and warns, without refusing, about
pictures that are merely low in contrast or elongated enough that the square misses much of
them.

The thresholds were measured on 3,875 WikiArt reproductions by eight Impressionist-circle painters: the
flattest, Monet's London fogs and water lilies, have a per-channel standard deviation of 11
(of 255) on a 64 px thumbnail, well above `FLAT_REFUSED` and `FLAT_WARNED`; real paintings
rarely exceed 4:1 (Monet's Orangerie panels reach about 6.4:1, warned, not refused).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

THUMBNAIL = 64  # px: the contrast is measured on a thumbnail, so it does not depend on the file's size
FLAT_REFUSED = 2.0  # largest per-channel standard deviation (0-255) below which a picture is blank
FLAT_WARNED = 6.0  # below this it is attributed with a warning
ASPECT_REFUSED = 8.0  # longer side over shorter side above which the square shows too little
ASPECT_WARNED = 2.0

CHECK_REASONS = {
    "blank": "blank or near-flat: nothing painted to read",
    "extreme-aspect": f"longer than {ASPECT_REFUSED:g} times its width: a square shows too little of it",
}


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a picture; `refused` ones get no verdict, the others a warning."""

    reason: str  # a key of CHECK_REASONS for refusals; "low-contrast" or "elongated" for warnings
    detail: str
    refused: bool


def contrast(image: Image.Image) -> float:
    """The largest standard deviation of the three channels (0-255) on a thumbnail: 0 for a
    flat picture, about 40 for a typical painting; colour-only contrast counts too."""
    thumbnail = np.asarray(image.convert("RGB").resize((THUMBNAIL, THUMBNAIL), Image.Resampling.BILINEAR), dtype=np.float64)
    return float(thumbnail.reshape(-1, 3).std(axis=0).max())


def check_painting(image: Image.Image, fit: str = "crop", size: tuple[int, int] | None = None) -> list[Finding]:
    """What is wrong with an upright RGB picture, refusals first; empty when nothing is.

    `fit` is how the picture will be squared (`geometry.FITS`): it decides what the warning
    about an elongated picture says. `size` is the file's own (width, height) when `image` was
    decoded smaller (a JPEG draft), for the messages."""
    findings: list[Finding] = []
    width, height = size if size is not None else image.size
    if (width > height) != (image.width > image.height):  # the file's size is before EXIF rotation
        width, height = height, width
    aspect = max(width, height) / max(1, min(width, height))
    if aspect > ASPECT_REFUSED:
        findings.append(Finding("extreme-aspect", f"{width}x{height} is {aspect:.0f}:1", refused=True))
    level = contrast(image)
    if level < FLAT_REFUSED:
        findings.append(Finding("blank", f"contrast {level:.1f} of 255", refused=True))
    elif level < FLAT_WARNED:
        findings.append(Finding("low-contrast", f"almost flat (contrast {level:.1f} of 255; the flattest "
                                                f"paintings measured have 11)", refused=False))
    if ASPECT_WARNED < aspect <= ASPECT_REFUSED:
        seen = "only its centre square was read" if fit != "pad" else "it was shrunk into a strip of the square"
        shown = f" ({1 / aspect:.0%} of it)" if fit != "pad" else ""
        findings.append(Finding("elongated", f"{width}x{height}: {seen}{shown}", refused=False))
    return findings


def first_refusal(findings: list[Finding]) -> Finding | None:
    return next((finding for finding in findings if finding.refused), None)
