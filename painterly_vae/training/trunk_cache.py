"""Trunk feature maps computed once per training painting (and its mirror image), then reused.

A frozen trunk's output depends only on the painting, yet training would run it on every
batch, epoch after epoch. The cache runs it once over each artist's training split, in both
orientations (a mirrored painting's maps are not the mirrored maps: "SAME" padding is
asymmetric, so flips are cached, not derived), and the trainer reads batches from it.

Stored beside the prepared data, in `<data>/trunk-cache/<key>/<artist>/train.npy` and
`train-mirrored.npy` (float16, (N, C, S, S)), with `cache.json` recording what the maps are
of: network, layer, weights SHA-256, input convention, trunk size, dtype, and the prepared
data's fingerprint. The key is a hash of that record, so another network, other weights or
re-prepared data get a cache of their own. Files are written atomically; a killed run leaves
none half-written, and an unwritable data folder keeps the maps in memory only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from data_tools.atomic import atomic_output, atomic_write_bytes
from data_tools.processed import ProcessedData
from painterly_vae.model.model import PainterlyVAE
from painterly_vae.runtime.batched import InferenceSettings, run_batched

CACHE_DIR = "trunk-cache"
RECORD_FILE = "cache.json"


def cache_record(model: PainterlyVAE, data: ProcessedData) -> dict[str, Any]:
    """What the cached maps are a function of."""
    trunk = model.trunk
    if trunk is None or trunk.record is None:
        raise ValueError("only a model with a pretrained trunk has maps to cache")
    return {
        "network": trunk.record.network,
        "layer": model.config.resolved_trunk_layer(),
        "weights_sha256": trunk.record.sha256,
        "input_scaling": trunk.record.input_scaling,
        "padding": trunk.record.padding,
        "trunk_image_size": model.config.trunk_size,
        "dtype": "float16",
        "data_fingerprint": data.index.get("prepared_with", {}).get("fingerprint"),
        "artists": data.artists,
    }


class TrunkCache:
    """The trunk's maps of every training painting of every artist, plain and mirrored."""

    def __init__(self, plain: list[np.ndarray], mirrored: list[np.ndarray], folder: Path | None) -> None:
        self.plain = plain  # per artist (N, C, S, S) float16
        self.mirrored = mirrored
        self.folder = folder  # where they are stored; None = memory only

    @classmethod
    def build(cls, model: PainterlyVAE, data: ProcessedData, settings: InferenceSettings,
              progress: bool = True) -> "TrunkCache":
        """Open the stored maps for this model and data, computing (and storing) what is missing."""
        record = cache_record(model, data)
        key = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]
        folder = data.root / CACHE_DIR / key
        plain, mirrored = [], []
        writable = True
        total = sum(data.count(a, "train") for a in data.artists)
        with tqdm(total=2 * total, desc="trunk cache", unit="map", disable=not progress, leave=False) as bar:
            for artist in data.artists:
                maps = []
                for orientation in ("train", "train-mirrored"):
                    path = folder / artist / f"{orientation}.npy"
                    stored = _load(path, data.count(artist, "train"))
                    if stored is None:
                        stored = _compute(model, data.array(artist, "train"), orientation.endswith("mirrored"), settings)
                        writable = writable and _store(path, stored)
                    bar.update(len(stored))
                    maps.append(stored)
                plain.append(maps[0])
                mirrored.append(maps[1])
        if writable:
            atomic_write_bytes(folder / RECORD_FILE, json.dumps(record, indent=1).encode("utf-8"))
        return cls(plain, mirrored, folder if writable else None)

    def maps(self, artist: int, rows: np.ndarray, mirrored: np.ndarray, device: torch.device) -> torch.Tensor:
        """(B, C, S, S) float maps of training rows `rows` of `artist`, mirrored where asked."""
        batch = np.where(mirrored[:, None, None, None], self.mirrored[artist][rows], self.plain[artist][rows])
        return torch.from_numpy(batch).to(device).float()

    @property
    def bytes(self) -> int:
        return sum(a.nbytes for a in self.plain + self.mirrored)


def _compute(model: PainterlyVAE, images: np.ndarray, mirrored: bool, settings: InferenceSettings) -> np.ndarray:
    source = images[..., ::-1] if mirrored else images  # a view: each batch is read (and flipped) when it is run
    parts = run_batched(source, lambda batch: model.trunk_features(batch).float().cpu().numpy().astype(np.float16),
                        settings)
    if not parts:
        channels, size = model.trunk_maps_shape()  # the cache holds the maps only; the pixels join them per batch
        return np.zeros((0, channels, size, size), np.float16)
    return np.concatenate(parts)


def _load(path: Path, count: int) -> np.ndarray | None:
    """Stored maps, if they exist and have the expected number of rows (else recompute)."""
    if not path.is_file():
        return None
    try:
        array = np.load(path)
    except (OSError, ValueError):
        return None
    return array if array.dtype == np.float16 and array.ndim == 4 and len(array) == count else None


def _store(path: Path, maps: np.ndarray) -> bool:
    """Write atomically; False when the folder cannot be written (the maps stay in memory)."""
    try:
        with atomic_output(path) as stream:
            np.save(stream, maps)
    except OSError:
        return False
    return True
