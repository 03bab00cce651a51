"""Paintings given on the command line, squared exactly as `prepare` squared the run's data.

`attribute` and the exploration commands (reconstruct, cross, interpolate) take image files
the run has never seen. Each is decoded (any orientation, mode or bit depth `prepare`
accepts), checked as `prepare` checks its paintings (smaller than the run's minimum size,
blank, a long strip: refused with the reason; low in contrast or elongated: kept with a
warning, `data_tools.painting_checks`), and cropped or padded to the run's size with the run's
recorded fit. A file that cannot be used gets a one-line reason instead of stopping the others.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from data_tools.decode import ImageRejected, load_rgb
from data_tools.geometry import fit_image
from data_tools.near_duplicates import perceptual_hash
from data_tools.painting_checks import check_painting, first_refusal

DEFAULT_MIN_SIZE = 64  # prepare's default, for runs that did not record theirs


@dataclass
class PaintingFile:
    path: Path
    square: np.ndarray | None = None  # uint8 (3, size, size) when readable
    error: str | None = None
    warnings: list[str] = field(default_factory=list)  # soft checks: attributed, but said
    phash: int | None = None  # perceptual hash of the whole picture: is it one the run trained on?


def files_under(folder: Path) -> list[Path]:
    """Every file under `folder`, at any depth, sorted; hidden files and folders skipped, and
    folders that are symbolic links followed (once each: a link back up is not a loop)."""
    found, seen = [], set()
    for root, folders, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            folders.clear()
            continue
        seen.add(real)
        folders[:] = sorted(name for name in folders if not name.startswith("."))  # the same folder wins every time
        found += [Path(root) / name for name in files if not name.startswith(".")]
    return sorted(found)


def read_paintings(files: list[Path], preprocessing: dict[str, Any]) -> list[PaintingFile]:
    """Every file squared with the run's `preprocessing` (size, fit, crops, min_size), or why not."""
    size = preprocessing["size"]
    fit = preprocessing.get("fit", "crop")
    min_size = int(preprocessing.get("min_size", DEFAULT_MIN_SIZE))
    results = []
    for path in files:
        result = PaintingFile(Path(path))
        if not result.path.exists():
            result.error = "no such file"
        else:
            try:
                image, original_size = load_rgb(result.path, draft_size=size, min_size=min_size)
                findings = check_painting(image, fit, original_size)
                refusal = first_refusal(findings)
                if refusal is not None:
                    raise ImageRejected(refusal.reason, refusal.detail)
                result.warnings = [finding.detail for finding in findings]
                result.phash = perceptual_hash(image)
                # the canonical view (the first crop when prepare took several)
                result.square = fit_image(image, size, fit, preprocessing.get("crops", 1))[0]
            except ImageRejected as rejected:
                result.error = f"{rejected.reason} ({rejected.detail})"
            except OSError as error:
                result.error = f"unreadable ({error})"
        results.append(result)
    return results
