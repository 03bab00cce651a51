"""What a run shows while it trains and reports at the end: running loss sums, TensorBoard
scalars and pictures, the training summary.

Kept apart from the step and the loop (`trainer`) so that what is watched can change
without touching what is trained: the running sums stay on the device and are read once per
log interval; the pictures (reconstructions, one painting through every encoder, prior
samples) come from `inference.explore`, the same code as the `cross` and `sample` commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid

from data_tools.processed import ProcessedData
from painterly_vae.inference import explore
from painterly_vae.model.losses import LossTerms
from painterly_vae.model.model import PainterlyVAE
from painterly_vae.runtime.batched import InferenceSettings, run_batched
from painterly_vae.runtime.distributed import Processes, sum_over_ranks_
from painterly_vae.training.validation import Validation

GRID_IMAGES = 8


@dataclass
class TrainingSummary:
    """What the end of `train` reports."""

    steps: int
    steps_this_session: int
    seconds: float
    images_per_second: float
    best_val_loss: float | None
    final: Validation | None
    nonfinite_steps: int
    run_dir: Path
    artists: list[str] = field(default_factory=list)
    attribution: str | None = None  # filled once the clusters are fitted: how they did on validation


class RunningSums:
    """Per-artist loss sums kept on the device; read (one sync) only when logged."""

    NAMES = LossTerms._fields  # every term of the loss, by its own name

    def __init__(self, artists: int, device: torch.device) -> None:
        self.values = torch.zeros(artists, len(self.NAMES), device=device)
        self.counts = torch.zeros(artists, device=device)

    def add(self, artist: int, terms: LossTerms) -> None:
        self.values[artist] += torch.stack([term.detach() for term in terms])
        self.counts[artist] += 1

    def sum_over_ranks(self, processes: Processes) -> None:
        """Every rank: add up all ranks' sums, so what rank 0 logs covers the global batch."""
        sum_over_ranks_(self.values, processes)
        sum_over_ranks_(self.counts, processes)

    def reset(self) -> None:
        self.values.zero_()
        self.counts.zero_()

    def write(self, writer: SummaryWriter, step: int, artists: list[str]) -> dict[str, str]:
        """Per-artist and overall means since the last reset, to TensorBoard; returns the bar's postfix."""
        values, counts = self.values.to("cpu", copy=True), self.counts.to("cpu", copy=True)
        seen = counts > 0
        if not bool(seen.any()):
            return {}
        for index in torch.nonzero(seen).flatten().tolist():
            for name, value in zip(self.NAMES, (values[index] / counts[index]).tolist()):
                writer.add_scalar(f"train/{artists[index]}/{name}", value, step)
        mean = dict(zip(self.NAMES, (values[seen].sum(0) / counts[seen].sum()).tolist()))
        for name, value in mean.items():
            writer.add_scalar(f"train/{name}", value, step)
        return {"l1": f"{mean['l1']:.4f}", "kl": f"{mean['kl']:.3f}"}


def log_validation(writer: SummaryWriter, validation: Validation, step: int) -> None:
    """The validation's scalars (loss, KL, active units, per artist L1 and KL) and the KL histogram."""
    writer.add_scalar("val/loss", validation.loss, step)
    writer.add_scalar("val/kl_total_nats", validation.kl_total, step)
    writer.add_scalar("val/active_units", validation.active_units, step)
    writer.add_histogram("val/kl_per_dimension", validation.kl_per_dimension, step)
    for artist in validation.l1:
        writer.add_scalar(f"val/{artist}/l1", validation.l1[artist], step)
        writer.add_scalar(f"val/{artist}/kl", validation.kl[artist], step)


def log_pictures(writer: SummaryWriter, model: PainterlyVAE, data: ProcessedData, settings: InferenceSettings,
                 step: int) -> None:
    """A grid per artist (a row of paintings above their reconstructions), the first painting
    through every encoder, and the same prior draws at every step (how the decoder's idea of a
    painting evolves)."""
    model.eval()
    for artist_index, artist in enumerate(model.artists):
        split = "val" if data.count(artist, "val") else "train"
        paintings = data.array(artist, split)[:GRID_IMAGES]
        if not len(paintings):
            continue
        [(painting, target, reconstruction)] = run_batched(
            paintings, lambda images, index=artist_index: _reconstructed(model, images, index), settings)
        writer.add_image(f"reconstructions/{artist}", make_grid(torch.cat([target, reconstruction]), nrow=len(target)), step)
        if artist_index == 0 and len(model.encoders) > 1:
            crossed = explore.cross(model, painting[:1].to(settings.device)).cpu()
            writer.add_image("explore/cross", make_grid(torch.cat([target[:1], crossed]), nrow=len(crossed) + 1), step)
    samples = explore.sample(model, None, None, GRID_IMAGES, seed=0)
    writer.add_image("explore/prior_samples", make_grid(samples, nrow=GRID_IMAGES), step)


def _reconstructed(model: PainterlyVAE, images: torch.Tensor, artist: int) -> tuple[torch.Tensor, ...]:
    """The paintings as given, as the decoder sees them (its size), and their reconstructions."""
    output = model(images, artist)
    return images.float().cpu(), output.target.float().cpu(), output.reconstruction.float().clamp(0, 1).cpu()
