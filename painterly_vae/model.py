"""The multi-encoder VAE: one DFC-VAE-style encoder per artist and one shared decoder.

Backbone after Hou et al., "Deep Feature Consistent Variational Autoencoder" (2017): conv
4x4 stride-2 blocks with BatchNorm and LeakyReLU(0.2) down to a small feature map, linear
heads to mu and log-variance; the decoder mirrors it with nearest-neighbour upsampling and
3x3 convolutions. The multi-encoder arrangement follows the painter-style report this
project implements: each encoder sees only its artist, the decoder sees every encoder's z.
Every shape is derived from `ModelConfig`; nothing assumes a particular image size.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from painterly_vae.config import ModelConfig
from painterly_vae.losses import scale_gradient


class EncoderOutput(NamedTuple):
    """Posterior parameters of q(z | x)."""

    mu: torch.Tensor  # (B, latent)
    logvar: torch.Tensor  # (B, latent)


class VAEOutput(NamedTuple):
    """One pass through an encoder and the shared decoder."""

    reconstruction: torch.Tensor  # (B, 3, H, W) in [0, 1]
    mu: torch.Tensor  # (B, latent)
    logvar: torch.Tensor  # (B, latent)
    z: torch.Tensor  # (B, latent), the sample that was decoded


def bottleneck_size(config: ModelConfig) -> int:
    """Side of the smallest feature map: the image halved once per block."""
    return config.image_size // 2 ** len(config.channels)


class Encoder(nn.Module):
    """Conv 4x4 stride 2 -> BatchNorm -> LeakyReLU blocks, then linear heads to mu, logvar."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        in_channels = 3
        for index, out_channels in enumerate(config.channels):
            layers: list[nn.Module] = [
                nn.Conv2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.LeakyReLU(config.leaky_slope),
            ]
            if index < config.encoder_dropout_blocks and config.encoder_dropout > 0:
                layers.append(nn.Dropout(config.encoder_dropout))
            blocks.append(nn.Sequential(*layers))
            in_channels = out_channels
        self.features = nn.Sequential(*blocks)
        flat = config.channels[-1] * bottleneck_size(config) ** 2
        self.to_mu = nn.Linear(flat, config.latent_dim)
        self.to_logvar = nn.Linear(flat, config.latent_dim)

    def forward(self, images: torch.Tensor) -> EncoderOutput:
        features = self.features(images).flatten(1)  # (B, C_last * s * s)
        return EncoderOutput(self.to_mu(features), self.to_logvar(features))


class Decoder(nn.Module):
    """Linear z -> feature map (with dropout), then upsample x2 + conv 3x3 blocks to RGB."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.start_channels = config.channels[-1]
        self.start_size = bottleneck_size(config)
        self.from_latent = nn.Sequential(
            nn.Linear(config.latent_dim, self.start_channels * self.start_size**2),
            nn.Dropout(config.decoder_dropout),
        )
        # Mirror the encoder: channels[-1] -> ... -> channels[0], one upsampling per block,
        # the last upsampling ending in the RGB convolution.
        widths = list(reversed(config.channels))
        blocks: list[nn.Module] = []
        for in_channels, out_channels in zip(widths, widths[1:]):
            blocks.append(
                nn.Sequential(
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
                    nn.BatchNorm2d(out_channels),
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

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        features = self.from_latent(z)  # (B, C_last * s * s)
        features = features.view(-1, self.start_channels, self.start_size, self.start_size)
        return self.blocks(features)  # (B, 3, H, W)


class PainterlyVAE(nn.Module):
    """N artist encoders (or one, for the baseline) in a ModuleList and one shared decoder.

    Encoders are indexed in the dataset's fixed artist order; `encoder_for(i)` hides the
    single-encoder baseline, where every artist maps to encoder 0.
    """

    def __init__(self, config: ModelConfig, artists: list[str]) -> None:
        super().__init__()
        if not artists:
            raise ValueError("a model needs at least one artist")
        self.config = config
        self.artists = list(artists)
        count = len(artists) if config.encoders == "per-artist" else 1
        self.encoders = nn.ModuleList(Encoder(config) for _ in range(count))
        self.shared_decoder = Decoder(config)

    def encoder_index(self, artist: int) -> int:
        """Which encoder serves an artist (always 0 for the single-encoder baseline)."""
        if not 0 <= artist < len(self.artists):
            raise IndexError(f"artist index {artist} out of range for {len(self.artists)} artists")
        return 0 if self.config.encoders == "single" else artist

    def encoder_for(self, artist: int) -> Encoder:
        return self.encoders[self.encoder_index(artist)]

    def forward(self, images: torch.Tensor, artist: int, latent_gradient_scale: float = 1.0) -> VAEOutput:
        """Encode with the artist's encoder, sample z, decode with the shared decoder.

        `latent_gradient_scale` multiplies the gradient flowing from the decoder back into z
        (identity in the forward pass): the trainer uses it to give encoder and decoder
        different L1 weights from a single backward pass (see `losses.scale_gradient`).
        In eval mode z is the posterior mean, so evaluation is deterministic.
        """
        return encode_decode(self.encoder_for(artist), self.shared_decoder, images, self.training, latent_gradient_scale)


def encode_decode(
    encoder: nn.Module, decoder: nn.Module, images: torch.Tensor, sample: bool, latent_gradient_scale: float = 1.0
) -> VAEOutput:
    """One VAE pass through the given encoder and decoder (plain modules or their DDP wrappers).

    `sample`: z drawn from the posterior (training) or z = mu (evaluation)."""
    mu, logvar = encoder(images)
    z = reparameterize(mu, logvar) if sample else mu
    decoder_input = scale_gradient(z, latent_gradient_scale) if latent_gradient_scale != 1.0 else z
    return VAEOutput(decoder(decoder_input), mu, logvar, z)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I), drawn from torch's global RNG (saved in checkpoints)."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
