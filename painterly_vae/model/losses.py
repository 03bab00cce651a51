"""The losses, in one place: L1 reconstruction, KL to the unit Gaussian, and their weighting.

The design gives encoder and decoder separate objectives:
    encoder:  kl_weight * KL + encoder_l1_weight * L1
    decoder:  decoder_l1_weight * L1
Both are served by ONE backward pass of
    total = decoder_l1_weight * L1 + kl_weight * KL
provided the gradient that flows from the decoder back into z is multiplied by
encoder_l1_weight / decoder_l1_weight (`scale_gradient`). The decoder's parameters see
decoder_l1_weight * dL1; the encoder sees encoder_l1_weight * dL1 through z plus dKL, which is
exactly the two-loss definition (tests/test_losses.py proves it on gradients).

The optional deep-feature terms (`painterly_vae.model.perceptual`: the DFC feature distance and
the texture distance) ride on the same trick: they are added with `perceptual_weight` and
`texture_weight` for the decoder, and the encoder receives them scaled by the same
encoder_l1_weight / decoder_l1_weight. So does the structural term, `ssim_weight` x (1 - SSIM):
SSIM is one of the measures `evaluate` reports, and the term lets a run trade some of L1's
per-pixel averaging for local contrast and structure (Zhao et al., "Loss functions for image
restoration with neural networks", 2017, mix the two). With `texture_to_encoders` false the texture term
teaches the decoder alone: `withheld_from_latent` adds to what is backpropagated a term whose
gradient at z cancels the texture's, so each step's encoder gradients are those without it.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from painterly_vae.config import LossConfig
from painterly_vae.model.image_quality import ssim
from painterly_vae.model.perceptual import FeatureDistances


class _ScaleGradient(torch.autograd.Function):
    """Identity forward; the backward multiplies the incoming gradient by a constant."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor, scale: float) -> torch.Tensor:  # type: ignore[override]
        ctx.scale = scale
        return tensor.view_as(tensor)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        return grad * ctx.scale, None


def scale_gradient(tensor: torch.Tensor, scale: float) -> torch.Tensor:
    """`tensor` unchanged, but gradients flowing back through it are scaled by `scale`."""
    return _ScaleGradient.apply(tensor, scale)


def latent_gradient_scale(config: LossConfig) -> float:
    """The factor that turns the decoder's L1 weight into the encoder's on the way into z."""
    return config.encoder_l1_weight / config.decoder_l1_weight


class LossTerms(NamedTuple):
    """The loss of one batch: `total` is what gets backpropagated, the rest is for reporting."""

    total: torch.Tensor  # decoder_l1_weight * L1 + kl_weight * KL (with the latent gradient scaled)
    l1: torch.Tensor  # reconstruction L1 under the configured reduction
    kl: torch.Tensor  # KL(q(z|x) || N(0, I)) under the configured reduction
    encoder_loss: torch.Tensor  # kl_weight * KL + encoder_l1_weight * L1
    decoder_loss: torch.Tensor  # decoder_l1_weight * L1 (+ perceptual, texture and ssim_loss, each times its weight)
    perceptual: torch.Tensor  # the DFC loss: the feature network's distance (painterly_vae.model.perceptual); 0 when off
    adversarial: torch.Tensor  # the decoder's adversarial term -mean(D(decoded)) (model.discriminator); 0 when off
    discriminator: torch.Tensor  # the discriminator's hinge loss on this batch; 0 when off
    artist: torch.Tensor  # the artist head's cross-entropy on this batch (training.artist_term); 0 when off
    texture: torch.Tensor  # the texture loss: the feature network's Gram matrices apart (model.perceptual); 0 when off
    ssim_loss: torch.Tensor  # 1 - SSIM of reconstruction and painting (the structural term); 0 when off


def l1_term(reconstruction: torch.Tensor, images: torch.Tensor, reduction: str) -> torch.Tensor:
    """L1 averaged over everything ("mean") or summed per image and averaged over the batch ("sum")."""
    difference = (reconstruction - images).abs()  # (B, 3, H, W)
    if reduction == "mean":
        return difference.mean()
    return difference.flatten(1).sum(1).mean()


def kl_per_dimension(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) per sample and latent dimension, in nats: (B, latent)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def kl_term(mu: torch.Tensor, logvar: torch.Tensor, reduction: str) -> torch.Tensor:
    """KL summed over latent dimensions ("sum") or averaged over them ("mean"); batch mean."""
    per_dimension = kl_per_dimension(mu, logvar)  # (B, latent)
    if reduction == "mean":
        return per_dimension.mean()
    return per_dimension.sum(1).mean()


def vae_loss(
    reconstruction: torch.Tensor,
    images: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    config: LossConfig,
    kl_scale: float = 1.0,
    perceptual: FeatureDistances | None = None,
) -> LossTerms:
    """All loss terms of one batch; `kl_scale` is the KL warm-up factor in [0, 1];
    `perceptual` the deep-feature distances of the batch when either of those terms is on."""
    l1 = l1_term(_full_precision(reconstruction), _full_precision(images), config.l1_reduction)
    kl = kl_term(_full_precision(mu), _full_precision(logvar), config.kl_reduction)
    kl_weight = config.kl_weight * kl_scale
    zero = torch.zeros((), device=l1.device)
    feature = zero if perceptual is None else perceptual.feature.float()
    texture = zero if perceptual is None else perceptual.texture.float()
    structural = zero if config.ssim_weight == 0 else 1.0 - ssim(reconstruction, images).mean()
    decoder_reconstruction = (config.decoder_l1_weight * l1 + config.perceptual_weight * feature
                              + config.texture_weight * texture + config.ssim_weight * structural)
    withheld = decoder_only_loss(config, perceptual)
    encoder_part = decoder_reconstruction if withheld is None else decoder_reconstruction - withheld
    encoder_reconstruction = encoder_part * latent_gradient_scale(config)
    return LossTerms(
        total=decoder_reconstruction + kl_weight * kl,
        l1=l1.detach(),
        kl=kl.detach(),
        encoder_loss=(kl_weight * kl + encoder_reconstruction).detach(),
        decoder_loss=decoder_reconstruction.detach(),
        perceptual=feature.detach(),
        adversarial=zero,
        discriminator=zero,
        artist=zero,
        texture=texture.detach(),
        ssim_loss=structural.detach(),
    )


def decoder_only_loss(config: LossConfig, perceptual: FeatureDistances | None) -> torch.Tensor | None:
    """The weighted part of a batch's loss that must not reach z (the texture term with
    `texture_to_encoders` false), or None when all of it reaches the encoders."""
    if perceptual is None or not config.texture_for_decoder_only:
        return None
    return config.texture_weight * perceptual.texture.float()


def withheld_from_latent(loss: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """A term that, added to what is backpropagated, cancels `loss`'s gradient at `z` and
    changes no other gradient: `loss` then teaches only what lies between z and it (the decoder).

    Its gradient at z is computed first (a backward pass that stops at z and touches no weight,
    so DDP's gradient hooks do not fire); -<z, that gradient> is then linear in z with the
    opposite gradient. Cheaper than a second decoder pass on z.detach(), which would need a
    second pass of the feature network too; exact, unlike a second forward under dropout.
    """
    (gradient,) = torch.autograd.grad(loss, z, retain_graph=True)
    return -(z * gradient.detach()).sum()


def _full_precision(tensor: torch.Tensor) -> torch.Tensor:
    """Losses are reduced in at least float32, whatever precision the model ran in."""
    return tensor.float() if tensor.dtype in (torch.float16, torch.bfloat16) else tensor


def kl_warmup_scale(step: int, warmup_steps: int) -> float:
    """Linear KL warm-up: 0 at step 0, 1 from `warmup_steps` on (always 1 without warm-up)."""
    if warmup_steps <= 0:
        return 1.0
    return min(1.0, step / warmup_steps)
