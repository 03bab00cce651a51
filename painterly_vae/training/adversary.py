"""The adversarial half of a training step, when `loss.adversarial_weight` > 0.

The trainer's step stays what it was (one artist's encoder and the shared decoder, one
backward pass); an `Adversary` adds the decoder's adversarial term to that step's loss and,
after the step, takes one step of its own patch discriminator on the same batch: the
paintings as they are (real) against the decoder's paintings of them (decoded). Over the
alternating schedule it sees every artist's paintings. The discriminator never learns from
the decoder's term (its weights are frozen for that pass), and the decoder never from the
discriminator's loss (it judges detached paintings). A non-finite discriminator loss skips its
step, as a non-finite VAE loss skips the VAE's.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from painterly_vae.config import Config
from painterly_vae.model.discriminator import (
    PatchDiscriminator,
    adaptive_weight,
    generator_loss,
    hinge_discriminator_loss,
)
from painterly_vae.model.losses import LossTerms
from painterly_vae.runtime.checkpoint import restore_trained_part
from painterly_vae.runtime.distributed import Processes, agree_all_finite, wrap
from painterly_vae.runtime.precision import autocast

DISCRIMINATOR_BETAS = (0.5, 0.9)  # VQGAN's: a discriminator that keeps up with a moving target


class Adversary:
    """A patch discriminator, its optimizer, and the terms it puts into a training step."""

    def __init__(self, config: Config, device: torch.device, processes: Processes,
                 memory_format: torch.memory_format) -> None:
        self.config = config.loss
        self.device = device
        self.processes = processes
        self.discriminator = PatchDiscriminator(config.loss.discriminator_channels).to(device, memory_format=memory_format)
        self.step_discriminator = wrap(self.discriminator, processes, device)
        self.optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=config.training.discriminator_lr,
                                          betas=DISCRIMINATOR_BETAS)

    def active(self, step: int) -> bool:
        return step >= self.config.adversarial_start_step

    def with_decoder_term(self, terms: LossTerms, decoded: torch.Tensor, last_layer: torch.Tensor,
                          amp_dtype: torch.dtype | None) -> LossTerms:
        """`terms` with the decoder's adversarial term added to what is backpropagated, weighted
        adaptively against the reconstruction loss at the decoder's last layer."""
        self.discriminator.requires_grad_(False)
        try:
            with autocast(self.device, amp_dtype):
                adversarial = generator_loss(self.step_discriminator(decoded))
            weight = adaptive_weight(terms.total, adversarial, last_layer) * self.config.adversarial_weight
        finally:
            self.discriminator.requires_grad_(True)
        weighted = weight * adversarial
        return terms._replace(total=terms.total + weighted, decoder_loss=terms.decoder_loss + weighted.detach(),
                              adversarial=adversarial.detach())

    def step(self, real: torch.Tensor, decoded: torch.Tensor, grad_scaler: torch.amp.GradScaler,
             amp_dtype: torch.dtype | None) -> torch.Tensor | None:
        """One discriminator step on a batch; its hinge loss, or None when it was not finite (skipped)."""
        self.discriminator.train()
        self.optimizer.zero_grad(set_to_none=True)
        with autocast(self.device, amp_dtype):
            real_logits = self.step_discriminator(real.detach())
            decoded_logits = self.step_discriminator(decoded.detach())
        loss = hinge_discriminator_loss(real_logits, decoded_logits)
        if not agree_all_finite(torch.isfinite(loss), self.processes):
            self.optimizer.zero_grad(set_to_none=True)
            return None
        grad_scaler.scale(loss).backward()
        grad_scaler.step(self.optimizer)
        grad_scaler.update()
        return loss.detach()

    def state(self) -> dict[str, Any]:
        return {"discriminator": self.discriminator.state_dict(), "discriminator_optimizer": self.optimizer.state_dict()}

    def load(self, weights: dict[str, torch.Tensor] | None, optimizer: dict[str, Any] | None) -> None:
        """A checkpoint's discriminator; a run stored without one (trained before the term was on) starts afresh."""
        restore_trained_part(self.discriminator, self.optimizer, weights, optimizer)


def last_layer_weight(decoder: nn.Module) -> torch.Tensor:
    """The weight of the decoder's last convolution (the one that paints RGB)."""
    return [module for module in decoder.modules() if isinstance(module, nn.Conv2d)][-1].weight
