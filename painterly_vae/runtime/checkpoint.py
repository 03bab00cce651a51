"""Checkpoints: complete, atomic, and loadable with `torch.load(weights_only=True)`.

A checkpoint holds everything needed to rebuild the model and resume training exactly:
the resolved config, the artist names, model and optimizer states, the schedule position,
the sampler state and the RNG states. Only tensors and plain Python values go in, never
pickled objects, so loading a checkpoint cannot run code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from data_tools.atomic import atomic_output
from painterly_vae.errors import UsageError

FORMAT_NAME = "painterly-vae-checkpoint"
FORMAT_VERSION = 2  # 2: pretrained networks named in [networks] and recorded by SHA-256 (1: loss.vgg19_weights)


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write `payload` (plus format markers) to `path` atomically."""
    with atomic_output(path) as stream:
        torch.save({"format": FORMAT_NAME, "version": FORMAT_VERSION, **payload}, stream)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu", mmap: bool = False) -> dict[str, Any]:
    """Read a checkpoint without unpickling arbitrary objects; clear errors for bad files.

    `mmap` maps the file instead of reading it: tensors that are never used (the optimizer
    states, when only attributing) are never read from disk."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except Exception as error:  # torch raises several types for truncated or foreign files
        raise UsageError(f"{path} is not a readable painterly-vae checkpoint ({type(error).__name__}: {error})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise UsageError(f"{path} is not a painterly-vae checkpoint")
    if payload.get("version") == 1:
        return _upgraded_from_version_1(payload)
    if payload.get("version") != FORMAT_VERSION:
        raise UsageError(
            f"{path} is checkpoint format version {payload.get('version')}; this painterly-vae reads 1 and {FORMAT_VERSION}"
        )
    return payload


def _upgraded_from_version_1(payload: dict[str, Any]) -> dict[str, Any]:
    """Version 1 named the VGG19 file of the perceptual loss in `loss.vgg19_weights`; version 2
    names the network and keeps its weights source in [networks.vgg19]. No trunks existed."""
    config = {section: dict(values) for section, values in payload["config"].items()}
    vgg19_file = config["loss"].pop("vgg19_weights", "")
    layers = config["loss"].get("perceptual_layers")
    if layers == ["relu1_1", "relu2_1", "relu3_1"]:
        config["loss"]["perceptual_layers"] = []  # the network's default, the same three
    config["loss"]["perceptual_network"] = "vgg19"
    config["networks"] = {"vgg19": {"weights": vgg19_file}} if vgg19_file else {}
    return {**payload, "config": config, "version": FORMAT_VERSION, "feature_networks": {}}


def capture_rng_state() -> dict[str, Any]:
    """The global torch RNG states (CPU and every CUDA device): dropout and z sampling use them."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def restore_trained_part(module: torch.nn.Module, optimizer: torch.optim.Optimizer,
                         weights: dict[str, torch.Tensor] | None, optimizer_state: dict[str, Any] | None) -> None:
    """A checkpoint's weights and optimizer state for an optional part of training (the
    discriminator, the artist head); a run stored without the part leaves it as built, so a
    run trained without it resumes with it started afresh."""
    if weights is not None:
        module.load_state_dict(weights)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
