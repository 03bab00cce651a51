"""A pull of each per-artist encoder towards the encoders' mean (`training.encoder_pull`).

After each of its own steps, the artist's encoder moves a fraction f of the way from its weights
towards the mean of every encoder's weights: theta_k <- theta_k + f (mean_j theta_j - theta_k).
The data still reach an encoder only through its own painter's batches; what the pull shares is
where the encoders sit, as mean-regularised multi-task learning does (Evgeniou & Pontil, KDD 2004),
and it is decoupled from Adam's step as AdamW's weight decay is (Loshchilov & Hutter, ICLR 2019),
so f reads the same whatever the loss's scale: the share of its distance to the mean that an
encoder gives up per step it takes.

Why: measured (experiments/record.md, "Where the per-artist encoders trail their twin"),
the per-artist encoders fit their training paintings as well as the single twin and lose on held-out
paintings, more so the fewer paintings a painter has (Manet's held-out gap three times the twin's);
a longer shared start closed half of that at attribution's cost. The pull keeps each encoder near
what every painter taught them together for the whole run instead of the first epochs only.
With `training.encoder_pull_mean = "paintings"` (the default) the mean counts each encoder by its
painter's training paintings, the weights one encoder learning from every painting would give
them; with `"equal"` each encoder counts once. Measured at f = 0.1 on configs/pretrained-128.toml
(experiments/record.md, "Pulling the encoders towards their mean"): the paintings mean about halved the SSIM deficit to the single twin
(two seeds) and lowered every painter's held-out gap; the equal mean narrowed Manet's deficit but
widened Monet's and Renoir's, whose encoders it pulled towards those of the painters with few
paintings. Only parameters are pulled: the BatchNorm statistics stay each painter's own. 0 keeps the paper's
independent encoders; with one encoder (`model.encoders = "single"`) the mean is that encoder and
the key does nothing. The pull is a function of the weights alone, so a resumed run continues it exactly.
"""

from __future__ import annotations

import torch
from torch import nn


class EncoderPull:
    """Moves the encoder that just stepped towards the mean of all encoders' parameters."""

    def __init__(self, fraction: float, mean: str, train_counts: list[int], encoder_of_each_artist: list[int]) -> None:
        """`mean`: "paintings" counts each encoder by the training paintings of the artists it serves,
        "equal" counts each once; `encoder_of_each_artist` as `PainterlyVAE.encoder_of_each_artist`."""
        encoders = max(encoder_of_each_artist) + 1
        if mean == "paintings":
            counts = [sum(n for n, serving in zip(train_counts, encoder_of_each_artist, strict=True) if serving == k)
                      for k in range(encoders)]
        else:
            counts = [1] * encoders
        self.fraction = float(fraction) if encoders > 1 else 0.0
        self.weights = torch.tensor(counts, dtype=torch.float64) / sum(counts)

    def describe(self) -> str:
        if not self.fraction:
            return ""
        equal = bool(torch.all(self.weights == self.weights[0]))
        mean = "mean" if equal else "mean weighted by " + ":".join(f"{w:.2f}" for w in self.weights.tolist())
        return f"each encoder pulled {self.fraction:g} of the way to the encoders' {mean} per own step"

    @torch.no_grad()
    def after_step(self, encoders: nn.ModuleList, stepped: int) -> None:
        """Pull encoder `stepped` (after its optimizer step); every other encoder is left as it is."""
        if not self.fraction:
            return
        for same_parameter in zip(*(encoder.parameters() for encoder in encoders), strict=True):
            stacked = torch.stack(same_parameter)
            weights = self.weights.to(stacked.dtype).to(stacked.device).view(-1, *[1] * (stacked.dim() - 1))
            mean = (stacked * weights).sum(dim=0)
            same_parameter[stepped].lerp_(mean, self.fraction)
