"""The paintings a run was trained on, as the page shows them: evidence and the map.

An answer is only as useful as the evidence shown with it: the page puts beside each
candidate painter the training paintings of that painter nearest to the dropped one, in the
space the attribution reads (`ArtistClusters.embedding`: z of every encoder, and for a trunk
run the network's style statistics), each number standardised over the collection; and it
places every training painting on a map, the first two principal components of that same
space, where a new painting lands by the same projection.

Encoding a collection through a trunk takes minutes on a CPU, so the result is kept beside the
run (`<run>/serve/collection-<key>.npz`), keyed by the checkpoint (its size and time) and the
data's fingerprint: the page opens in seconds the second time, and never shows a stale map.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from data_tools.atomic import atomic_write_bytes
from data_tools.processed import ProcessedData
from painterly_vae.inference.latents import encode_views, encoding_bar
from painterly_vae.inference.trained_run import TrainedRun
from painterly_vae.runtime.runs import last_checkpoint

CACHE_VERSION = 1  # bump when what the cache holds changes
SPLIT = "train"  # the collection the run was trained on


@dataclass
class Collection:
    """Every training painting of the run: where it sits, and how to find its neighbours."""

    data: ProcessedData
    artists: list[str]
    labels: np.ndarray  # (N,) artist index
    rows: np.ndarray  # (N,) row in the artist's training split
    embedding: np.ndarray  # (N, D) standardised
    centre: np.ndarray  # (D,) what standardising subtracts ...
    scale: np.ndarray  # (D,) ... and divides by
    axes: np.ndarray  # (2, D) the map's principal axes
    points: np.ndarray  # (N, 2) the map

    def __len__(self) -> int:
        return len(self.labels)

    def standardise(self, embedding: np.ndarray) -> np.ndarray:
        return (np.asarray(embedding, dtype=np.float64) - self.centre) / self.scale

    def place(self, embedding: np.ndarray) -> np.ndarray:
        """(D,) an unscaled embedding -> (2,) its point on the map."""
        return self.standardise(embedding) @ self.axes.T

    def nearest(self, embedding: np.ndarray, artist: int, count: int) -> list[tuple[int, float]]:
        """(painting index, distance) of `artist`'s `count` training paintings nearest to `embedding`."""
        own = np.nonzero(self.labels == artist)[0]
        distances = np.linalg.norm(self.embedding[own] - self.standardise(embedding), axis=1)
        order = np.argsort(distances)[:count]
        return [(int(own[i]), float(distances[i])) for i in order]

    def row(self, index: int) -> dict[str, Any]:
        """The painting's index.json row (title, year, file, source and licence where fetch recorded them)."""
        return self.data.rows(self.artists[self.labels[index]], SPLIT)[int(self.rows[index])]

    def square(self, index: int) -> np.ndarray:
        """(3, S, S) uint8: the painting as the run read it."""
        return np.asarray(self.data.array(self.artists[self.labels[index]], SPLIT)[int(self.rows[index])])

    def describe(self, index: int) -> dict[str, Any]:
        row = self.row(index)
        return {"id": index, "artist": self.artists[int(self.labels[index])], "title": row.get("title"),
                "year": row.get("year"), "file": row.get("file"), "source": row.get("source"),
                "license": row.get("license"), "credit": row.get("credit"), "url": row.get("url") or row.get("page_url")}


def open_collection(run: TrainedRun, data: ProcessedData, progress: bool = False) -> Collection:
    """The run's training paintings, from the cache beside the run or encoded (and cached) now."""
    cache = run.run_dir / "serve" / f"collection-{_key(run, data)}.npz"
    if cache.is_file():
        with np.load(cache) as stored:
            arrays = {name: stored[name] for name in stored.files}
        return Collection(data, list(run.artists), **arrays)
    collection = _encode(run, data, progress)
    buffer = io.BytesIO()
    np.savez(buffer, labels=collection.labels, rows=collection.rows, embedding=collection.embedding,
             centre=collection.centre, scale=collection.scale, axes=collection.axes, points=collection.points)
    atomic_write_bytes(cache, buffer.getvalue())
    return collection


def _encode(run: TrainedRun, data: ProcessedData, progress: bool) -> Collection:
    clusters = run.require_clusters()
    parts, labels, rows = [], [], []
    total = sum(data.count(artist, SPLIT) for artist in run.artists)
    with encoding_bar(total, "the collection", progress) as bar:
        for index, artist in enumerate(run.artists):
            views = encode_views(run.model, data.array(artist, SPLIT), run.inference,
                                 reconstruct=clusters.needs_reconstructions, bar=bar)
            parts.append(clusters.embedding(views))
            labels.append(np.full(len(views.mu), index))
            rows.append(np.arange(len(views.mu)))
    embedding = np.concatenate(parts).astype(np.float64)
    centre, scale = embedding.mean(0), embedding.std(0) + 1e-8
    standardised = (embedding - centre) / scale
    # the map: the two directions along which the collection spreads most (PCA by SVD)
    _, _, directions = np.linalg.svd(standardised - standardised.mean(0), full_matrices=False)
    axes = directions[:2] if len(directions) >= 2 else np.eye(2, standardised.shape[1])
    return Collection(data, list(run.artists), np.concatenate(labels), np.concatenate(rows),
                      standardised.astype(np.float32), centre, scale, axes, (standardised @ axes.T).astype(np.float32))


def _key(run: TrainedRun, data: ProcessedData) -> str:
    """Changes when the checkpoint is rewritten (trained on, clusters refitted) or the data prepared again."""
    checkpoint = last_checkpoint(run.run_dir).stat()
    fingerprint = (data.index.get("prepared_with") or {}).get("fingerprint", "")
    digest = hashlib.sha256(f"{CACHE_VERSION}|{checkpoint.st_size}|{checkpoint.st_mtime_ns}|{fingerprint}|{data.root.resolve()}".encode())
    return digest.hexdigest()[:16]
