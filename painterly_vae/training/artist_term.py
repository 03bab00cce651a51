"""The discriminative term on z, when `loss.artist_weight` > 0: z that separates the artists.

The paper trains its encoders without labels (each sees only its artist and learns to
reconstruct it), and attribution then reads the concatenated z of every encoder
(`inference.representations`, "concat"). That z ties with the borrowed network's own
statistics; a classifier trained with labels on the same maps leads them by a few points
(experiments/record.md). This term brings the labels into training, on what attribution reads: a
linear head on the posterior means of every encoder, side by side, is asked which artist the
batch's paintings are by (cross-entropy, times `loss.artist_weight`). Each encoder's mean is
scaled to unit length before the head reads it: on raw means the encoders lower the term by
pushing their means away from the prior (measured at weight 1 on the five painters: the
validation KL went from 350 to 18,000 nats in 250 steps, the L1 from 0.14 to 0.19); on
directions they can only lower it by separating the artists.

Each artist's batches weigh in inversely to how often the schedule draws them (`training.ratio`:
with "auto" Manet's one step in 39 would otherwise leave the head a prior against him; measured
unweighted, the head's balanced accuracy on validation was 60% at 85% top-1), so every artist
counts the same over a cycle of the schedule.

Which encoders learn from it (`loss.artist_gradient`):
- "own": only the encoder of the batch's artist, so each encoder still learns from its own
  artist's paintings alone, as the paper has it; the other encoders' means enter the head as
  fixed inputs (computed without gradients);
- "every": every encoder, so each also learns from the other artists' paintings (as negatives):
  the paper's separation given up for labels. An encoder still steps only on its own artist's
  turn: what the term taught it on the other artists' batches since its last step is held and
  joins its own gradient, averaged, at that step (`after_backward`).
  Stepping every encoder's Adam on every batch instead, on that term's gradient alone, blew up
  the rarely scheduled encoders (measured: validation KL 1,190 nats for Sisley's encoder, 4
  steps in 39, against 390 for Monet's, 15 in 39; 14,000 with the balanced weights below).

The other encoders run in eval mode for this pass, so their BatchNorm statistics stay those of
their own artist's paintings (what attribution reads) and the step touches no buffer of theirs.
They run outside DDP (only their means are used, and DDP refuses a pass that leaves the
log-variance head without a gradient); under torchrun `after_backward` averages what the term
gave them over the ranks, as DDP does for the step's own encoder.
The head, its optimizer and the held gradients are part of the checkpoint (resume restores
them); attribution does not use the head (it refits its own readout on the trained encoders). The term is off during a
shared start (`training.shared_encoder_epochs`), when the encoders are one encoder's copies.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from painterly_vae.config import Config
from painterly_vae.model.losses import LossTerms
from painterly_vae.model.model import PainterlyVAE
from painterly_vae.runtime.checkpoint import restore_trained_part
from painterly_vae.runtime.distributed import Processes, average_gradients, wrap
from painterly_vae.runtime.precision import autocast


class ArtistTerm:
    """The head on every encoder's mean, its optimizer, and the term it adds to a training step."""

    def __init__(self, config: Config, model: PainterlyVAE, device: torch.device, processes: Processes,
                 steps_per_artist: tuple[int, ...]) -> None:
        self.weight = config.loss.artist_weight
        # each artist's share of the steps, made equal: weight cycle / (artists x its steps)
        cycle = sum(steps_per_artist)
        self.artist_weights = [cycle / (len(steps_per_artist) * steps) for steps in steps_per_artist]
        self.every = config.loss.artist_gradient == "every"
        self.device = device
        self.processes = processes
        # "every": the term's gradients held for each encoder until its turn (unscaled), and how many steps they sum
        self.held: list[dict[str, torch.Tensor]] = [{} for _ in model.encoders]
        self.held_steps = [0] * len(model.encoders)
        self.head = nn.Linear(len(model.encoders) * config.model.latent_dim, len(model.artists)).to(device)
        self.step_head = wrap(self.head, processes, device)
        t = config.training
        self.optimizer = torch.optim.Adam(self.head.parameters(), lr=t.encoder_lr, betas=(t.adam_betas[0], t.adam_betas[1]))

    def with_term(self, terms: LossTerms, mu: torch.Tensor, active: int, encoder_input: torch.Tensor,
                  encoders: list[nn.Module], artist: int, amp_dtype: torch.dtype | None) -> LossTerms:
        """`terms` with weight x cross-entropy of the head on [mu of encoder 0, ..., mu of encoder N-1]
        added to what is backpropagated; `mu` is the active encoder's (from the step's own pass),
        the others are computed here by `encoders` (the plain modules), in eval mode."""
        means = [mu if index == active else self._other_mean(encoder, encoder_input, amp_dtype)
                 for index, encoder in enumerate(encoders)]
        with autocast(self.device, amp_dtype):
            logits = self.step_head(torch.cat([F.normalize(mean.float(), dim=1) for mean in means], 1))
        labels = torch.full((len(mu),), artist, dtype=torch.long, device=mu.device)
        cross_entropy = F.cross_entropy(logits.float(), labels)
        weighted = self.weight * self.artist_weights[artist] * cross_entropy
        return terms._replace(total=terms.total + weighted, encoder_loss=terms.encoder_loss + weighted.detach(),
                              artist=cross_entropy.detach())

    def after_backward(self, encoders: list[nn.Module], active: int, scale: float) -> None:
        """Between the backward pass and the optimizers' steps, with "every": the gradients the term
        gave the other encoders are averaged over the ranks (under torchrun) and held until their
        turn (divided by `scale`, the fp16 loss scale, so they keep across scale changes), and the
        step's own encoder receives the mean of what was held for it."""
        if not self.every:
            return
        others = [index for index in range(len(encoders)) if index != active]
        average_gradients([encoders[index] for index in others], self.processes)
        for index in others:
            self._hold(encoders[index], index, scale)
        self._release(encoders[active], active, scale)

    def _hold(self, encoder: nn.Module, index: int, scale: float) -> None:
        """Move an encoder's gradients into its held sum, so its optimizer does not step on them now."""
        held = self.held[index]
        for name, parameter in encoder.named_parameters():
            if parameter.grad is not None:
                gradient = parameter.grad / scale
                held[name] = held[name] + gradient if name in held else gradient
                parameter.grad = None
        self.held_steps[index] += 1

    def _release(self, encoder: nn.Module, index: int, scale: float) -> None:
        """Add the mean of an encoder's held gradients to its own, and empty what was held."""
        steps, held = self.held_steps[index], self.held[index]
        if not steps:
            return
        for name, parameter in encoder.named_parameters():
            if name in held:
                share = held[name] * (scale / steps)
                parameter.grad = share if parameter.grad is None else parameter.grad + share
        self.held[index], self.held_steps[index] = {}, 0

    def _other_mean(self, encoder: nn.Module, encoder_input: torch.Tensor, amp_dtype: torch.dtype | None) -> torch.Tensor:
        """Another encoder's posterior mean of the batch, in eval mode (its statistics untouched);
        without gradients unless the term reaches every encoder."""
        was_training = encoder.training
        encoder.eval()
        try:
            with torch.set_grad_enabled(self.every), autocast(self.device, amp_dtype):
                return encoder(encoder_input)[0]
        finally:
            encoder.train(was_training)

    def state(self) -> dict[str, Any]:
        return {"artist_head": self.head.state_dict(), "artist_head_optimizer": self.optimizer.state_dict(),
                "artist_held": {"steps": list(self.held_steps), "gradients": [dict(held) for held in self.held]}}

    def load(self, weights: dict[str, torch.Tensor] | None, optimizer: dict[str, Any] | None,
             held: dict[str, Any] | None) -> None:
        """A checkpoint's head and held gradients; a run stored without them (trained without the term) starts afresh."""
        restore_trained_part(self.head, self.optimizer, weights, optimizer)
        if held is not None:
            self.held_steps = [int(steps) for steps in held["steps"]]
            self.held = [{name: gradient.to(self.device) for name, gradient in gradients.items()}
                         for gradients in held["gradients"]]
