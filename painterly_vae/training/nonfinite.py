"""A non-finite loss never reaches the weights.

Before a step the buffers its forward pass will touch (BatchNorm statistics of the artist's
encoder and of the shared decoder) are copied; when the loss is not finite on some rank the
step is skipped, those buffers are put back, and after `training.max_nonfinite_steps` skips in
a row the run stops with `TrainingDiverged` (the weights are those of the last finite step, so
the run resumes from its checkpoint with a lower learning rate). The count of skipped steps
goes into the checkpoint and the summary.
"""

from __future__ import annotations

import torch
from torch import nn

from painterly_vae.errors import TrainingDiverged

Buffers = list[dict[str, torch.Tensor]]


class NonfiniteSteps:
    """Counts skipped steps (in a row and in all) and restores what a skipped step touched."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_row = 0
        self.total = 0  # steps skipped in all (a skipped discriminator step counts too)

    @staticmethod
    def keep(modules: list[nn.Module]) -> Buffers:
        """Copies of the modules' buffers, taken before the forward pass."""
        return [{name: buffer.clone() for name, buffer in module.named_buffers()} for module in modules]

    def skip(self, modules: list[nn.Module], kept: Buffers, where: str) -> None:
        """The step's loss was not finite: put the buffers back and count it; raises
        TrainingDiverged when it is the `limit`-th in a row. `where` names the step and artist."""
        with torch.no_grad():
            for module, buffers in zip(modules, kept, strict=True):
                for name, buffer in module.named_buffers():
                    buffer.copy_(buffers[name])
        self.in_row += 1
        self.total += 1
        if self.in_row >= self.limit:
            raise TrainingDiverged(
                f"the loss was not finite for {self.in_row} steps in a row ({where}); the weights are unchanged "
                f"since the last finite step. Lower training.encoder_lr / training.decoder_lr or the loss weights, "
                f"and resume."
            )

    def passed(self) -> None:
        """A finite step: the streak ends."""
        self.in_row = 0
