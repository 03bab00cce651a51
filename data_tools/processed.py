"""The processed-data format: the contract between `prepare` (writer) and training (reader).

Layout of a processed directory:
    index.json                 artists in a fixed order, counts, image size, how it was
                               prepared, and for every row the manifest entry it came from
    <artist>/<split>.<generation>.npy
                               uint8 array (N, 3, H, W), memory-mappable with numpy

Arrays are written first and `index.json` last, each atomically, so a directory with an
index is always complete. Each preparation writes its arrays under new names (the
generation: its inputs' fingerprint) and the index names them; the previous generation's
files are deleted only once the new index is in place. A `prepare` killed midway therefore
leaves the old index pointing at the old, intact arrays, never at a mix of old and new.
Each array is written WRITE_CHUNK images at a time from its source (an in-memory array or
`prepare`'s on-disk spool), so writing costs no more memory than a chunk. Training never
decodes JPEGs: it memory-maps these arrays.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Protocol, Union

import numpy as np

from data_tools.atomic import atomic_output, atomic_write_bytes
from data_tools.errors import DataError

FORMAT_NAME = "painterly-vae-processed"
FORMAT_VERSION = 1
SPLITS = ("train", "val", "test")
INDEX_FILE = "index.json"
WRITE_CHUNK = 64  # images per write: 12 MB at 256 px


class ImageChunks(Protocol):
    """A uint8 (N, 3, H, W) source too big to hold at once: its shape, and its rows in order."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> np.dtype: ...

    def chunks(self) -> Iterator[np.ndarray]: ...


ImageSource = Union[np.ndarray, ImageChunks]


def write_processed(
    out_dir: str | Path,
    arrays: dict[str, dict[str, ImageSource]],
    rows: dict[str, dict[str, list[dict[str, Any]]]],
    prepared_with: dict[str, Any],
) -> Path:
    """Write per-artist, per-split uint8 arrays and the index; artists keep the dict's order.
    A source is an array or anything with `shape`, `dtype` and `chunks()` (see `ImageChunks`)."""
    out_dir = Path(out_dir)
    artists = list(arrays)
    if not artists:
        raise ValueError("nothing to write: no artists")
    sizes = {array.shape[-1] for splits in arrays.values() for array in splits.values()}
    if len(sizes) != 1:
        raise ValueError(f"all arrays must share one image size, got {sorted(sizes)}")
    image_size = sizes.pop()
    generation = str(prepared_with.get("fingerprint") or uuid.uuid4().hex)[:12]
    previous = _listed_files(out_dir)
    files: dict[str, dict[str, str]] = {}
    counts: dict[str, dict[str, int]] = {}
    for artist in artists:
        files[artist], counts[artist] = {}, {}
        for split in SPLITS:
            array = arrays[artist].get(split, np.zeros((0, 3, image_size, image_size), np.uint8))
            if array.dtype != np.uint8 or len(array.shape) != 4 or tuple(array.shape[1:]) != (3, image_size, image_size):
                raise ValueError(f"{artist}/{split}: expected uint8 (N, 3, {image_size}, {image_size}), got {array.dtype} {array.shape}")
            if len(rows[artist].get(split, [])) != array.shape[0]:
                raise ValueError(f"{artist}/{split}: {array.shape[0]} images but {len(rows[artist].get(split, []))} rows")
            relative = f"{artist}/{split}.{generation}.npy"
            with atomic_output(out_dir / relative) as stream:
                _write_npy(stream, array)
            files[artist][split] = relative
            counts[artist][split] = int(array.shape[0])
    index = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "image_size": int(image_size),
        "artists": artists,
        "splits": list(SPLITS),
        "counts": counts,
        "files": files,
        "prepared_with": prepared_with,
        "rows": {artist: {split: rows[artist].get(split, []) for split in SPLITS} for artist in artists},
    }
    atomic_write_bytes(out_dir / INDEX_FILE, json.dumps(index, indent=1, ensure_ascii=False).encode("utf-8"))
    current = {relative for splits in files.values() for relative in splits.values()}
    for relative in previous - current:
        with contextlib.suppress(FileNotFoundError):
            (out_dir / relative).unlink()
    return out_dir


def _listed_files(out_dir: Path) -> set[str]:
    """The array files the index in `out_dir` names now (none if there is no readable index)."""
    try:
        index = json.loads((out_dir / INDEX_FILE).read_text(encoding="utf-8"))
        listed = {str(relative) for splits in index["files"].values() for relative in splits.values()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return set()
    # only arrays inside the folder: an edited index must not make a rerun delete anything else
    return {r for r in listed if r.endswith(".npy") and not Path(r).is_absolute() and ".." not in Path(r).parts}


def _write_npy(stream: BinaryIO, source: ImageSource) -> None:
    """The .npy format (what `np.save` writes), filled chunk by chunk."""
    shape = tuple(int(n) for n in source.shape)
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(stream, header)
    if isinstance(source, np.ndarray):
        chunks: Iterator[np.ndarray] = (source[i : i + WRITE_CHUNK] for i in range(0, len(source), WRITE_CHUNK))
    else:
        chunks = source.chunks()
    written = 0
    for chunk in chunks:
        if chunk.shape[1:] != shape[1:] or chunk.dtype != np.uint8:
            raise ValueError(f"a chunk of {chunk.dtype} {chunk.shape} in an array of uint8 {shape}")
        stream.write(np.ascontiguousarray(chunk).data)
        written += len(chunk)
    if written != shape[0]:
        raise ValueError(f"the source gave {written} images, its shape promised {shape[0]}")


@dataclass
class ProcessedData:
    """A processed directory opened for reading; arrays are memory-mapped on first use."""

    root: Path
    index: dict[str, Any]

    @classmethod
    def open(cls, root: str | Path) -> "ProcessedData":
        root = Path(root)
        index_path = root / INDEX_FILE
        if not index_path.is_file():
            raise DataError(
                f"no prepared data at {root} (missing {INDEX_FILE}): run `painterly-vae prepare` "
                f"first, or `painterly-vae demo` for generated paintings"
            )
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise DataError(f"{index_path} is not valid JSON ({error}): prepare the data again") from None
        if not isinstance(index, dict) or index.get("format") != FORMAT_NAME:
            raise DataError(f"{index_path} is not a painterly-vae processed index")
        if index.get("version") != FORMAT_VERSION:
            raise DataError(
                f"{index_path} has format version {index.get('version')}, this painterly-vae reads "
                f"version {FORMAT_VERSION}: prepare the data again"
            )
        if not index.get("artists"):
            raise DataError(f"{index_path} lists no artists")
        return cls(root, index)

    @property
    def artists(self) -> list[str]:
        return list(self.index["artists"])

    @property
    def image_size(self) -> int:
        return int(self.index["image_size"])

    def count(self, artist: str, split: str) -> int:
        return int(self.index["counts"][artist][split])

    def rows(self, artist: str, split: str) -> list[dict[str, Any]]:
        return list(self.index["rows"][artist][split])

    def array(self, artist: str, split: str) -> np.ndarray:
        """The (N, 3, H, W) uint8 array of one artist and split, memory-mapped read-only."""
        if artist not in self.index["files"] or split not in self.index["files"][artist]:
            raise DataError(f"{self.root} has no {split} split for artist '{artist}'")
        path = self.root / self.index["files"][artist][split]
        try:
            array = np.load(path, mmap_mode="r")
        except (OSError, ValueError) as error:
            raise DataError(f"cannot read {path} ({error}): prepare the data again") from None
        expected = (self.count(artist, split), 3, self.image_size, self.image_size)
        if array.dtype != np.uint8 or array.shape != expected:
            raise DataError(
                f"{path} holds {array.dtype} {array.shape}, index.json promises uint8 {expected}: "
                f"prepare the data again"
            )
        return array
