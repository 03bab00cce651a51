"""`painterly-vae prepare`: a folder of artist sub-folders -> the processed training format.

    raw/<artist>/<any images>   (+ raw/manifest.jsonl from `fetch`, optional)
      -> decode (parallel), reject with reasons, deduplicate, split, square, write
    processed/index.json + processed/<artist>/<split>.<generation>.npy

Memory stays flat whatever the collection's size: each decoded square goes to an on-disk
spool as it arrives (`square_spool`), and the arrays are written from it a chunk at a time.

Every file ends up counted: kept, or rejected with a reason (see `decode.REASONS` and
PREPARE_REASONS; blank pictures and long strips are refused by `painting_checks`, as
`attribute` refuses them). Exact duplicates (same bytes) and near duplicates (perceptual hash) are
found within and across artists; a painting filed under two artists is dropped from both and
reported, never silently kept in both. Splits come from content hashes (`splits`), so a rerun
on the same input gives identical arrays, serial or parallel; and a rerun whose inputs and
options did not change does nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import PIL
from tqdm import tqdm

from data_tools.decode import DEFAULT_MAX_PIXELS, ImageRejected, load_rgb
from data_tools.errors import UsageError
from data_tools.geometry import FITS, MAX_CROPS, fit_image
from data_tools.manifest import MANIFEST_FILE, read_manifest
from data_tools.near_duplicates import DEFAULT_MAX_DISTANCE, group_near_duplicates, perceptual_hash
from data_tools.painting_checks import CHECK_REASONS, check_painting, first_refusal
from data_tools.processed import INDEX_FILE, SPLITS, write_processed
from data_tools.splits import assign_splits
from data_tools.square_spool import SquareSpool

PREPARE_VERSION = 2  # bump when what prepare keeps or the pixels it produces change (2: painting_checks)
SERIAL_BELOW = 200  # files; see _decode_all
PREPARE_REASONS = {
    "duplicate": "the same file is already kept",
    "near-duplicate": "a near copy of a kept painting (perceptual hash)",
    "conflicting-artists": "the same painting is filed under another artist too",
    "artist-too-few": "its artist has too few images left and was dropped",
    **CHECK_REASONS,  # blank, extreme-aspect: the checks attribute applies too
}
_YEAR = re.compile(r"(?:^|[-_ ])(1[2-9]\d\d|20[0-2]\d)(?:\(\d+\))?$")
_IGNORED_SUFFIXES = (".tmp", ".part", ".partial")


@dataclass(frozen=True)
class PrepareOptions:
    """How paintings become training images; stored in index.json and reused by `attribute`."""

    size: int = 256
    fit: str = "crop"
    crops: int = MAX_CROPS
    min_size: int = 64  # shorter side of the original, in pixels
    max_pixels: int = DEFAULT_MAX_PIXELS
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    min_images: int = 10  # per artist, after cleaning
    near_duplicate_distance: int = DEFAULT_MAX_DISTANCE
    keep_near_duplicates: bool = False
    workers: int = 0  # 0 = one per CPU core (in-process for fewer than SERIAL_BELOW files)

    def validate(self) -> None:
        if self.size < 8:
            raise UsageError(f"--size {self.size} is too small (at least 8)")
        if self.fit not in FITS:
            raise UsageError(f"--fit must be one of {', '.join(FITS)}, got '{self.fit}'")
        if not 1 <= self.crops <= MAX_CROPS:
            raise UsageError(f"--crops must be between 1 and {MAX_CROPS}")
        if len(self.fractions) != 3 or any(f < 0 for f in self.fractions) or abs(sum(self.fractions) - 1) > 1e-6:
            raise UsageError(f"--split fractions must be three non-negative numbers summing to 1, got {self.fractions}")
        if self.min_size < 1 or self.min_images < 1 or self.workers < 0 or self.near_duplicate_distance < 0:
            raise UsageError("--min-size, --min-images must be positive; --workers, --near-duplicate-bits not negative")

    def recorded(self) -> dict[str, Any]:
        """What index.json keeps (workers do not change the result, so they are left out)."""
        values = dataclasses.asdict(self)
        values.pop("workers")
        values["fractions"] = list(self.fractions)
        return values

    @classmethod
    def from_recorded(cls, recorded: dict[str, Any], **changes: Any) -> "PrepareOptions":
        """The options an index.json (or a checkpoint) recorded, so data can be prepared again the
        same way; keys this version does not know are ignored, `changes` override."""
        known = {f.name for f in dataclasses.fields(cls)} - {"workers"}
        values = {k: v for k, v in recorded.items() if k in known}
        if "fractions" in values:
            values["fractions"] = tuple(values["fractions"])
        return cls(**{**values, **changes})


@dataclass
class ArtistSummary:
    found: int = 0
    kept_paintings: int = 0
    rejected: Counter = field(default_factory=Counter)
    per_split: dict[str, int] = field(default_factory=lambda: {s: 0 for s in SPLITS})
    dropped: bool = False


@dataclass
class PrepareSummary:
    raw: Path
    out: Path
    artists: dict[str, ArtistSummary]
    conflicts: list[dict[str, str]]
    seconds: float
    up_to_date: bool = False

    @property
    def files(self) -> int:
        return sum(a.found for a in self.artists.values())

    @property
    def images_per_second(self) -> float:
        return self.files / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Decoded:
    """What a worker returns for one file."""

    index: int
    sha256: str = ""
    reason: str | None = None
    detail: str = ""
    width: int = 0
    height: int = 0
    phash: int = 0
    squares: list[np.ndarray] = field(default_factory=list)  # from the worker; emptied into the spool
    slots: list[int] = field(default_factory=list)  # where the squares went in the spool


def prepare(raw: str | Path, out: str | Path, options: PrepareOptions = PrepareOptions(), progress: bool = True,
            overwrite: bool = False) -> PrepareSummary:
    """Prepare `raw` into `out`; returns the per-artist summary (also when nothing changed).

    A folder already prepared at another size is refused unless `overwrite`: replacing it is
    how a run's data silently goes stale."""
    options.validate()
    raw, out = Path(raw), Path(out)
    _refuse_other_size(out, options.size, overwrite)
    started = time.perf_counter()
    files = discover(raw)
    fingerprint = _fingerprint(raw, files, options)
    previous = _previous_summary(out, fingerprint)
    if previous is not None:
        return PrepareSummary(raw, out, previous[0], previous[1], time.perf_counter() - started, up_to_date=True)

    manifest = {e["sha256"]: e for e in read_manifest(raw / MANIFEST_FILE) if isinstance(e.get("sha256"), str)}
    created = not out.exists()
    try:
        summaries, conflicts = _prepare_into(raw, out, files, manifest, fingerprint, options, progress)
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a failed first prepare leaves no empty folder behind
        raise
    return PrepareSummary(raw, out, summaries, conflicts, time.perf_counter() - started)


def _prepare_into(raw: Path, out: Path, files: list[tuple[str, Path]], manifest: dict[str, dict[str, Any]],
                  fingerprint: str, options: PrepareOptions,
                  progress: bool) -> tuple[dict[str, ArtistSummary], list[dict[str, str]]]:
    """Decode into a spool in `out`, select, write the arrays and the index."""
    with SquareSpool(out, options.size) as spool:
        decoded = _decode_all(files, options, spool, progress)
        summaries, conflicts, arrays, rows = _select(raw, files, decoded, manifest, options)
        recorded = {
            "tool": "painterly-vae prepare",
            "prepare_version": PREPARE_VERSION,
            "pillow": PIL.__version__,
            "raw": str(raw),
            "options": options.recorded(),
            "fingerprint": fingerprint,
            "summary": {a: _summary_record(s) for a, s in summaries.items()},
            "conflicts": conflicts,
        }
        sources = {artist: {split: spool.images(slots) for split, slots in splits.items()} for artist, splits in arrays.items()}
        write_processed(out, sources, rows, recorded)
    return summaries, conflicts


def _select(
    raw: Path,
    files: list[tuple[str, Path]],
    decoded: list[_Decoded],
    manifest: dict[str, dict[str, Any]],
    options: PrepareOptions,
) -> tuple[dict[str, ArtistSummary], list[dict[str, str]], dict[str, dict[str, list[int]]], dict[str, dict[str, list[dict[str, Any]]]]]:
    """Which decoded squares go into which artist's split (as spool slots), with their index
    rows, the per-artist summaries and the cross-artist conflicts."""
    summaries = {artist: ArtistSummary() for artist in sorted({artist for artist, _ in files})}
    for artist, _ in files:
        summaries[artist].found += 1

    keep = [d.reason is None for d in decoded]
    _reject_exact_duplicates(files, decoded, keep)
    conflicts, group_keys = _resolve_near_duplicates(files, decoded, keep, options)

    splits: dict[str, dict[str, str]] = {}
    for artist in summaries:
        keys = [group_keys[i] for i, (a, _) in enumerate(files) if keep[i] and a == artist]
        splits[artist] = assign_splits(keys, options.fractions)
    arrays: dict[str, dict[str, list[int]]] = {}
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for i, (artist, path) in enumerate(files):
        if not keep[i]:
            continue
        split = splits[artist][group_keys[i]]
        arrays.setdefault(artist, {s: [] for s in SPLITS})
        rows.setdefault(artist, {s: [] for s in SPLITS})
        entry = _row(raw, artist, path, decoded[i], manifest)
        for crop, slot in enumerate(decoded[i].slots):
            arrays[artist][split].append(slot)
            rows[artist][split].append({**entry, "crop": crop} if options.fit == "crops" else entry)
        summaries[artist].kept_paintings += 1
        summaries[artist].per_split[split] += len(decoded[i].slots)
    for i, d in enumerate(decoded):
        if d.reason is not None:
            summaries[files[i][0]].rejected[d.reason] += 1

    for artist, summary in summaries.items():
        if summary.kept_paintings < options.min_images:
            summary.dropped = True
            if summary.kept_paintings:
                summary.rejected["artist-too-few"] += summary.kept_paintings
            arrays.pop(artist, None)
            rows.pop(artist, None)
    if not arrays:
        raise UsageError(
            f"no artist in {raw} has {options.min_images} usable images (see the rejections above); "
            f"lower --min-images or add paintings"
        )
    return summaries, conflicts, arrays, rows


def _refuse_other_size(out: Path, size: int, overwrite: bool) -> None:
    try:
        previous = json.loads((out / INDEX_FILE).read_text(encoding="utf-8")).get("image_size")
    except (OSError, ValueError, AttributeError):
        return  # nothing prepared there (or nothing readable): nothing to lose
    if previous != size and not overwrite:
        raise UsageError(
            f"{out} holds paintings prepared at {previous} px; preparing at {size} px would replace them, and runs "
            f"trained on them would no longer match their data: choose another --out (e.g. {out}-{size}) or add --overwrite"
        )


def discover(raw: Path) -> list[tuple[str, Path]]:
    """(artist, file) pairs in a stable order: artist folders sorted, files sorted within."""
    if not raw.is_dir():
        raise UsageError(f"{raw} is not a folder; give a folder of artist sub-folders (what `painterly-vae fetch` writes)")
    artists = sorted(p for p in raw.iterdir() if p.is_dir() and not p.name.startswith("."))
    files = [
        (artist.name, path)
        for artist in artists
        for path in sorted(artist.rglob("*"))
        if path.is_file() and not path.name.startswith(".") and not path.name.endswith(_IGNORED_SUFFIXES)
    ]
    if not files:
        raise UsageError(f"{raw} has no artist sub-folders with files in them")
    return files


def title_and_year(path: Path) -> tuple[str, int | None]:
    """A readable title and a trailing year from a file name such as `the-bridge-1877.jpg`."""
    stem = path.stem
    match = _YEAR.search(stem)
    year = int(match.group(1)) if match else None
    if match:
        stem = stem[: match.start()]
    title = re.sub(r"[-_]+", " ", re.sub(r"\(\d+\)$", "", stem)).strip()
    return title or path.stem, year


def _decode_all(files: list[tuple[str, Path]], options: PrepareOptions, spool: SquareSpool, progress: bool) -> list[_Decoded]:
    """Decode every file (in order); each result's squares go to `spool` as it arrives."""
    tasks = [(i, str(path), options) for i, (_, path) in enumerate(files)]
    # Starting a spawned worker costs about a second (it imports numpy, Pillow, scipy), as much
    # as decoding ~100 photographs: with workers=0 (auto) small jobs stay in this process.
    workers = options.workers or (1 if len(tasks) < SERIAL_BELOW else os.cpu_count() or 1)
    bar = tqdm(total=len(tasks), disable=not progress, unit="img", desc="prepare", dynamic_ncols=True)
    try:
        if workers == 1:
            return [_spooled(_decode_one(task), spool, bar) for task in tasks]
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            return [_spooled(result, spool, bar) for result in pool.imap(_decode_one, tasks, chunksize=4)]
    finally:
        bar.close()


def _spooled(result: _Decoded, spool: SquareSpool, bar: tqdm) -> _Decoded:
    result.slots = [spool.append(square) for square in result.squares]
    result.squares = []
    bar.update(1)
    return result


def _decode_one(task: tuple[int, str, PrepareOptions]) -> _Decoded:
    """Worker: hash the bytes, decode, square. Never raises for a bad file."""
    index, path, options = task
    result = _Decoded(index)
    try:
        result.sha256 = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        image, (result.width, result.height) = load_rgb(
            path, min_size=options.min_size, max_pixels=options.max_pixels, draft_size=options.size
        )
        refusal = first_refusal(check_painting(image, options.fit, (result.width, result.height)))
        if refusal is not None:
            result.reason, result.detail = refusal.reason, refusal.detail
            return result
        result.phash = perceptual_hash(image)
        result.squares = fit_image(image, options.size, options.fit, options.crops)
    except ImageRejected as rejected:
        result.reason, result.detail = rejected.reason, rejected.detail
    except OSError as error:
        result.reason, result.detail = "unreadable", str(error)
    return result


def _reject_exact_duplicates(files: list[tuple[str, Path]], decoded: list[_Decoded], keep: list[bool]) -> None:
    """Keep the first copy of identical bytes; a copy under another artist is left to the
    near-duplicate pass, which reports it as a conflict."""
    first_by_hash: dict[tuple[str, str], int] = {}
    for i, d in enumerate(decoded):
        if not keep[i]:
            continue
        key = (files[i][0], d.sha256)
        if key in first_by_hash:
            keep[i] = False
            d.reason, d.detail = "duplicate", f"same bytes as {files[first_by_hash[key]][1].name}"
        else:
            first_by_hash[key] = i


def _resolve_near_duplicates(
    files: list[tuple[str, Path]], decoded: list[_Decoded], keep: list[bool], options: PrepareOptions
) -> tuple[list[dict[str, str]], dict[int, str]]:
    """Group kept images by perceptual hash; drop cross-artist groups (reported), and keep the
    largest member of each same-artist group unless near duplicates are to be kept.

    Returns the conflicts and, per kept image, the key that decides its split (the smallest
    content hash of its group, so a whole group lands in one split)."""
    kept = [i for i, k in enumerate(keep) if k]
    groups = group_near_duplicates([decoded[i].phash for i in kept], options.near_duplicate_distance)
    members: dict[int, list[int]] = {}
    for position, group in enumerate(groups):
        members.setdefault(group, []).append(kept[position])
    conflicts: list[dict[str, str]] = []
    group_keys: dict[int, str] = {}
    for indices in members.values():
        artists = sorted({files[i][0] for i in indices})
        if len(artists) > 1:
            names = [f"{files[i][0]}/{files[i][1].name}" for i in indices]
            conflicts.append({"artists": ", ".join(artists), "files": " ~ ".join(names)})
            for i in indices:
                keep[i] = False
                decoded[i].reason = "conflicting-artists"
                decoded[i].detail = "also filed under " + ", ".join(a for a in artists if a != files[i][0])
            continue
        key = min(decoded[i].sha256 for i in indices)
        if not options.keep_near_duplicates and len(indices) > 1:
            best = max(indices, key=lambda i: (decoded[i].width * decoded[i].height, -i))
            for i in indices:
                if i != best:
                    keep[i] = False
                    decoded[i].reason, decoded[i].detail = "near-duplicate", f"near copy of {files[best][1].name}"
        for i in indices:
            group_keys[i] = key
    return conflicts, group_keys


def _row(raw: Path, artist: str, path: Path, decoded: _Decoded, manifest: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The index.json row of a kept painting: its manifest entry when fetch wrote one."""
    title, year = title_and_year(path)
    row: dict[str, Any] = {"title": title, "year": year}
    row.update(manifest.get(decoded.sha256, {}))
    row.update({
        "artist": artist,
        "file": path.relative_to(raw).as_posix(),
        "sha256": decoded.sha256,
        "phash": f"{decoded.phash:016x}",
        "width": decoded.width,
        "height": decoded.height,
    })
    return row


def _fingerprint(raw: Path, files: list[tuple[str, Path]], options: PrepareOptions) -> str:
    """Changes when any input file (name, size, mtime), the manifest, or an option changes."""
    digest = hashlib.sha256()
    digest.update(json.dumps([PREPARE_VERSION, PIL.__version__, options.recorded()]).encode())
    inputs = [p for _, p in files] + [raw / MANIFEST_FILE]
    for path in inputs:
        if path.exists():
            stat = path.stat()
            digest.update(f"{path.relative_to(raw).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _previous_summary(out: Path, fingerprint: str) -> tuple[dict[str, ArtistSummary], list[dict[str, str]]] | None:
    """The stored summary if `out` was prepared from exactly these inputs and options."""
    index_path = out / INDEX_FILE
    if not index_path.is_file():
        return None
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        prepared = index["prepared_with"]
        if prepared.get("fingerprint") != fingerprint:
            return None
        if not all((out / f).is_file() for splits in index["files"].values() for f in splits.values()):
            return None
        summaries = {a: _summary_from_record(r) for a, r in prepared["summary"].items()}
        return summaries, list(prepared.get("conflicts", []))
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        return None


def _summary_record(summary: ArtistSummary) -> dict[str, Any]:
    return {
        "found": summary.found,
        "kept_paintings": summary.kept_paintings,
        "rejected": dict(sorted(summary.rejected.items())),
        "per_split": summary.per_split,
        "dropped": summary.dropped,
    }


def _summary_from_record(record: dict[str, Any]) -> ArtistSummary:
    return ArtistSummary(
        found=record["found"],
        kept_paintings=record["kept_paintings"],
        rejected=Counter(record["rejected"]),
        per_split=dict(record["per_split"]),
        dropped=record["dropped"],
    )
