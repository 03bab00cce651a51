"""Ctrl-C and SIGTERM during training keep the step reached; --resume continues from that exact
step to the weights an uninterrupted run reaches."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import TINY
from processes import signal_when_ready

from painterly_vae.runtime.checkpoint import load_checkpoint

SETTINGS = {**TINY, "training.checkpoint_every": 1_000_000, "training.eval_every": 1_000_000,
            "training.image_every": 1_000_000}


def _train(tiny_data: Path, runs: Path, name: str, *extra: str) -> list[str]:
    sets = [arg for key, value in SETTINGS.items() for arg in ("--set", f"{key}={value}")]
    return [sys.executable, "-m", "painterly_vae", "train", "--data", str(tiny_data), "--name", name, "--device", "cpu",
            "--no-progress", "--set", f"training.runs_dir={runs}", *sets, *extra]


@pytest.mark.slow
@pytest.mark.parametrize("number, code, name", [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_signal_keeps_the_step_reached_and_resume_continues_it_exactly(tiny_data: Path, tmp_path: Path, number: int,
                                                                        code: int, name: str) -> None:
    runs = tmp_path / "runs"
    job = subprocess.Popen(_train(tiny_data, runs, "stopped", "--steps", "1000000"), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    events = runs / "stopped" / "tensorboard"
    _, stderr = signal_when_ready(  # once some steps are logged
        job, lambda: events.is_dir() and sum(f.stat().st_size for f in events.iterdir()) >= 4000, number,
        "training did not start")
    assert job.returncode == code, stderr[-3000:]
    state = load_checkpoint(runs / "stopped" / "checkpoints" / "last.pt")
    step = state["step"]
    assert step > 0  # before the first periodic checkpoint (there is none for a million steps): the step reached
    assert f"stopped by {name} at step {step} of 1000000; that step is kept in" in stderr
    assert f"continue with: painterly-vae train --resume --name stopped --set training.runs_dir={runs}" in stderr
    assert "Traceback" not in stderr
    target = str(step + 3)
    resumed = subprocess.run(_train(tiny_data, runs, "stopped", "--resume", "--steps", target), capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    straight = subprocess.run(_train(tiny_data, runs, "straight", "--steps", target), capture_output=True, text=True,
                              timeout=300)
    assert straight.returncode == 0, straight.stderr[-3000:]
    a = load_checkpoint(runs / "stopped" / "checkpoints" / "last.pt")
    b = load_checkpoint(runs / "straight" / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == step + 3
    for key, value in b["model"].items():
        assert torch.equal(value, a["model"][key]), key


def test_a_signal_before_the_first_step_keeps_nothing_and_says_so(tmp_path: Path) -> None:
    from painterly_vae.cli.cli import _interrupted
    from painterly_vae.errors import TrainingInterrupted

    said = _interrupted(TrainingInterrupted("Ctrl-C", 0, 500, Path("runs") / "early", kept=False))
    assert said == "stopped by Ctrl-C at step 0 of 500, before any step was trained: nothing was kept (run early has no checkpoint)"
    said = _interrupted(TrainingInterrupted("SIGTERM", 173, 500, Path("runs") / "late", kept=True))
    assert said.endswith("continue with: painterly-vae train --resume --name late")
