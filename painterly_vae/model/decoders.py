"""The shared decoder: z (B, latent) -> a painting (B, 3, H, W) in [0, 1]. Two designs, by
`model.decoder`:

- "dfc", the paper's (Hou et al., DFC-VAE, 2017): a linear layer from z to the smallest map
  (with dropout: "the FC from z to the convolutions"), then per scale a nearest-neighbour
  upsampling and one 3x3 convolution with BatchNorm and LeakyReLU, the last one to RGB.
  The per-artist run trains the decoder on one painter's batch at a time, so BatchNorm's
  running averages (over every painter) are not what it learnt to paint with
  (experiments/decoder/decoder_batchnorm.py). `model.decoder_norm = "encoder"` keeps them per encoder
  (`encoder_statistics`); "group" puts GroupNorm in BatchNorm's place (each painting normalised
  by its own statistics, which also takes away each painting's overall level of every group).
- "residual", what sharp autoencoders use (the VQGAN / latent-diffusion decoder, Esser et al.
  2021, Rombach et al. 2022): the same linear layer and dropout, then at each scale
  `decoder_blocks` residual blocks (GroupNorm, SiLU, two 3x3 convolutions and a skip) before a
  nearest-neighbour upsampling and a 3x3 convolution. Nearest upsampling followed by a
  convolution spreads every output pixel over the same number of inputs, so no checkerboard
  (Odena et al., "Deconvolution and checkerboard artifacts", 2016).

Both go from the map at image_size / 2^len(channels) to image_size, one doubling per scale, at
the widths `model.decoder_channels` (default: the encoder's channels reversed).
"""

from __future__ import annotations

from torch import nn

from painterly_vae.config import ModelConfig
from painterly_vae.model.encoder_statistics import PerEncoderBatchNorm, set_encoder


def bottleneck_size(config: ModelConfig) -> int:
    """Side of the smallest feature map: the image halved once per block."""
    return config.image_size // 2 ** len(config.channels)


class _FromLatent(nn.Module):
    """Linear z -> (B, C, s, s) with dropout: where every decoder starts."""

    def __init__(self, config: ModelConfig, channels: int) -> None:
        super().__init__()
        self.channels, self.size = channels, bottleneck_size(config)
        self.linear = nn.Linear(config.latent_dim, channels * self.size**2)
        self.dropout = nn.Dropout(config.decoder_dropout)

    def forward(self, z):
        return self.dropout(self.linear(z)).view(-1, self.channels, self.size, self.size)


class DfcDecoder(nn.Module):
    """Linear z -> feature map (with dropout), then upsample x2 + conv 3x3 blocks to RGB.
    (Module names as they have always been: stored runs load into it.)"""

    def __init__(self, config: ModelConfig, encoders: int = 1) -> None:
        super().__init__()
        widths = config.decoder_widths
        self.start_channels = widths[0]
        self.start_size = bottleneck_size(config)
        self.statistics_per_encoder = config.decoder_norm == "encoder"  # whose code it is matters only then
        self.from_latent = nn.Sequential(
            nn.Linear(config.latent_dim, self.start_channels * self.start_size**2),
            nn.Dropout(config.decoder_dropout),
        )
        blocks: list[nn.Module] = []
        for in_channels, out_channels in zip(widths, widths[1:]):
            blocks.append(
                nn.Sequential(
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
                    _dfc_norm(config, out_channels, encoders),
                    nn.LeakyReLU(config.leaky_slope),
                )
            )
        blocks.append(
            nn.Sequential(
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv2d(widths[-1], 3, kernel_size=3, padding=1),
                nn.Sigmoid(),
            )
        )
        self.blocks = nn.Sequential(*blocks)

    def forward(self, z, encoder: int | None = None):
        """`encoder`: whose code z is (with `decoder_norm = "encoder"`; the other norms ignore it)."""
        if self.statistics_per_encoder:
            set_encoder(self, encoder)
        features = self.from_latent(z)  # (B, C_last * s * s)
        features = features.view(-1, self.start_channels, self.start_size, self.start_size)
        return self.blocks(features)  # (B, 3, H, W)


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(32, channels // 4) or 1, channels)


def _dfc_norm(config: ModelConfig, channels: int, encoders: int) -> nn.Module:
    """The DFC block's normalisation: the paper's BatchNorm, its statistics per encoder, or
    GroupNorm (the same parameter names, so every one keeps the decoder's layout)."""
    if config.decoder_norm == "encoder":
        return PerEncoderBatchNorm(channels, encoders)
    return nn.BatchNorm2d(channels) if config.decoder_norm == "batch" else _norm(channels)


class ResidualBlock(nn.Module):
    """x + conv(SiLU(norm(conv(SiLU(norm(x)))))), with a 1x1 convolution on the skip when the width changes."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _norm(in_channels), nn.SiLU(), nn.Conv2d(in_channels, out_channels, 3, padding=1),
            _norm(out_channels), nn.SiLU(), nn.Conv2d(out_channels, out_channels, 3, padding=1),
        )
        self.skip = nn.Identity() if in_channels == out_channels else nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x):
        return self.skip(x) + self.body(x)


class ResidualDecoder(nn.Module):
    """Linear z -> map, then per scale: residual blocks, nearest upsampling x2, a 3x3 convolution."""

    def __init__(self, config: ModelConfig, encoders: int = 1) -> None:  # GroupNorm: nothing kept per encoder
        super().__init__()
        widths = config.decoder_widths
        self.from_latent = nn.Sequential(_FromLatent(config, widths[0]), nn.Conv2d(widths[0], widths[0], 3, padding=1))
        layers: list[nn.Module] = []
        for index, width in enumerate(widths):
            following = widths[index + 1] if index + 1 < len(widths) else widths[-1]
            layers += [ResidualBlock(width, width) for _ in range(config.decoder_blocks)]
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(width, following, 3, padding=1)]
        layers += [ResidualBlock(widths[-1], widths[-1]), _norm(widths[-1]), nn.SiLU(),
                   nn.Conv2d(widths[-1], 3, 3, padding=1), nn.Sigmoid()]
        self.blocks = nn.Sequential(*layers)

    def forward(self, z, encoder: int | None = None):  # the signature of DfcDecoder's
        return self.blocks(self.from_latent(z))  # (B, 3, H, W)


DECODERS = {"dfc": DfcDecoder, "residual": ResidualDecoder}


def build_decoder(config: ModelConfig, encoders: int = 1) -> nn.Module:
    """The shared decoder for a model with `encoders` encoders."""
    return DECODERS[config.decoder](config, encoders)
