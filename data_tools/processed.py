"""The processed-data format: the contract between `prepare` (writer) and training (reader).

Layout of a processed directory:
    index.json                 artists in a fixed order, counts, image size, how it was
                               prepared, and for every row the manifest entry it came from
    <artist>/<split>.npy       uint8 array (N, 3, H, W), memory-mappable with numpy

Arrays are written first and `index.json` last, each atomically, so a directory with an
index is always complete. Training never decodes JPEGs: it memory-maps these arrays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from painterly_vae.atomic import atomic_output, atomic_write_bytes
from painterly_vae.errors import DataError

FORMAT_NAME = "painterly-vae-processed"
FORMAT_VERSION = 1
SPLITS = ("train", "val", "test")
INDEX_FILE = "index.json"


def write_processed(
    out_dir: str | Path,
    arrays: dict[str, dict[str, np.ndarray]],
    rows: dict[str, dict[str, list[dict[str, Any]]]],
    prepared_with: dict[str, Any],
) -> Path:
    """Write per-artist, per-split uint8 arrays and the index; artists keep the dict's order."""
    out_dir = Path(out_dir)
    artists = list(arrays)
    if not artists:
        raise ValueError("nothing to write: no artists")
    sizes = {array.shape[-1] for splits in arrays.values() for array in splits.values()}
    if len(sizes) != 1:
        raise ValueError(f"all arrays must share one image size, got {sorted(sizes)}")
    image_size = sizes.pop()
    files: dict[str, dict[str, str]] = {}
    counts: dict[str, dict[str, int]] = {}
    for artist in artists:
        files[artist], counts[artist] = {}, {}
        for split in SPLITS:
            array = arrays[artist].get(split, np.zeros((0, 3, image_size, image_size), np.uint8))
            if array.dtype != np.uint8 or array.ndim != 4 or array.shape[1:] != (3, image_size, image_size):
                raise ValueError(f"{artist}/{split}: expected uint8 (N, 3, {image_size}, {image_size}), got {array.dtype} {array.shape}")
            if len(rows[artist].get(split, [])) != len(array):
                raise ValueError(f"{artist}/{split}: {len(array)} images but {len(rows[artist].get(split, []))} rows")
            relative = f"{artist}/{split}.npy"
            with atomic_output(out_dir / relative) as stream:
                np.save(stream, np.ascontiguousarray(array))
            files[artist][split] = relative
            counts[artist][split] = int(len(array))
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
    return out_dir


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
