"""Deep-feature losses: compare a pretrained network's activations, not just pixels.

An L1 loss alone rewards the average of every plausible reconstruction, which is a blur; a
painter's style lives in brushwork and texture, exactly what it blurs away. Two distances are
read from one pass of a frozen network over input and reconstruction:

    feature  the DFC-VAE loss (Hou et al., 2017): the mean squared difference of the
             activations, place by place (VGG19 relu1_1, relu2_1, relu3_1 in the paper; any
             network of `painterly_vae.feature_networks` here, each with its default taps).
             It still rewards an average wherever the decoder cannot tell where an edge goes.
    texture  the squared difference of each layer's Gram matrix (the channels' second moments
             over the whole picture: Gatys et al.'s style representation, the texture loss that
             EnhanceNet, Sajjadi et al. 2017, adds to make super-resolution sharp). It asks the
             reconstruction to carry as much edge and brush energy, of the same kinds, as the
             painting, without asking where each stroke lies, so a blur is never the safe answer.
             Over the whole picture it lets the decoder paint one texture anywhere (measured:
             every figure painting came back as the same textured ghost); with a grid
             (`grid` > 1, EnhanceNet's patch-wise loss) each cell's Gram matrix is compared with
             the same cell of the painting, so texture has to sit where the painting has it.

The network is frozen; gradients flow through it into the reconstruction only.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple

import torch
from torch import nn

from painterly_vae.errors import ConfigError
from painterly_vae.model.pretrained import FeatureNetwork


class FeatureDistances(NamedTuple):
    """One batch's deep-feature distances, each a scalar summed over the taps."""

    feature: torch.Tensor  # activations compared place by place (the DFC loss)
    texture: torch.Tensor  # Gram matrices compared (the texture loss)


def gram_matrices(activation: torch.Tensor, grid: int = 1) -> torch.Tensor:
    """(B, C, C) each picture's channel second moments over its positions, in float32; with
    `grid` > 1, (B, grid * grid, C, C): the moments in each cell of a grid x grid division (rows
    first; positions past the last whole cell, when the map's side is not a multiple, are left out)."""
    batch, channels, height, width = activation.shape
    if grid > min(height, width):
        raise ConfigError(f"loss.texture_grid: {grid} cells per side, but a texture layer's map is only "
                          f"{height}x{width} here (use a smaller grid or shallower loss.texture_layers)")
    rows, columns = height // grid, width // grid
    cells = (activation.float()[:, :, :rows * grid, :columns * grid]
             .reshape(batch, channels, grid, rows, grid, columns)
             .permute(0, 2, 4, 1, 3, 5)
             .reshape(batch, grid * grid, channels, rows * columns))
    moments = cells @ cells.transpose(2, 3) / (rows * columns)
    return moments[:, 0] if grid == 1 else moments


def feature_difference(produced: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The DFC distance at one tap: activations compared place by place."""
    return ((produced.float() - target.float()) ** 2).mean()


def texture_difference(produced: torch.Tensor, target: torch.Tensor, grid: int = 1) -> torch.Tensor:
    """The texture distance at one tap: the pictures' Gram matrices compared (cell by cell with a grid)."""
    return ((gram_matrices(produced, grid) - gram_matrices(target, grid)) ** 2).mean()


class PerceptualLoss(nn.Module):
    """Both distances of `FeatureDistances` at the chosen layers, from one pass per picture."""

    def __init__(self, network: FeatureNetwork, layers: list[str], texture_layers: list[str] | None = None,
                 measured_only: tuple[str, ...] = (), texture_grid: int = 1) -> None:
        """`layers`: the feature distance's taps; `texture_layers`: the texture distance's (None: the
        same); `measured_only`: distances ("feature", "texture") whose weight is 0, computed for the
        log without gradients, so the backward pass does not run through them; `texture_grid`: cells
        per side whose Gram matrices are compared (1 = the whole picture)."""
        super().__init__()
        if not layers or texture_layers == []:
            raise ValueError("the perceptual loss needs at least one layer")
        self.network = network
        self.feature_taps = sorted({network.spec.index(name) for name in layers})
        self.texture_taps = (self.feature_taps if texture_layers is None
                             else sorted({network.spec.index(name) for name in texture_layers}))
        self.taps = sorted(set(self.feature_taps) | set(self.texture_taps))
        self.measured_only = measured_only
        self.texture_grid = texture_grid

    def forward(self, reconstruction: torch.Tensor, images: torch.Tensor) -> FeatureDistances:
        """The batch's distances; gradients flow into `reconstruction` only."""
        with torch.no_grad():
            targets = dict(zip(self.taps, self.network.activations(images, self.taps)))
        produced = dict(zip(self.taps, self.network.activations(reconstruction, self.taps)))
        return FeatureDistances(
            self._distance("feature", self.feature_taps, feature_difference, produced, targets),
            self._distance("texture", self.texture_taps, partial(texture_difference, grid=self.texture_grid),
                           produced, targets),
        )

    def _distance(self, name: str, taps: list[int], difference: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                  produced: dict[int, torch.Tensor], targets: dict[int, torch.Tensor]) -> torch.Tensor:
        """`difference` summed over `taps`; without gradients when `name` is measured only."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and name not in self.measured_only):
            return sum(difference(produced[i], targets[i]) for i in taps)
