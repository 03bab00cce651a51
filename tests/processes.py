"""Stopping a real process the way a person does, once it has got somewhere."""

from __future__ import annotations

import subprocess
import time
from typing import Callable


def signal_when_ready(job: subprocess.Popen, ready: Callable[[], bool], number: int, what: str,
                      wait_s: float = 120) -> tuple[str, str]:
    """Wait until `ready()` holds while `job` still runs (failing with `what` after `wait_s`),
    send it signal `number`, and return its (stdout, stderr). A job that is still running when
    this leaves, by failure or time-out, is killed: no test leaves a process behind."""
    try:
        deadline = time.monotonic() + wait_s
        while not ready():
            assert job.poll() is None and time.monotonic() < deadline, what
            time.sleep(0.1)
        job.send_signal(number)
        return job.communicate(timeout=120)
    finally:
        if job.poll() is None:
            job.kill()
            job.communicate()
