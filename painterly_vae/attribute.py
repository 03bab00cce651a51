"""`painterly-vae attribute`: who painted these pictures, according to a trained run.

Each file is decoded and squared exactly as `prepare` did for the run (the checkpoint
records the size and fit), all readable paintings go through every encoder in batches, and
the run's calibrated clusters rank the artists. A painting whose best score is below the
run's threshold is "unknown", with the closest artist named. Unreadable files are reported
one by one; the others are still attributed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from data_tools.decode import ImageRejected, load_rgb
from data_tools.geometry import fit_image
from painterly_vae.data import to_device_images
from painterly_vae.errors import UsageError
from painterly_vae.latents import encode_views
from painterly_vae.trained_run import TrainedRun

BATCH = 32


@dataclass
class Attribution:
    """The answer for one file: ranked (artist, probability) pairs, or why there is none."""

    path: Path
    ranked: list[tuple[str, float]] = field(default_factory=list)
    unknown: bool = False
    familiarity: float | None = None
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "artist": None if self.error or self.unknown else self.ranked[0][0],
            "unknown": self.unknown,
            "closest": self.ranked[0][0] if self.ranked else None,
            "ranking": [{"artist": a, "probability": round(p, 6)} for a, p in self.ranked],
            "familiarity": self.familiarity,
            "error": self.error,
        }


def expand_inputs(inputs: list[Path]) -> list[Path]:
    """Files as given; folders become their files (recursively, sorted, hidden ones skipped)."""
    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            files += sorted(p for p in item.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(item).parts))
        else:
            files.append(item)
    if not files:
        raise UsageError("no files to attribute (the folders given are empty)")
    return files


def attribute_files(run: TrainedRun, files: list[Path], top: int = 3) -> list[Attribution]:
    """Attribute every file; the order of the answers is the order of `files`."""
    clusters = run.require_clusters()
    pre = run.preprocessing
    results = [Attribution(path) for path in files]
    squares, readable = [], []
    for index, path in enumerate(files):
        if not path.exists():
            results[index].error = "no such file"
            continue
        try:
            image, _ = load_rgb(path, draft_size=pre["size"])
        except ImageRejected as rejected:
            results[index].error = f"{rejected.reason} ({rejected.detail})"
            continue
        except OSError as error:
            results[index].error = f"unreadable ({error})"
            continue
        squares.append(fit_image(image, pre["size"], pre.get("fit", "crop"), pre.get("crops", 1))[0])  # the canonical view
        readable.append(index)
    if readable:
        batches = (to_device_images(np.stack(squares[i : i + BATCH]), run.device) for i in range(0, len(squares), BATCH))
        views = encode_views(run.model, batches, reconstruct=clusters.needs_reconstructions, amp_dtype=run.amp_dtype)
        probabilities = clusters.predict_proba(views)
        familiarity = clusters.familiarity(views)
        unknown = familiarity < clusters.threshold
        for row, index in enumerate(readable):
            order = np.argsort(-probabilities[row])[:top]
            results[index].ranked = [(run.artists[a], float(probabilities[row, a])) for a in order]
            results[index].unknown = bool(unknown[row])
            results[index].familiarity = float(familiarity[row])
    return results

