"""The multi-encoder VAE: one DFC-VAE-style encoder per artist and one shared decoder.

Backbone after Hou et al., "Deep Feature Consistent Variational Autoencoder" (2017): conv
4x4 stride-2 blocks with BatchNorm and LeakyReLU(0.2) down to a small feature map, linear
heads to mu and log-variance; the decoder (`decoders`: the paper's, or a residual one) paints
the image back from z. The multi-encoder arrangement follows the painter-style report this
project implements: each encoder sees only its artist, the decoder sees every encoder's z.
Every shape is derived from `ModelConfig`; nothing assumes a particular image size.

With `model.trunk` set, a frozen pretrained network (`painterly_vae.model.pretrained`) shared by
all encoders turns each painting into feature maps once per batch, and each artist's encoder
(the same DFC-style blocks and heads) reads those instead of pixels; the decoder still
reconstructs pixels. The trunk is not trained and not part of the model's state dict: a run
records which weights it used instead (`painterly_vae.model.pretrained.WeightsRecord`).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from painterly_vae.config import ModelConfig
from painterly_vae.model.decoders import build_decoder
from painterly_vae.model.losses import scale_gradient
from painterly_vae.model.pretrained import FeatureNetwork, channel_statistics, gram_statistics


class ModelInputs(NamedTuple):
    """One batch as the model consumes it."""

    encoder: torch.Tensor  # what the encoders read: (B, 3, R, R) pixels, or (B, C, S, S) trunk maps
    target: torch.Tensor  # (B, 3, R, R) in [0, 1]: what the decoder must reconstruct (R = image_size)
    style: torch.Tensor | None = None  # (B, S) the trunk's style statistics, when asked for (attribution)
    gram: torch.Tensor | None = None  # (B, G) its Gram statistics at the same layers (unknown-artist detection)


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
    target: torch.Tensor  # (B, 3, H, W) the pixels the reconstruction is compared with


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """Square images to `size` px: area averaging (an anti-aliased downscale), or unchanged."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    return F.interpolate(images, size=(size, size), mode="area" if images.shape[-1] > size else "bilinear")


class Encoder(nn.Module):
    """Conv 4x4 stride 2 -> BatchNorm -> LeakyReLU blocks, then linear heads to mu, logvar.

    It reads `in_channels` maps of `in_size` px: RGB at the image size, or a trunk's output."""

    def __init__(self, config: ModelConfig, in_channels: int = 3, in_size: int | None = None) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        size = config.image_size if in_size is None else in_size
        channels = config.encoder_channels
        if size // 2 ** len(channels) < 1:
            raise ValueError(f"{len(channels)} stride-2 blocks cannot read a {size} px input")
        for index, out_channels in enumerate(channels):
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
        flat = channels[-1] * (size // 2 ** len(channels)) ** 2  # each block halves the side (floor)
        self.to_mu = nn.Linear(flat, config.latent_dim)
        self.to_logvar = nn.Linear(flat, config.latent_dim)

    def forward(self, images: torch.Tensor) -> EncoderOutput:
        features = self.features(images).flatten(1)  # (B, C_last * s * s)
        return EncoderOutput(self.to_mu(features), self.to_logvar(features))


class PainterlyVAE(nn.Module):
    """N artist encoders (or one, for the baseline) in a ModuleList and one shared decoder.

    Encoders are indexed in the dataset's fixed artist order; `encoder_for(i)` hides the
    single-encoder baseline, where every artist maps to encoder 0.
    """

    def __init__(self, config: ModelConfig, artists: list[str], trunk: FeatureNetwork | None = None) -> None:
        super().__init__()
        if not artists:
            raise ValueError("a model needs at least one artist")
        if bool(config.trunk) != (trunk is not None):
            raise ValueError("give the trunk network exactly when model.trunk names one")
        self.config = config
        self.artists = list(artists)
        # kept outside the module tree: frozen, never in the state dict or an optimizer
        self.__dict__["trunk"] = trunk
        self.trunk_index = trunk.spec.index(config.resolved_trunk_layer()) if trunk is not None else -1
        self.style_layers = trunk.spec.style_layers_up_to(config.resolved_trunk_layer()) if trunk is not None else []
        self.memory_format = torch.contiguous_format  # see lay_out
        in_channels, in_size = self.encoder_input_shape()
        count = len(artists) if config.encoders == "per-artist" else 1
        self.encoders = nn.ModuleList(Encoder(config, in_channels, in_size) for _ in range(count))
        self.shared_decoder = build_decoder(config, count)

    def lay_out(self, channels_last: bool) -> "PainterlyVAE":
        """Put the convolutions (the trunk's too) in NHWC memory when `channels_last`
        (`training.channels_last`: faster on CPUs and tensor cores) and remember it, so that
        everything feeding the model lays its batches out the same way (`laid_out`) instead of
        paying a conversion in every layer."""
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        return self.to(memory_format=self.memory_format)

    def laid_out(self, images: torch.Tensor) -> torch.Tensor:
        """A batch in the memory layout the model's convolutions use."""
        return images.contiguous(memory_format=self.memory_format)

    def trunk_maps_shape(self) -> tuple[int, int]:
        """(channels, side) of the trunk's maps of a painting (one probe pass)."""
        with torch.no_grad():
            probe = self.trunk.mean.new_zeros(1, 3, self.config.trunk_size, self.config.trunk_size)
            maps = self.trunk.activations(probe, [self.trunk_index])[0]
        return maps.shape[1], maps.shape[-1]

    def encoder_input_shape(self) -> tuple[int, int]:
        """(channels, side) of what the encoders read: RGB pixels, or what `encoder_input` builds
        from the trunk's maps (built once from blank maps, so the two cannot disagree)."""
        if self.trunk is None:
            return 3, self.config.image_size
        channels, side = self.trunk_maps_shape()
        painting = self.trunk.mean.new_zeros(1, 3, self.config.trunk_size, self.config.trunk_size)
        built = self.encoder_input(painting.new_zeros(1, channels, side, side), painting)
        return built.shape[1], built.shape[-1]

    def _apply(self, fn, recurse: bool = True):  # .to(), .cuda(), .float() reach the trunk too
        super()._apply(fn, recurse)
        if self.trunk is not None:
            self.trunk._apply(fn, recurse)
        return self

    @torch.no_grad()
    def trunk_features(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, S, S) the frozen trunk's maps of images at the input size (no gradient)."""
        if self.trunk is None:
            raise RuntimeError("this model has no trunk")
        return self.trunk.activations(resize(images, self.config.trunk_size), [self.trunk_index])[0]

    def inputs(self, images: torch.Tensor, style: bool = False) -> ModelInputs:
        """A batch of paintings at `config.input_size` as the encoders and the loss need it;
        `style` adds the trunk's style and Gram statistics, from the same pass (none without a trunk)."""
        target = resize(images, self.config.image_size)
        if self.trunk is None:
            return ModelInputs(target, target)
        if not style:
            return ModelInputs(self.encoder_input(self.trunk_features(images), images), target)
        maps, style_statistics, gram = self.trunk_statistics(images)
        return ModelInputs(self.encoder_input(maps, images), target, style_statistics, gram)

    @torch.no_grad()
    def trunk_statistics(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """From one pass of the trunk over images at the input size: its maps at the trunk layer,
        and its style and Gram statistics at the style layers up to it (what attribution reads)."""
        if self.trunk is None:
            raise RuntimeError("this model has no trunk")
        indices = [self.trunk.spec.index(layer) for layer in self.style_layers]  # the trunk layer is the last
        maps = self.trunk.activations(resize(images, self.config.trunk_size), indices)
        return maps[-1], channel_statistics(maps), gram_statistics(maps)

    def encoder_input(self, maps: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        """What the encoders read of a painting with a trunk: its maps, and with
        `model.encoder_pixels` its pixels (in [-1, 1]) beside them: at the maps' size, or at
        `model.encoder_pixels_scale` times it with each scale x scale patch folded into channels
        (pixel (i, j) of the patch at map position (y, x) is channel scale² x colour + scale x i + j)."""
        if not self.config.encoder_pixels:
            return maps
        scale = self.config.encoder_pixels_scale
        pixels = resize(images, maps.shape[-1] * scale).to(maps.dtype) * 2 - 1
        if scale > 1:
            pixels = F.pixel_unshuffle(pixels, scale)
        return torch.cat([maps, pixels.contiguous(memory_format=self.memory_format)], 1)

    def encoder_index(self, artist: int) -> int:
        """Which encoder serves an artist (always 0 for the single-encoder baseline)."""
        if not 0 <= artist < len(self.artists):
            raise IndexError(f"artist index {artist} out of range for {len(self.artists)} artists")
        return 0 if self.config.encoders == "single" else artist

    def encoder_of_each_artist(self) -> list[int]:
        """The encoder index serving each artist, in artist order (all 0 for the single encoder)."""
        return [self.encoder_index(artist) for artist in range(len(self.artists))]

    def encoder_for(self, artist: int) -> Encoder:
        return self.encoders[self.encoder_index(artist)]

    def encode(self, images: torch.Tensor, artist: int) -> EncoderOutput:
        """q(z | painting) under the encoder serving `artist`, from images at the input size."""
        return self.encoder_for(artist)(self.inputs(images).encoder)

    def forward(self, images: torch.Tensor, artist: int, latent_gradient_scale: float = 1.0) -> VAEOutput:
        """Encode with the artist's encoder, sample z, decode with the shared decoder.

        `latent_gradient_scale` multiplies the gradient flowing from the decoder back into z
        (identity in the forward pass): the trainer uses it to give encoder and decoder
        different L1 weights from a single backward pass (see `losses.scale_gradient`).
        In eval mode z is the posterior mean, so evaluation is deterministic.
        """
        return encode_decode(self.encoder_for(artist), self.shared_decoder, self.inputs(images), self.training,
                             latent_gradient_scale, self.encoder_index(artist))


def encode_decode(
    encoder: nn.Module, decoder: nn.Module, inputs: ModelInputs, sample: bool, latent_gradient_scale: float = 1.0,
    encoder_index: int | None = None,
) -> VAEOutput:
    """One VAE pass through the given encoder and decoder (plain modules or their DDP wrappers).

    `sample`: z drawn from the posterior (training) or z = mu (evaluation); `encoder_index`:
    which of the model's encoders `encoder` is (the decoder may keep statistics per encoder)."""
    mu, logvar = encoder(inputs.encoder)
    z = reparameterize(mu, logvar) if sample else mu
    decoder_input = scale_gradient(z, latent_gradient_scale) if latent_gradient_scale != 1.0 else z
    return VAEOutput(decoder(decoder_input, encoder_index), mu, logvar, z, inputs.target)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I), drawn from torch's global RNG (saved in checkpoints)."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
