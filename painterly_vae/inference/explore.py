"""Looking inside a trained run: reconstructions, crossings, latent paths and samples.

The report behind this project does more with its model than attribute: it passes Monet's
paintings through every painter's encoder, walks between paintings in the latent space and
draws new images from it. These functions compute those pictures as image tensors
(n, 3, H, W) in [0, 1]; `painterly_vae.cli.exploration_commands` turns them into PNGs and the
trainer logs some of them to TensorBoard.

Everything runs in eval mode with z = mu (deterministic), except sampling, which draws z
from a generator seeded by the caller: same seed, same images.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from painterly_vae.errors import UsageError
from painterly_vae.inference.latents import views_of_batch
from painterly_vae.model.model import PainterlyVAE

PATH_KINDS = ("linear", "spherical")


def artist_number(artists: list[str], name: str) -> int:
    """The index of an artist given by name (case-insensitive); a usage error names the choices."""
    for index, artist in enumerate(artists):
        if artist.lower() == name.lower():
            return index
    raise UsageError(f"the run has no artist '{name}'; its artists are: {', '.join(artists)}")


@torch.inference_mode()
def encode(model: PainterlyVAE, images: torch.Tensor, artist: int) -> torch.Tensor:
    """(B, latent) posterior means of `images` under the encoder that serves `artist`."""
    model.eval()
    return model.encode(images, artist).mu.float()


@torch.inference_mode()
def decode(model: PainterlyVAE, z: torch.Tensor, encoder: int | None = None) -> torch.Tensor:
    """(B, 3, H, W) images in [0, 1] from latents (B, latent) through the shared decoder;
    `encoder`: the encoder whose codes these are, None for codes of no one encoder."""
    model.eval()
    return model.shared_decoder(z, encoder).float().clamp(0, 1)


def reconstruct(model: PainterlyVAE, images: torch.Tensor, artist: int) -> torch.Tensor:
    """`images` through `artist`'s encoder and the shared decoder."""
    return decode(model, encode(model, images, artist), model.encoder_index(artist))


def cross(model: PainterlyVAE, image: torch.Tensor) -> torch.Tensor:
    """One painting (1, 3, H, W) through every encoder: (encoders, 3, H, W).

    What each painter's encoder keeps of a painting it never saw, as the shared decoder
    renders it. The single-encoder baseline gives one image."""
    model.eval()
    with torch.inference_mode():
        seen = model.inputs(image).encoder
        return torch.cat([decode(model, encoder(seen).mu.float(), index) for index, encoder in enumerate(model.encoders)])


def attributed_artists(model: PainterlyVAE, clusters, images: torch.Tensor) -> list[int]:
    """The artist the run's clusters give each image (the default encoder for reconstruct)."""
    model.eval()
    with torch.inference_mode():
        views = views_of_batch(model, model.laid_out(images), reconstruct=clusters.needs_reconstructions)
    return [int(a) for a in clusters.predict(views)]


def latent_path(start: torch.Tensor, end: torch.Tensor, steps: int, kind: str) -> torch.Tensor:
    """(steps, latent) from `start` to `end` (both included), along a line or a great circle.

    Spherical interpolation keeps the norm in between where a straight line would shrink it
    towards the origin, the "average painting" that a Gaussian prior makes unlikely."""
    if steps < 2:
        raise UsageError("--steps must be at least 2 (the two paintings themselves)")
    if kind not in PATH_KINDS:
        raise ValueError(f"kind must be one of {PATH_KINDS}")
    t = torch.linspace(0, 1, steps, dtype=start.dtype, device=start.device).unsqueeze(1)
    if kind == "linear":
        return (1 - t) * start + t * end
    cosine = torch.dot(start / start.norm(), end / end.norm()).clamp(-1, 1)
    omega = torch.arccos(cosine)
    if float(omega.sin().abs()) < 1e-6:  # (anti)parallel: the great circle is not unique
        return (1 - t) * start + t * end
    return (torch.sin((1 - t) * omega) * start + torch.sin(t * omega) * end) / omega.sin()


def interpolate(
    model: PainterlyVAE, first: torch.Tensor, second: torch.Tensor, first_artist: int, second_artist: int, steps: int
) -> dict[str, torch.Tensor]:
    """Decoded paths between two paintings (each encoded by its artist's encoder), per kind;
    between two encoders' codes the path belongs to neither (see `decode`)."""
    start = encode(model, first, first_artist)[0]
    end = encode(model, second, second_artist)[0]
    encoders = {model.encoder_index(first_artist), model.encoder_index(second_artist)}
    encoder = encoders.pop() if len(encoders) == 1 else None
    return {kind: decode(model, latent_path(start, end, steps, kind), encoder) for kind in PATH_KINDS}


def sample(model: PainterlyVAE, clusters, artist: int | None, count: int, seed: int) -> torch.Tensor:
    """`count` new images: z from the prior N(0, I), or from `artist`'s fitted latent cluster
    (its Gaussian under the artist's own encoder; see `ArtistClusters.latent_gaussian`)."""
    return torch.cat(list(sample_batches(model, clusters, artist, count, seed, batch_size=max(1, count))))


def sample_batches(model: PainterlyVAE, clusters, artist: int | None, count: int, seed: int,
                   batch_size: int = 64) -> Iterator[torch.Tensor]:
    """The same images as `sample`, `batch_size` at a time: memory stays flat whatever `count`.

    z is drawn batch by batch from one generator, so image i is the same for any `count` >= i
    and any batch size (a standard normal stream split into rows draws the same numbers)."""
    latent = model.config.latent_dim
    generator = np.random.default_rng(seed)
    mean, factor = np.zeros(latent), np.eye(latent)
    if artist is not None:
        try:
            mean, covariance = clusters.latent_gaussian(artist, latent)
        except ValueError as error:
            raise UsageError(f"sample --artist: {error}; run `painterly-vae cluster --representation concat`") from None
        factor = np.linalg.cholesky(covariance)
    device = next(model.parameters()).device
    for start in range(0, count, batch_size):
        z = mean + generator.standard_normal((min(batch_size, count - start), latent)) @ factor.T
        yield decode(model, torch.as_tensor(z, dtype=torch.float32, device=device),
                     None if artist is None else model.encoder_index(artist))