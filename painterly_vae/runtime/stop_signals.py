"""Ctrl-C and SIGTERM during training: a request to stop between two steps, not a crash.

Signals arrive at any instruction; a step interrupted after its optimizers moved and before
its step counter did would leave a checkpoint that resumes to other weights than an
uninterrupted run. So while training, SIGINT (Ctrl-C) and SIGTERM (a scheduler ending the job,
torchrun stopping the survivors of a failed process) only record themselves; the trainer looks
between steps (`requested`, agreed by every rank under torchrun), writes the checkpoint of the
step it reached and stops (`TrainingInterrupted`). A second signal, from someone who will not
wait, stops at once as before.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

from painterly_vae.errors import StopRequested

NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class StopSignals:
    """A context in which SIGINT and SIGTERM set `received` (their name) instead of stopping."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():  # where handlers may be set
            for number in NAMES:
                self._previous[number] = signal.signal(number, self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _record(self, number: int, frame: FrameType | None) -> None:
        if self.received is not None:  # the second one: stop now
            if number == signal.SIGINT:
                raise KeyboardInterrupt
            raise StopRequested(NAMES[number])
        self.received = NAMES[number]
