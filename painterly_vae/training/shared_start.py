"""A shared start for the per-artist encoders (`training.shared_encoder_epochs`).

For the first E epochs one encoder (artist 0's slot) learns from every artist's paintings, at the
run's ratio, and every other artist's encoder is a copy of it; from then on each copy goes on
alone on its own artist's paintings, as the paper's encoders do from the start. The copies are
brought up to date when something reads them (validation, pictures, a checkpoint, the parting),
not after every step: a copy into each of a hundred encoders after every step cost a quarter of
the shared steps' time (`bench/painters.py`).

Why: under the paper's alternation each per-artist encoder trains only on its share of the steps
while the shared decoder trains on all of them. At 128 px with `ratio = "auto"` Manet's encoder
(63 of 2,471 training paintings) took 40 of 1,545 steps and its validation L1 stayed at twice the
single encoder's. A shared start gives every encoder the first E epochs' steps and a code the
decoder already reads; measured at E = 10 of 20, Manet's validation L1 fell from 0.183 to 0.119,
and what is left of the gap to the single encoder lies in the decoder's BatchNorm statistics
(experiments/record.md, "Why the per-artist encoders trail the twin"). 0 keeps the paper's
independent encoders; E at the run's length puts the single-encoder twin's encoder in every slot.
With one encoder (`model.encoders = "single"`) there is nothing to share and the key does nothing.
While shared, a decoder that keeps statistics per encoder (`model.decoder_norm = "encoder"`)
still keeps each painter's batches in that painter's row: when the copies part every row already
describes its painter's codes, instead of starting from BatchNorm's initial values (when only
encoder 0's row was filled, and the validation L1 of the other painters read
twice its level for the first few hundred steps after the parting).
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


class SharedStart:
    """Which steps train the shared encoder, and the copies that keep the others equal to it."""

    def __init__(self, epochs: float, training_images: int, global_batch: int, encoders: int) -> None:
        # counted in steps of this run's global batch, from its first step
        self.steps = math.ceil(epochs * training_images / global_batch) if encoders > 1 else 0
        self.copies_behind = False  # encoder 0 has taken a step its copies have not been given

    def shares(self, step: int) -> bool:
        """Step `step` (0-based) trains the shared encoder for every artist."""
        return step < self.steps

    def parts_at(self, step: int) -> bool:
        """Step `step` is the first after the shared ones: the copies take encoder 0's optimizer state."""
        return step == self.steps > 0

    def describe(self) -> str:
        return f"one encoder shared by every artist for the first {self.steps} steps" if self.steps else ""

    def shared_step_taken(self) -> None:
        """Encoder 0 took a shared step: its copies are behind until `update_copies`."""
        self.copies_behind = True

    @torch.no_grad()
    def update_copies(self, encoders: nn.ModuleList) -> None:
        """Every encoder's weights and BatchNorm statistics set to encoder 0's, if it stepped since
        they last were (call it before anything reads the encoders)."""
        if not self.copies_behind:
            return
        state = encoders[0].state_dict()
        for encoder in encoders[1:]:
            encoder.load_state_dict(state)
        self.copies_behind = False

    def copy_optimizer(self, optimizers: list[torch.optim.Optimizer]) -> None:
        """Every encoder's Adam moments and step count set to encoder 0's (once, when the copies part):
        each then continues as if it had taken the shared steps itself."""
        state = optimizers[0].state_dict()
        for optimizer in optimizers[1:]:
            optimizer.load_state_dict(copy.deepcopy(state))  # loading may keep the tensors it is given
