"""BatchNorm for the shared decoder that keeps its running statistics per encoder.

Under the paper's alternation every training batch holds one painter's paintings, so the
decoder's BatchNorm normalises each batch by that painter's own statistics of the code and
learns to paint from codes normalised painter by painter. Plain BatchNorm then evaluates with
one running average over whichever painters trained last, which is not what it learnt with:
measured on the shared-start run, a painter's held-out L1 falls from 0.121 to 0.093 when its
own statistics are used (experiments/record.md). `model.decoder_norm = "encoder"` keeps one row of
running statistics per encoder (the scale and shift stay shared, as the decoder is): training
is the same as with BatchNorm, step for step; evaluation, `cross`, `reconstruct` and `sample`
for a painter use the statistics of the encoder that produced the code. A code that belongs to
no one encoder (a draw from the prior, an interpolation between painters) is normalised by
the mixture of every encoder's statistics.

The decoder tells its norms whose code it is painting (`set_encoder`) before each forward pass.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PerEncoderBatchNorm(nn.Module):
    """BatchNorm2d with one row of running mean and variance per encoder; `encoder` picks the row."""

    def __init__(self, channels: int, encoders: int, momentum: float | None = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(encoders, channels))
        self.register_buffer("running_var", torch.ones(encoders, channels))
        self.register_buffer("num_batches_tracked", torch.zeros(encoders, dtype=torch.long))
        self.momentum = momentum  # None: a plain average over the batches seen (recomputing the statistics)
        self.eps = eps
        self.encoder: int | None = None

    def reset_running_stats(self) -> None:
        self.running_mean.zero_()
        self.running_var.fill_(1.0)
        self.num_batches_tracked.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            if self.encoder is None:
                raise RuntimeError("the decoder trains on one encoder's codes at a time: say whose (encoder=...)")
            self.num_batches_tracked[self.encoder] += 1
            factor = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked[self.encoder])
            return F.batch_norm(x, self.running_mean[self.encoder], self.running_var[self.encoder], self.weight,
                                self.bias, True, factor, self.eps)
        mean, var = self.statistics(self.encoder)
        return F.batch_norm(x, mean, var, self.weight, self.bias, False, 0.0, self.eps)

    def statistics(self, encoder: int | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, variance) per channel: the encoder's row, or the mixture of all rows."""
        if encoder is not None:
            return self.running_mean[encoder], self.running_var[encoder]
        mean = self.running_mean.mean(0)
        return mean, self.running_var.mean(0) + self.running_mean.var(0, unbiased=False)

    def extra_repr(self) -> str:
        return f"{self.weight.numel()}, encoders={self.running_mean.shape[0]}, momentum={self.momentum}"


def set_encoder(module: nn.Module, encoder: int | None) -> None:
    """Whose code the next forward passes paint (an encoder index, or None for no one's)."""
    for norm in module.modules():
        if isinstance(norm, PerEncoderBatchNorm):
            norm.encoder = encoder
