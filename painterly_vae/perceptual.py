"""The deep-feature-consistent (DFC-VAE) loss: compare VGG19 activations, not just pixels.

An L1 loss alone rewards the average of every plausible reconstruction, which is a blur; a
painter's style lives in brushwork and texture, exactly what it blurs away. DFC-VAE (Hou et
al., 2017) adds the squared difference between a pretrained VGG19's activations of the input
and of the reconstruction (relu1_1, relu2_1, relu3_1 in the paper).

The network is torchvision's VGG19 architecture with weights read from a local file that the
user provides (torchvision's `vgg19-dcbb9e9d.pth`, or any state dict of that architecture,
whole model or `features` only). Nothing is downloaded at run time. Inputs are in [0, 1] and
get ImageNet's normalisation, as the weights expect. The VGG is frozen and always in eval mode.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torchvision.models import vgg19

from painterly_vae.config import VGG19_LAYERS, require_vgg19_weights_file
from painterly_vae.errors import UsageError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _layer_positions() -> dict[str, int]:
    """relu{block}_{conv} -> index of that ReLU in torchvision's `vgg19().features`."""
    positions, index = {}, 0
    for block, convs in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)):
        for conv in range(1, convs + 1):
            positions[f"relu{block}_{conv}"] = index + 1  # conv at index, its ReLU right after
            index += 2
        index += 1  # the block's max-pool
    return positions


LAYER_POSITIONS = _layer_positions()
assert tuple(LAYER_POSITIONS) == VGG19_LAYERS


def load_vgg19_features(path: str | Path, deepest: int) -> nn.Sequential:
    """VGG19's `features` up to layer index `deepest`, weights from `path`; clear errors."""
    path = Path(path)
    require_vgg19_weights_file(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise UsageError(f"loss.vgg19_weights: {path} is not a readable PyTorch state dict ({error})") from None
    if not isinstance(state, dict):
        raise UsageError(f"loss.vgg19_weights: {path} does not hold a state dict")
    features = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")} or state
    network = vgg19(weights=None).features
    try:
        network.load_state_dict(features)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise UsageError(f"loss.vgg19_weights: {path} is not a VGG19 state dict ({first})") from None
    return network[: deepest + 1]


class PerceptualLoss(nn.Module):
    """Sum over the chosen layers of the mean squared difference of VGG19 activations."""

    def __init__(self, weights_path: str | Path, layers: list[str]) -> None:
        super().__init__()
        unknown = [name for name in layers if name not in LAYER_POSITIONS]
        if unknown or not layers:
            raise UsageError(f"loss.perceptual_layers: {unknown or layers} must be among {VGG19_LAYERS}")
        self.taps = sorted({LAYER_POSITIONS[name] for name in layers})
        self.features = load_vgg19_features(weights_path, self.taps[-1])
        self.features.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.eval()

    def train(self, mode: bool = True) -> "PerceptualLoss":
        """Always eval: a frozen feature extractor (no dropout in `features`, but be explicit)."""
        return super().train(False)

    def activations(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = (images - self.mean.to(images.dtype)) / self.std.to(images.dtype)
        taken = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self.taps:
                taken.append(x)
        return taken

    def forward(self, reconstruction: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        """(scalar) the loss; gradients flow into `reconstruction` only."""
        with torch.no_grad():
            targets = self.activations(images)
        produced = self.activations(reconstruction)
        return sum(((p.float() - t.float()) ** 2).mean() for p, t in zip(produced, targets))
