"""Paintings given on the command line, squared exactly as `prepare` squared the run's data.

`attribute` and the exploration commands (reconstruct, cross, interpolate) take image files
the run has never seen. Each is decoded (any orientation, mode or bit depth `prepare`
accepts) and cropped or padded to the run's size with the run's recorded fit; a file that
cannot be used gets a one-line reason instead of stopping the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from data_tools.decode import ImageRejected, load_rgb
from data_tools.geometry import fit_image


@dataclass
class PaintingFile:
    path: Path
    square: np.ndarray | None = None  # uint8 (3, size, size) when readable
    error: str | None = None


def read_paintings(files: list[Path], preprocessing: dict[str, Any]) -> list[PaintingFile]:
    """Every file squared with the run's `preprocessing` (size, fit, crops), or why not."""
    size = preprocessing["size"]
    results = []
    for path in files:
        result = PaintingFile(Path(path))
        if not result.path.exists():
            result.error = "no such file"
        else:
            try:
                image, _ = load_rgb(result.path, draft_size=size)
                # the canonical view (the first crop when prepare took several)
                result.square = fit_image(image, size, preprocessing.get("fit", "crop"), preprocessing.get("crops", 1))[0]
            except ImageRejected as rejected:
                result.error = f"{rejected.reason} ({rejected.detail})"
            except OSError as error:
                result.error = f"unreadable ({error})"
        results.append(result)
    return results
