"""A run's checkpoint, field by field: the one place that names its keys.

Training writes one (`Trainer.run_state`), `--resume` reads it back into the trainer,
`open_run` rebuilds the model and its attribution from it, and `cluster` replaces the
attribution in it; all through this dataclass, so a key is spelled once. The file stays a
plain dict of tensors and values (`runtime.checkpoint`: atomic, `weights_only` loading), with
the same keys as before this class existed, so every stored run opens unchanged. Keys that
older runs lack take the defaults below.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from painterly_vae.runtime.checkpoint import load_checkpoint, save_checkpoint

# absent from best.pt (a third of the size): what only resuming needs, the discriminator and the artist head among it
RESUME_ONLY = ("encoder_optimizers", "decoder_optimizer", "grad_scaler", "discriminator", "discriminator_optimizer",
               "artist_head", "artist_head_optimizer", "artist_held")


@dataclass
class RunState:
    """Everything a run stores: enough to rebuild the model, attribute, and resume training exactly."""

    config: dict[str, Any]  # the resolved config (`Config.to_dict`)
    artists: list[str]  # in the order of the encoders' artists
    model: dict[str, torch.Tensor]  # the model's state dict (the frozen trunk's weights included)
    train_counts: list[int] = field(default_factory=list)  # training paintings per artist
    schedule: list[int] = field(default_factory=list)  # steps per artist in turn (the resolved ratio)
    step: int = 0
    sampler: dict[str, Any] = field(default_factory=dict)  # the batch sampler's position
    rng: dict[str, Any] = field(default_factory=dict)  # torch's RNG states (`checkpoint.capture_rng_state`)
    best_val_loss: float | None = None
    nonfinite_steps: int = 0
    preprocessing: dict[str, Any] | None = None  # how `prepare` squared the paintings (size, fit, crops)
    feature_networks: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> weights record
    clusters: dict[str, Any] | None = None  # the fitted attribution (`ArtistClusters.state_dict`)
    dating: dict[str, Any] | None = None  # the year regression (`YearRegression.state_dict`)
    encoder_optimizers: list[dict[str, Any]] | None = None  # None in best.pt (it cannot resume)
    decoder_optimizer: dict[str, Any] | None = None
    grad_scaler: dict[str, Any] | None = None
    discriminator: dict[str, torch.Tensor] | None = None  # with loss.adversarial_weight > 0; absent in older runs
    discriminator_optimizer: dict[str, Any] | None = None
    artist_head: dict[str, torch.Tensor] | None = None  # with loss.artist_weight > 0; absent in older runs
    artist_head_optimizer: dict[str, Any] | None = None
    artist_held: dict[str, Any] | None = None  # with loss.artist_gradient = "every": gradients waiting for their encoder's turn

    @property
    def resumable(self) -> bool:
        return self.encoder_optimizers is not None and self.decoder_optimizer is not None

    def without_optimizers(self, weights_dtype: torch.dtype | None = None) -> "RunState":
        """What best.pt keeps: no resuming; with `weights_dtype` (the half precision the steps
        computed in), the model's weight matrices and kernels stored in it (`weights_in`)."""
        model = self.model if weights_dtype is None else weights_in(self.model, weights_dtype)
        return dataclasses.replace(self, model=model, **{name: None for name in RESUME_ONLY})

    def to_checkpoint(self) -> dict[str, Any]:
        """The stored dict: one key per field, the optimizers' left out when absent."""
        payload = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for name in RESUME_ONLY:
            if payload[name] is None:
                del payload[name]
        return payload

    @classmethod
    def from_checkpoint(cls, payload: dict[str, Any]) -> "RunState":
        """From a stored dict (any format version `load_checkpoint` reads); KeyError without
        config, artists or model, which no run lacks."""
        fields = dataclasses.fields(cls)
        required = [f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        for name in required:
            if name not in payload:
                raise KeyError(name)
        known = {f.name for f in fields}
        return cls(**{key: value for key, value in payload.items() if key in known})


def weights_in(model: dict[str, torch.Tensor], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """A state dict whose weight matrices and kernels (floating tensors of two or more dimensions:
    nearly all the bytes) are in `dtype`, the biases and normalisation statistics as they were.
    Training under autocast multiplies by those weights rounded to its half precision at every
    step, so a half-precision copy is the model the steps used: half the file (20 painters with
    MobileNetV2: 113 MiB instead of 226). Loading casts them back (`load_state_dict` copies into the
    model's float32 parameters)."""
    return {name: tensor.to(dtype) if tensor.is_floating_point() and tensor.dim() >= 2 else tensor
            for name, tensor in model.items()}


def save_run_state(path: str | Path, state: RunState) -> None:
    """Write `state` atomically as a checkpoint."""
    save_checkpoint(path, state.to_checkpoint())


def load_run_state(path: str | Path, map_location: str | torch.device = "cpu", mmap: bool = False) -> RunState:
    """Read a checkpoint; a file that is no painterly-vae checkpoint is a UsageError (`load_checkpoint`)."""
    return RunState.from_checkpoint(load_checkpoint(path, map_location, mmap))
