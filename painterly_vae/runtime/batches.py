"""Training batches from processed data: per-artist, deterministic, resumable.

Each artist has its own stream of batches. A stream walks a permutation of that artist's
training images; the permutation (and the horizontal flips) of each pass is drawn from a
generator seeded by (seed, artist, pass), so the sampler's whole state is two integers per
artist and a resumed run draws exactly the batches the uninterrupted run would have.
Images stay uint8 until they are on the device (4x less to copy than float32).

Under torchrun every rank walks the same permutation and takes its own slice of each global
batch (`world_size` x `batch_size` images): the ranks' shards are disjoint, together they
are exactly the batch one process with the global batch size would draw, and the state is
the same on every rank, so a checkpoint resumes onto any number of processes.
"""

from __future__ import annotations

import numpy as np
import torch

from data_tools.processed import ProcessedData


class ArtistBatchSampler:
    """Indices (and flip flags) of the next batch of one artist, without replacement per pass."""

    def __init__(
        self, sizes: list[int], batch_size: int, seed: int, hflip: bool, rank: int = 0, world_size: int = 1
    ) -> None:
        self.sizes = list(sizes)
        self.batch_size = batch_size  # per process; the global batch is batch_size x world_size
        self.rank = rank
        self.world_size = world_size
        self.seed = seed
        self.hflip = hflip
        self.passes = [0] * len(sizes)
        self.cursors = [0] * len(sizes)

    def _pass_order(self, artist: int, pass_number: int) -> tuple[np.ndarray, np.ndarray]:
        generator = np.random.default_rng([self.seed, artist, pass_number])
        order = generator.permutation(self.sizes[artist])
        flips = generator.random(self.sizes[artist]) < 0.5 if self.hflip else np.zeros(self.sizes[artist], bool)
        return order, flips

    def next_batch(self, artist: int) -> tuple[np.ndarray, np.ndarray]:
        """This rank's `batch_size` indices of the next global batch of `artist`.

        A pass that runs out continues in the next one (reshuffled)."""
        if self.sizes[artist] == 0:
            raise ValueError(f"artist {artist} has no training images")
        indices, flips = self._next_global_batch(artist)
        mine = slice(self.rank * self.batch_size, (self.rank + 1) * self.batch_size)
        return indices[mine], flips[mine]

    def _next_global_batch(self, artist: int) -> tuple[np.ndarray, np.ndarray]:
        indices, flips = [], []
        needed = self.batch_size * self.world_size
        while needed > 0:
            order, flip = self._pass_order(artist, self.passes[artist])
            start = self.cursors[artist]
            taken = order[start : start + needed]
            indices.append(taken)
            flips.append(flip[start : start + needed])
            needed -= len(taken)
            self.cursors[artist] = start + len(taken)
            if self.cursors[artist] >= self.sizes[artist]:
                self.passes[artist] += 1
                self.cursors[artist] = 0
        return np.concatenate(indices), np.concatenate(flips)

    def images_drawn(self) -> int:
        """Images drawn so far over all artists and ranks (passes x size + cursor)."""
        return sum(p * n + c for p, n, c in zip(self.passes, self.sizes, self.cursors))

    def state_dict(self) -> dict[str, list[int]]:
        return {"passes": list(self.passes), "cursors": list(self.cursors)}

    def load_state_dict(self, state: dict[str, list[int]]) -> None:
        if len(state["passes"]) != len(self.sizes):
            raise ValueError("sampler state has a different number of artists")
        self.passes = [int(p) for p in state["passes"]]
        self.cursors = [int(c) for c in state["cursors"]]


def to_device_images(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 (B, 3, H, W) numpy -> float (B, 3, H, W) in [0, 1] on `device`."""
    tensor = torch.from_numpy(np.require(array, requirements=["C", "W"]))  # copies a read-only memory map
    if device.type == "cuda":
        tensor = tensor.pin_memory().to(device, non_blocking=True)
    else:
        tensor = tensor.to(device)
    return tensor.float().div_(255.0)


class TrainingBatches:
    """Serves training batches of any artist, on the training device."""

    def __init__(
        self, data: ProcessedData, batch_size: int, seed: int, hflip: bool, device: torch.device,
        rank: int = 0, world_size: int = 1,
    ) -> None:
        self.artists = data.artists
        self.arrays = [data.array(artist, "train") for artist in self.artists]
        self.sampler = ArtistBatchSampler([len(a) for a in self.arrays], batch_size, seed, hflip, rank, world_size)
        self.device = device

    def batch(self, artist: int) -> torch.Tensor:
        """A float batch (B, 3, H, W) in [0, 1] of artist `artist`, flips applied."""
        return self.draw(artist)[0]

    def draw(self, artist: int) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
        """The next batch of `artist`: its images (flips applied), their rows in the training
        array, and which of them were flipped (what a trunk cache needs to serve the same batch)."""
        indices, flips = self.sampler.next_batch(artist)
        order = np.argsort(indices, kind="stable")  # read the memory map front to back
        images = np.empty((len(indices), *self.arrays[artist].shape[1:]), np.uint8)
        images[order] = self.arrays[artist][indices[order]]
        images[flips] = images[flips][..., ::-1]
        return to_device_images(images, self.device), indices, flips
