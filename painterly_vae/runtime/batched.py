"""Prepared paintings through a network without gradients, in batches: the one loop for it.

Validation, the TensorBoard grids, encoding for attribution and evaluation, reconstructions,
the trunk cache and the pretrained baselines all run uint8 paintings through a network the
same way: a batch of `inference.batch_size` paintings at a time, as floats in [0, 1] on the
device, laid out in the model's memory format (`training.channels_last`), under the run's
autocast (`training.precision`), in inference mode. Written once, they cannot disagree (they
did: two skipped autocast, one forced channels_last, five batch sizes). Latent codes decoded
without their paintings (the evaluation's crossings) go through the same loop.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

import numpy as np
import torch
from tqdm import tqdm

from painterly_vae.config import Config
from painterly_vae.runtime.batches import to_device_images
from painterly_vae.runtime.precision import autocast, resolve_precision

Output = TypeVar("Output")


@dataclass(frozen=True)
class InferenceSettings:
    """How a run computes without gradients: where, in which precision, layout and batch size."""

    device: torch.device
    amp_dtype: torch.dtype | None  # None: plain fp32
    memory_format: torch.memory_format
    batch_size: int

    @classmethod
    def of(cls, config: Config, device: torch.device) -> "InferenceSettings":
        """The settings a run's config gives (the same for training's validation and for a reopened run).

        `training.precision = "auto"` computes in fp32 here, whatever training took: in bf16 a
        painting's latent, and so its probabilities, would depend on the batch it was encoded in
        and on whether the CPU has bf16 hardware (the same run answering differently on a laptop
        and a server). A precision named in the config is used as named."""
        layout = torch.channels_last if config.training.channels_last else torch.contiguous_format
        precision = config.training.precision
        dtype = None if precision == "auto" else resolve_precision(precision, device)
        return cls(device, dtype, layout, config.inference.batch_size)

    def with_precision(self, amp_dtype: torch.dtype | None) -> "InferenceSettings":
        return dataclasses.replace(self, amp_dtype=amp_dtype)


def run_batched(images: np.ndarray | Sequence[np.ndarray], step: Callable[[torch.Tensor], Output],
                settings: InferenceSettings, bar: tqdm | None = None) -> list[Output]:
    """`step` of every batch of `images` (uint8, (N, 3, H, W), a memory map is read batch by
    batch), in order: each batch float in [0, 1] on the device, laid out, under autocast."""
    def as_batch(part: np.ndarray) -> torch.Tensor:
        images = to_device_images(np.asarray(part), settings.device)
        return images.contiguous(memory_format=settings.memory_format)

    return _in_batches(images, as_batch, step, settings, bar)


def run_batched_codes(codes: np.ndarray, step: Callable[[torch.Tensor], Output],
                      settings: InferenceSettings) -> list[Output]:
    """`step` of every batch of latent codes ((N, latent), e.g. the posterior means an encoding
    kept), in order: each batch float32 on the device, under autocast."""
    return _in_batches(codes, lambda part: torch.as_tensor(part, dtype=torch.float32, device=settings.device),
                       step, settings, None)


@torch.inference_mode()
def _in_batches(items: np.ndarray | Sequence[np.ndarray], as_batch: Callable[[np.ndarray], torch.Tensor],
                step: Callable[[torch.Tensor], Output], settings: InferenceSettings, bar: tqdm | None) -> list[Output]:
    outputs = []
    for start in range(0, len(items), settings.batch_size):
        batch = as_batch(items[start : start + settings.batch_size])
        with autocast(settings.device, settings.amp_dtype):
            outputs.append(step(batch))
        if bar is not None:
            bar.update(len(batch))
    return outputs
