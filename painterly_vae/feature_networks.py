"""The pretrained networks painterly-vae can see through: names, layers, input conventions.

A feature network is a frozen ImageNet classifier from torchvision seen through a few named
layers. It serves twice (Hou et al., "Deep Feature Consistent Variational Autoencoder",
2017): in the loss, where the reconstruction must match the painting's activations, and,
optionally, as a shared trunk in front of every artist's encoder. This module is only the
table: it imports no torch, so a config naming an unknown network or layer is refused before
torch loads. `painterly_vae.model.pretrained` builds the networks.

Layer names index the network's `features` sequence:
    vgg19         relu1_1 ... relu5_4 (the DFC-VAE paper's names)
    mobilenet_v2  block0 ... block18 (features[i]; block18 ends in the 1,280 pooled channels)

The input convention belongs to the weights, not the architecture: torchvision's own
downloads expect ImageNet mean / std scaling and symmetric padding; a network converted from
TensorFlow (such as the TFLite MobileNetV2) expects [-1, 1] scaling and TensorFlow's "SAME"
padding (one pixel on the right and bottom only before each stride-2 convolution, for even
sizes). Both are settings of `[networks.<name>]` in the config.
"""

from __future__ import annotations

from dataclasses import dataclass

from painterly_vae.errors import ConfigError

INPUT_SCALINGS = ("imagenet", "signed")  # ImageNet mean / std, or (x - 0.5) / 0.5 = [-1, 1]
PADDINGS = ("symmetric", "same")  # torchvision's, or TensorFlow's "SAME"
TORCHVISION_WEIGHTS = "torchvision"  # a weights source: torchvision's download and cache


@dataclass(frozen=True)
class NetworkSpec:
    """One pretrained architecture: how to build it, where torchvision keeps its weights, its layers."""

    name: str
    builder: str  # function in torchvision.models
    weights_enum: str  # its weights enum in torchvision.models
    layers: dict[str, int]  # layer name -> index in the network's `features`
    loss_layers: tuple[str, ...]  # default taps of the perceptual loss
    trunk_layer: str  # default last layer of a trunk in front of the encoders
    pooled_layer: str  # the layer whose global average the practitioner's baseline reads
    style_layers: tuple[str, ...]  # where a painting's style statistics are read (up to the trunk layer)
    weights_member: str = "IMAGENET1K_V1"

    def style_layers_up_to(self, trunk_layer: str) -> list[str]:
        """The style layers a trunk cut after `trunk_layer` reaches, and that layer itself."""
        last = self.index(trunk_layer)
        chosen = {self.index(layer): layer for layer in self.style_layers if self.index(layer) <= last}
        chosen[last] = trunk_layer
        return [chosen[index] for index in sorted(chosen)]

    def index(self, layer: str) -> int:
        try:
            return self.layers[layer]
        except KeyError:
            raise ConfigError(
                f"{self.name} has no layer '{layer}'; its layers are {', '.join(self.layers)}"
            ) from None


def _vgg19_layers() -> dict[str, int]:
    """relu{block}_{conv} -> index of that ReLU in torchvision's `vgg19().features`."""
    positions, index = {}, 0
    for block, convs in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)):
        for conv in range(1, convs + 1):
            positions[f"relu{block}_{conv}"] = index + 1  # the conv at index, its ReLU right after
            index += 2
        index += 1  # the block's max-pool
    return positions


NETWORKS: dict[str, NetworkSpec] = {
    spec.name: spec
    for spec in (
        NetworkSpec(
            name="vgg19",
            builder="vgg19",
            weights_enum="VGG19_Weights",
            layers=_vgg19_layers(),
            loss_layers=("relu1_1", "relu2_1", "relu3_1"),  # the DFC-VAE paper's
            trunk_layer="relu4_1",  # 512 channels at 1/8 of the input
            pooled_layer="relu5_4",
            style_layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1"),  # Gatys et al.'s and AdaIN's style layers
        ),
        NetworkSpec(
            name="mobilenet_v2",
            builder="mobilenet_v2",
            weights_enum="MobileNet_V2_Weights",
            layers={f"block{i}": i for i in range(19)},
            # the last block at 1/2, 1/4 and 1/8 of the input: the resolutions of VGG's relu1_1 ... relu3_1 taps
            loss_layers=("block1", "block3", "block6"),
            trunk_layer="block13",  # 96 channels at 1/16 of the input (14 x 14 at 224 px)
            pooled_layer="block18",  # 1,280 channels: what ImageNet's classifier reads
            # 32, 64 and 96 channels at 1/8, 1/16, 1/16: for attribution, the best set of blocks 3-18 measured
            # inside the default trunk (experiments/record.md)
            style_layers=("block6", "block10", "block13"),
        ),
    )
}


def network_spec(name: str) -> NetworkSpec:
    """The table entry for `name`; a ConfigError lists the known networks."""
    try:
        return NETWORKS[name]
    except KeyError:
        raise ConfigError(f"unknown feature network '{name}'; known: {', '.join(NETWORKS)}") from None
