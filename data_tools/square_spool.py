"""Decoded squares parked on disk between decoding and writing, so `prepare` stays flat in memory.

`prepare` can only decide which paintings to keep, and in which split, once every file is
decoded (near duplicates are found across the whole collection). Holding the squares until
then costs 196 KB per painting at 256 px: 3.5 GB for 18,000 paintings. Instead each square is
appended to one temporary file in the output folder as it arrives, and only its slot number
is kept; the per-artist arrays are then written from the spool a few squares at a time. The
spool costs disk (one copy of the output, removed at the end), not memory: its pages go
through the page cache, which the kernel reclaims, not into the process's resident set.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from data_tools.processed import WRITE_CHUNK


class SquareSpool:
    """An append-only temporary file of uint8 (3, size, size) squares, read back by slot."""

    PREFIX = ".prepare-spool."

    def __init__(self, folder: str | Path, size: int):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for leftover in folder.glob(f"{self.PREFIX}*.tmp"):  # from a run killed before it could clean up
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        handle, name = tempfile.mkstemp(prefix=self.PREFIX, suffix=".tmp", dir=folder)
        self.path = Path(name)
        self.shape = (3, size, size)
        self.square_bytes = 3 * size * size
        self.count = 0
        self._file = os.fdopen(handle, "w+b")

    def append(self, square: np.ndarray) -> int:
        """Store one square; returns its slot."""
        if square.dtype != np.uint8 or square.shape != self.shape:
            raise ValueError(f"expected uint8 {self.shape}, got {square.dtype} {square.shape}")
        self._file.seek(0, os.SEEK_END)
        self._file.write(np.ascontiguousarray(square).tobytes())
        self.count += 1
        return self.count - 1

    def read(self, slots: list[int]) -> np.ndarray:
        """The squares at `slots`, in that order, as one (N, 3, size, size) array."""
        out = np.empty((len(slots), *self.shape), np.uint8)
        for row, slot in enumerate(slots):
            if not 0 <= slot < self.count:
                raise IndexError(f"slot {slot} not in a spool of {self.count}")
            self._file.seek(slot * self.square_bytes)
            if self._file.readinto(memoryview(out[row]).cast("B")) != self.square_bytes:
                raise OSError(f"{self.path} ended early at slot {slot}")
        return out

    def images(self, slots: list[int]) -> "SpooledImages":
        return SpooledImages(self, list(slots))

    def close(self) -> None:
        """Close and delete the file (also after an error, so no spool outlives its run)."""
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def __enter__(self) -> "SquareSpool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class SpooledImages:
    """Some squares of a spool as an (N, 3, H, W) uint8 source that `write_processed` streams."""

    spool: SquareSpool
    slots: list[int]

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.slots), *self.spool.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8)

    def chunks(self) -> Iterator[np.ndarray]:
        for start in range(0, len(self.slots), WRITE_CHUNK):
            yield self.spool.read(self.slots[start : start + WRITE_CHUNK])
