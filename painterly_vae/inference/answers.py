"""Who painted these pictures, according to a trained run, in words: the answers that
`painterly-vae attribute` prints and `painterly-vae serve` shows.

Each file is decoded, checked and squared exactly as `prepare` did for the run
(`inference.painting_files`: too small, blank or a long strip is refused with the reason;
low in contrast or elongated is attributed with a warning), all readable paintings go through
every encoder in batches, and the run's calibrated clusters rank the artists.

What an answer says, and why:
- the probabilities are among the run's painters only: a softmax over them, whatever the
  painting; the header says so once, with how often paintings by painters the run never saw
  pass as one of them (`inference.strangers`, measured when the run was fitted);
- how like the run's painters the painting is, as a share of their own validation paintings
  ("less like these painters than 97% of their own paintings"); below the run's threshold
  it is "unknown artist", and the ranking is given only as the answer if it had to be one;
- the year only with its measured error, and a plain statement where it dates no better than
  each painter's usual year;
- a mark on paintings the run trained or calibrated on (its answer there is no evidence);
- after a folder, a tally: per painter, unknown, refused.
The numbers behind the words (familiarity, threshold) are in `--json` and `--verbose`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from painterly_vae.inference.known_paintings import ROLES
from painterly_vae.inference.latents import LatentViews, encode_views, encoding_bar
from painterly_vae.inference.painting_files import PaintingFile, read_paintings
from painterly_vae.inference.strangers import MIN_PAINTERS, StrangerRate
from painterly_vae.inference.trained_run import TrainedRun


@dataclass
class Attribution:
    """The answer for one file: ranked (artist, probability) pairs and what to make of them, or why there is none."""

    path: Path
    ranked: list[tuple[str, float]] = field(default_factory=list)
    unknown: bool = False
    familiarity: float | None = None  # the best artist's cluster score: low = unlike every known artist
    threshold: float | None = None  # the run's: familiarity below it is "unknown"
    error: str | None = None  # why it was refused (not an image, too small, blank, ...)
    year: float | None = None  # estimated year, when the run has a year regression
    year_interval: tuple[float, float] | None = None
    likeness: str | None = None  # the familiarity in words (None for runs fitted before it was measured)
    dating_error: str | None = None  # how far off the run's years are, in words
    warnings: list[str] = field(default_factory=list)  # soft checks of the picture
    seen: str | None = None  # "train" / "val": a painting the run trained or calibrated on
    hard_pair: str | None = None  # the leading two are a pair the run often confuses: how often it tells them apart
    plausible: list[str] | None = None  # the painters whose probability reaches their floor (`plausible_painters`)
    plausible_sentence: str | None = None  # the same in words, with its promise

    def describe_year(self, with_error: bool = True) -> str:
        """'painted about 1874 (1868-1880; 8 years off on average ...)', or '' without an estimate.
        Without the error where the run's header has already said it (several answers in a row)."""
        if self.year is None:
            return ""
        around = f"painted about {self.year:.0f}"
        detail = [f"{self.year_interval[0]:.0f}-{self.year_interval[1]:.0f}"] if self.year_interval is not None else []
        detail += [self.dating_error] if self.dating_error and with_error else []
        return f"{around} ({'; '.join(detail)})" if detail else around

    def describe(self, name: str | None = None, verbose: bool = False) -> str:
        """The answer for a person: the ranking (or why the painting is unknown, or refused) on the
        first line; how like the run's painters it is, its year, warnings and marks indented below.
        How far off the years are is the run's, said once in its header (`describe_run`)."""
        name = name or str(self.path)
        if self.error:
            return f"{name}: refused: {self.error}"
        ranking = ", ".join(f"{artist} {probability:.0%}" for artist, probability in self.ranked)
        numbers = (f" (familiarity {self.familiarity:.3g}, the run's threshold {self.threshold:.3g})"
                   if verbose and self.familiarity is not None and self.threshold is not None else "")
        likeness = self.likeness or ("unlike every painter the run knows" if self.unknown else "")
        if self.unknown:
            lines = [f"{name}: unknown artist; if it had to be one of the run's painters: {ranking}",
                     f"    {likeness}: below what the run accepts{numbers}"]
        else:
            lines = [f"{name}: {ranking}"]
            if likeness or numbers:
                lines.append(f"    {likeness}{numbers}".rstrip())
        if self.plausible_sentence:
            lines.append(f"    {self.plausible_sentence}")
        if self.hard_pair:
            lines.append(f"    {self.hard_pair}")
        if self.year is not None:
            lines.append(f"    {self.describe_year(with_error=False)}")
        lines += [f"    warning: {warning}" for warning in self.warnings]
        if self.seen:
            lines.append(f"    * {ROLES[self.seen]}: this answer is no evidence")
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "artist": None if self.error or self.unknown else self.ranked[0][0],
            "unknown": self.unknown,
            "closest": self.ranked[0][0] if self.ranked else None,
            "ranking": [{"artist": a, "probability": round(p, 6)} for a, p in self.ranked],
            "familiarity": self.familiarity,
            "threshold": self.threshold,
            "likeness": self.likeness,
            "year": None if self.year is None else round(self.year, 1),
            "year_interval": None if self.year_interval is None else [round(v, 1) for v in self.year_interval],
            "dating_error": self.dating_error,
            "warnings": list(self.warnings),
            "seen_in": self.seen,
            "hard_pair": self.hard_pair,
            "plausible": self.plausible,
            "plausible_sentence": self.plausible_sentence,
            "error": self.error,
        }


def attribute_files(run: TrainedRun, files: list[Path], top: int = 3, progress: bool = False) -> list[Attribution]:
    """Attribute every file; the order of the answers is the order of `files`."""
    return attribute_paintings(run, read_paintings(files, run.preprocessing), top, progress)[0]


def attribute_paintings(run: TrainedRun, paintings: list[PaintingFile], top: int = 3,
                        progress: bool = False) -> tuple[list[Attribution], LatentViews | None]:
    """The answers for paintings already read (`painting_files.read_paintings`), in their
    order, and the views of the readable ones in the same order (None when none was readable:
    what the page needs besides the words, for the evidence and the map)."""
    clusters = run.require_clusters()
    results = [Attribution(painting.path) for painting in paintings]
    squares, readable = [], []
    for index, painting in enumerate(paintings):
        if painting.square is None:
            results[index].error = painting.error
        else:
            squares.append(painting.square)
            readable.append(index)
            results[index].warnings = painting.warnings
            results[index].seen = clusters.known.role_of(painting.phash) if clusters.known is not None else None
    if not readable:
        return results, None
    settings = run.inference
    with encoding_bar(len(squares), "attributing", progress and len(squares) > settings.batch_size) as bar:
        views = encode_views(run.model, np.stack(squares), settings, reconstruct=clusters.needs_reconstructions, bar=bar)
    probabilities = clusters.predict_proba(views)
    familiarity = clusters.familiarity(views)
    unknown = clusters.rejects(familiarity, probabilities.argmax(1))
    plausible = clusters.plausible_given(probabilities, familiarity)
    years = run.dating.predict(views, probabilities.argmax(1)) if run.dating is not None else None
    for row, index in enumerate(readable):
        result = results[index]
        order = np.argsort(-probabilities[row])
        result.ranked = [(run.artists[a], float(probabilities[row, a])) for a in order[:top]]
        result.unknown = bool(unknown[row])
        result.familiarity = float(familiarity[row])
        result.threshold = clusters.threshold_for(int(order[0]))
        result.likeness = clusters.describe_familiarity(result.familiarity)
        if plausible is not None:
            result.plausible = [run.artists[a] for a in order if plausible[row, a]]
            result.plausible_sentence = clusters.plausible.describe(result.plausible)
        if clusters.pairs is not None and len(order) > 1 and not result.unknown:
            result.hard_pair = clusters.pairs.describe(run.artists, int(order[0]), int(order[1]))
        if years is not None:
            year, half = float(years[row]), run.dating.half_width
            result.year = year
            result.year_interval = (year - half, year + half) if np.isfinite(half) else None
            result.dating_error = run.dating.describe_error()
    return results, views


def describe_run(run: TrainedRun) -> str:
    """The header of every answer: which run, its painters, and what its probabilities mean."""
    clusters = run.clusters
    return describe_painters(run.run_dir, run.artists, clusters.strangers if clusters is not None else None,
                             clusters.describe_threshold() if clusters is not None else None,
                             run.dating.describe_error() if run.dating is not None else None)


def describe_painters(run_dir: Path, artists: list[str], strangers: StrangerRate | None,
                      threshold: str | None = None, dating_error: str | None = None) -> str:
    measured = (strangers.describe() if strangers is not None
                else "how often paintings by other painters pass as one of them was not measured for this run"
                     + (" (it has fewer than three painters)" if len(artists) < MIN_PAINTERS else
                        " (fitted before it was; `painterly-vae cluster` measures it)"))
    return (f"Run {run_dir} ({len(artists)} artists: {', '.join(artists)}).\n"
            f"Probabilities are among these {len(artists)} painters only: {measured}."
            + (f"\n{threshold[0].upper()}{threshold[1:]}." if threshold else "")
            + (f"\nYears: {dating_error}." if dating_error else ""))


def tally(results: list[Attribution]) -> str:
    """One sentence after several answers: how many went to each painter, unknown, refused, seen before."""
    named = Counter(r.ranked[0][0] for r in results if not r.error and not r.unknown)
    parts = [f"{artist} {count}" for artist, count in named.most_common()]
    unknown = sum(1 for r in results if not r.error and r.unknown)
    if unknown:
        parts.append(f"unknown artist {unknown}")
    refused = Counter((r.error or "").split(" (")[0] for r in results if r.error)
    if refused:
        reasons = ", ".join(f"{reason} {count}" for reason, count in refused.most_common())
        parts.append(f"refused {sum(refused.values())} ({reasons})")
    seen = sum(1 for r in results if r.seen)
    marked = f"; {seen} of them the run has already seen (marked *)" if seen else ""
    return f"{len(results)} paintings: {', '.join(parts)}{marked}"
