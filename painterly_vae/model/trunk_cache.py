"""Trunk feature maps computed once per training painting (and its mirror image), then reused.

A frozen trunk's output depends only on the painting, yet training would run it on every
batch, epoch after epoch. The cache runs it once over each artist's training split, in both
orientations (a mirrored painting's maps are not the mirrored maps: "SAME" padding is
asymmetric, so flips are cached, not derived), and the trainer reads batches from it.

The pass over the plain paintings also keeps their style and Gram statistics at the trunk's
style layers (`PainterlyVAE.trunk_statistics`): what the attribution reads of every training
painting once training ends, so that its fit (`inference.trained_run.split_views`) and the
decoder's statistics run only the encoders on the cached maps instead of the trunk once more
(the trunk was 90% of encoding the training paintings at 20 painters).

Stored beside the prepared data, in `<data>/trunk-cache/<key>/<artist>/train.npy` and
`train-mirrored.npy` (float16, (N, C, S, S)), `train-style.npy` and `train-gram.npy` (float32,
(N, S) and (N, G)), with `cache.json` recording what the maps are
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
from painterly_vae.model.model import ModelInputs, PainterlyVAE, resize
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


def cache_folder(data: ProcessedData, record: dict[str, Any]) -> Path:
    """Where the maps of `record` are kept: a folder named by its hash, beside the prepared data."""
    return data.root / CACHE_DIR / hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]


class TrunkCache:
    """The trunk's maps of every training painting of every artist, plain and mirrored."""

    def __init__(self, plain: list[np.ndarray], mirrored: list[np.ndarray], folder: Path | None,
                 statistics: list[tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        self.plain = plain  # per artist (N, C, S, S) float16
        self.mirrored = mirrored
        self.folder = folder  # where they are stored; None = memory only
        self.statistics = statistics  # per artist (style (N, S), Gram (N, G)) float32 of the plain paintings

    @classmethod
    def build(cls, model: PainterlyVAE, data: ProcessedData, settings: InferenceSettings,
              progress: bool = True) -> "TrunkCache":
        """Open the stored maps for this model and data, computing (and storing) what is missing."""
        record = cache_record(model, data)
        folder = cache_folder(data, record)
        plain, mirrored, statistics = [], [], []
        writable = True
        total = sum(data.count(a, "train") for a in data.artists)
        with tqdm(total=2 * total, desc="trunk cache", unit="map", disable=not progress, leave=False) as bar:
            for artist in data.artists:
                count, images, where = data.count(artist, "train"), data.array(artist, "train"), folder / artist
                stored = _load_plain(where, count)
                if stored is None:  # caches written before the statistics: their maps again
                    stored = _compute_plain(model, images, settings)
                    for part, array in zip(PLAIN_PARTS, stored):
                        writable = _store(where / f"train{part}.npy", array) and writable
                bar.update(count)
                flipped = _load(where / "train-mirrored.npy", count, 4)
                if flipped is None:
                    flipped = _compute_mirrored(model, images, settings)
                    writable = _store(where / "train-mirrored.npy", flipped) and writable
                bar.update(count)
                plain.append(stored[0])
                statistics.append((stored[1], stored[2]))
                mirrored.append(flipped)
        if writable:
            atomic_write_bytes(folder / RECORD_FILE, json.dumps(record, indent=1).encode("utf-8"))
        return cls(plain, mirrored, folder if writable else None, statistics)

    @classmethod
    def stored(cls, model: PainterlyVAE, data: ProcessedData) -> "TrunkCache | None":
        """The maps and statistics already stored for this model and data, or None if any is missing
        (`cluster` reads them when training left them; it computes nothing it would not otherwise)."""
        folder = cache_folder(data, cache_record(model, data))
        plain, statistics = [], []
        for artist in data.artists:
            stored = _load_plain(folder / artist, data.count(artist, "train"))
            if stored is None:
                return None
            plain.append(stored[0])
            statistics.append((stored[1], stored[2]))
        return cls(plain, [], folder, statistics)

    def maps(self, artist: int, rows: np.ndarray, mirrored: np.ndarray, device: torch.device) -> torch.Tensor:
        """(B, C, S, S) float maps of training rows `rows` of `artist`, mirrored where asked."""
        batch = np.where(mirrored[:, None, None, None], self.mirrored[artist][rows], self.plain[artist][rows])
        return torch.from_numpy(batch).to(device).float()

    def inputs(self, model: PainterlyVAE, artist: int, rows: np.ndarray, images: torch.Tensor) -> ModelInputs:
        """What `model.inputs(images, style=True)` computes of training rows `rows` of `artist`
        (`images`: those paintings, plain, on the device), from the cache: the maps (float16,
        as the steps read them) and the statistics stored with them."""
        maps = model.laid_out(torch.from_numpy(self.plain[artist][rows]).to(images.device).float())
        style, gram = (torch.from_numpy(part[rows]).to(images.device) for part in self.statistics[artist])
        return ModelInputs(model.encoder_input(maps, images), resize(images, model.config.image_size), style, gram)

    @property
    def bytes(self) -> int:
        return sum(a.nbytes for a in self.plain + self.mirrored)


# what is stored of the plain paintings, by file suffix -> dimensions: maps, style and Gram statistics
PLAIN_PARTS = {"": 4, "-style": 2, "-gram": 2}
PART_DTYPES = {4: np.float16, 2: np.float32}


def _compute_plain(model: PainterlyVAE, images: np.ndarray, settings: InferenceSettings) -> list[np.ndarray]:
    """The maps (float16) and the style and Gram statistics (float32) of every painting, one pass each."""
    def statistics(batch: torch.Tensor) -> tuple[np.ndarray, ...]:
        maps, style, gram = model.trunk_statistics(batch)
        return (maps.float().cpu().numpy().astype(np.float16), style.float().cpu().numpy(), gram.float().cpu().numpy())

    parts = run_batched(images, statistics, settings)
    if not parts:
        maps, style, gram = model.trunk_statistics(model.trunk.mean.new_zeros(1, 3, model.config.input_size,
                                                                               model.config.input_size))
        return [np.zeros((0, *maps.shape[1:]), np.float16), np.zeros((0, style.shape[1]), np.float32),
                np.zeros((0, gram.shape[1]), np.float32)]
    return [np.concatenate([part[index] for part in parts]) for index in range(3)]


def _compute_mirrored(model: PainterlyVAE, images: np.ndarray, settings: InferenceSettings) -> np.ndarray:
    """The maps of every painting mirrored (float16)."""
    source = images[..., ::-1]  # a view: each batch is read (and flipped) when it is run
    parts = run_batched(source, lambda batch: model.trunk_features(batch).float().cpu().numpy().astype(np.float16),
                        settings)
    if not parts:
        channels, size = model.trunk_maps_shape()  # the cache holds the maps only; the pixels join them per batch
        return np.zeros((0, channels, size, size), np.float16)
    return np.concatenate(parts)


def _load_plain(folder: Path, count: int) -> list[np.ndarray] | None:
    """The stored maps and statistics of an artist's plain paintings, or None if any is missing."""
    stored = [_load(folder / f"train{part}.npy", count, dims) for part, dims in PLAIN_PARTS.items()]
    return None if any(part is None for part in stored) else stored


def _load(path: Path, count: int, dims: int) -> np.ndarray | None:
    """A stored array, if it exists with the expected number of rows, dimensions and type (else recompute)."""
    if not path.is_file():
        return None
    try:
        array = np.load(path)
    except (OSError, ValueError):
        return None
    return array if array.dtype == PART_DTYPES[dims] and array.ndim == dims and len(array) == count else None


def _store(path: Path, maps: np.ndarray) -> bool:
    """Write atomically; False when the folder cannot be written (the maps stay in memory)."""
    try:
        with atomic_output(path) as stream:
            np.save(stream, maps)
    except OSError:
        return False
    return True
