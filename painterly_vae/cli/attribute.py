"""`painterly-vae attribute`: who painted these pictures, according to a trained run.

Each file is decoded and squared exactly as `prepare` did for the run (the checkpoint
records the size and fit), all readable paintings go through every encoder in batches, and
the run's calibrated clusters rank the artists. A painting whose latent is far from every
artist's cluster (its best score, the familiarity, is below the run's threshold) is "unknown":
the ranking is still given, as the answer if it had to be one of them, but it is a softmax
over the known artists and says nothing about how close any of them is. Unreadable files are
reported one by one; the others are still attributed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from painterly_vae.errors import UsageError
from painterly_vae.inference.latents import encode_views, encoding_bar
from painterly_vae.inference.painting_files import read_paintings
from painterly_vae.inference.trained_run import TrainedRun


@dataclass
class Attribution:
    """The answer for one file: ranked (artist, probability) pairs, or why there is none."""

    path: Path
    ranked: list[tuple[str, float]] = field(default_factory=list)
    unknown: bool = False
    familiarity: float | None = None  # the best artist's cluster score: low = unlike every known artist
    threshold: float | None = None  # the run's: familiarity below it is "unknown"
    error: str | None = None
    year: float | None = None  # estimated year, when the run has a year regression
    year_interval: tuple[float, float] | None = None

    def describe_year(self) -> str:
        """'painted about 1874 (1868-1880)', or '' without an estimate."""
        if self.year is None:
            return ""
        around = f"painted about {self.year:.0f}"
        if self.year_interval is None:
            return around
        return f"{around} ({self.year_interval[0]:.0f}-{self.year_interval[1]:.0f})"

    def describe(self, name: str | None = None) -> str:
        """One line for a person: the ranking (or why the painting is unknown) and the estimated year."""
        name = name or str(self.path)
        if self.error:
            return f"{name}: error: {self.error}"
        ranking = ", ".join(f"{artist} {probability:.2f}" for artist, probability in self.ranked)
        dated = f"; {self.describe_year()}" if self.year is not None else ""
        if self.unknown:
            return (f"{name}: unknown artist: unlike every artist the run knows (familiarity {self.familiarity:.3g}, "
                    f"below the run's threshold {self.threshold:.3g}); if it had to be one of them: {ranking}{dated}")
        return f"{name}: {ranking}{dated}"

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "artist": None if self.error or self.unknown else self.ranked[0][0],
            "unknown": self.unknown,
            "closest": self.ranked[0][0] if self.ranked else None,
            "ranking": [{"artist": a, "probability": round(p, 6)} for a, p in self.ranked],
            "familiarity": self.familiarity,
            "threshold": self.threshold,
            "year": None if self.year is None else round(self.year, 1),
            "year_interval": None if self.year_interval is None else [round(v, 1) for v in self.year_interval],
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


def attribute_files(run: TrainedRun, files: list[Path], top: int = 3, progress: bool = False) -> list[Attribution]:
    """Attribute every file; the order of the answers is the order of `files`."""
    clusters = run.require_clusters()
    results = [Attribution(path) for path in files]
    squares, readable = [], []
    for index, painting in enumerate(read_paintings(files, run.preprocessing)):
        if painting.square is None:
            results[index].error = painting.error
        else:
            squares.append(painting.square)
            readable.append(index)
    if readable:
        settings = run.inference
        with encoding_bar(len(squares), "attributing", progress and len(squares) > settings.batch_size) as bar:
            views = encode_views(run.model, np.stack(squares), settings, reconstruct=clusters.needs_reconstructions, bar=bar)
        probabilities = clusters.predict_proba(views)
        familiarity = clusters.familiarity(views)
        unknown = familiarity < clusters.threshold
        years = run.dating.predict(views) if run.dating is not None else None
        for row, index in enumerate(readable):
            order = np.argsort(-probabilities[row])[:top]
            results[index].ranked = [(run.artists[a], float(probabilities[row, a])) for a in order]
            results[index].unknown = bool(unknown[row])
            results[index].familiarity = float(familiarity[row])
            results[index].threshold = float(clusters.threshold)
            if years is not None:
                year, half = float(years[row]), run.dating.half_width
                results[index].year = year
                results[index].year_interval = (year - half, year + half) if np.isfinite(half) else None
    return results

