"""How long the training asked for will take, said up front when it is more than a day.

`--epochs 100000` on a laptop CPU is a typing mistake or a misunderstanding, and a progress
bar's ETA of "78:00:00" in a corner is easy to miss. After the first steps of a session the
pace is known; if the steps still to go would take longer than `LONG_TRAINING_S`, the trainer
says so once, in words, with what shortens it. Training goes on: a long run on purpose
(overnight on a GPU, a week on a cluster) is the user's call, and Ctrl-C keeps what is done.
"""

from __future__ import annotations

import sys
import time
from typing import Callable

from tqdm import tqdm

LONG_TRAINING_S = 24 * 3600.0
MEASURED_STEPS = 20  # steps timed before the estimate (after the first, which pays for warm-up)


class DurationEstimate:
    """Times a session's first steps and, once, tells whether the rest takes more than a day."""

    def __init__(self, first_step: int, total: int, tell: Callable[[str], object] | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        """`tell`: where the warning goes besides the terminal (the run's log); None: this
        process says nothing (the other ranks under torchrun)."""
        self.first_step, self.total, self.clock, self.tell = first_step, total, clock, tell
        self.started: float | None = None
        self.done = total - first_step <= MEASURED_STEPS + 1  # a short session needs no estimate

    def after_step(self, step: int) -> str | None:
        """Call after each step; once the estimate exceeds a day, says so (above the progress
        bar and to `tell`) and returns the warning."""
        warning = self._estimate(step)
        if warning and self.tell is not None:
            self.tell(warning)
            tqdm.write(f"painterly-vae train: {warning}", file=sys.stderr)
        return warning

    def _estimate(self, step: int) -> str | None:
        if self.done:
            return None
        if step == self.first_step + 1:  # the first step warms up (allocations, kernels): not timed
            self.started = self.clock()
            return None
        if self.started is None or step < self.first_step + 1 + MEASURED_STEPS:
            return None
        self.done = True
        per_step = (self.clock() - self.started) / MEASURED_STEPS
        remaining = per_step * (self.total - step)
        if remaining <= LONG_TRAINING_S:
            return None
        return (f"this training will take about {describe_duration(remaining)} more at this pace ({per_step:.2g} s a "
                f"step, {self.total - step} steps to go): Ctrl-C stops it with the steps done kept; fewer --epochs or "
                f"--steps, a smaller model.image_size, or a GPU (--device cuda) make it shorter")


def describe_duration(seconds: float) -> str:
    """'3.2 days', '78 hours', '25 minutes'."""
    if seconds >= 2 * 24 * 3600:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 60:.0f} minutes"
