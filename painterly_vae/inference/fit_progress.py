"""What the attribution's fit is doing, and the places where a request to stop is honoured.

Fitting a run's attribution (at the end of `train`, and `cluster`) encodes every training and
validation painting, fits each candidate representation, and fits it again with each painter left
out: minutes for a few painters, far longer for many. A person watching should see which of those
it is doing, and Ctrl-C or SIGTERM should stop it within seconds. While training, both signals
only record themselves (`runtime.stop_signals`); the fit asks between two pieces of work (a batch
encoded, a representation fitted, a painter left out) and raises `FitInterrupted` there, so the
caller keeps what it has (the trained weights) and says how to fit later.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tqdm import tqdm

from painterly_vae.errors import FitInterrupted
from painterly_vae.runtime.stop_signals import StopSignals


class FitProgress:
    """The fit's current stage, shown (and logged) as it changes; a stop recorded by `stop` ends it."""

    def __init__(self, stop: StopSignals | None = None, show: bool = True, log: logging.Logger | None = None,
                 run_dir: Path | None = None) -> None:
        self.stop, self.show, self.log, self.run_dir = stop, show, log, run_dir
        self.current = "starting"

    def stage(self, what: str) -> None:
        """Start the next piece of work (after honouring a stop asked during the last one)."""
        self.check()
        self.current = what
        if self.show:
            tqdm.write(f"fitting the attribution: {what}")
        if self.log is not None:
            self.log.info("fitting the attribution: %s", what)

    def check(self) -> None:
        """Raise `FitInterrupted` when a signal was recorded since the fit began."""
        if self.stop is not None and self.stop.received is not None:
            raise FitInterrupted(self.stop.received, self.current, self.run_dir)

    def bar(self, total: int, what: str) -> tqdm:
        """A progress bar of paintings that checks for a stop after every batch it counts."""
        self.stage(what)
        return _CheckingBar(self, total=total, unit="painting", desc=what, disable=not self.show,
                            dynamic_ncols=True, leave=False)


class _CheckingBar(tqdm):
    """tqdm whose every update is also a place to stop (encoding calls it once per batch)."""

    def __init__(self, progress: FitProgress, **options: object) -> None:
        super().__init__(**options)
        self.progress = progress

    def update(self, n: float | None = 1) -> bool | None:
        shown = super().update(n)
        self.progress.check()
        return shown
