"""Ctrl-C and SIGTERM during training keep the step reached; --resume continues from that exact
step to the weights an uninterrupted run reaches."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
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


@pytest.mark.slow
def test_a_signal_during_the_attributions_fit_keeps_the_weights_and_cluster_fits_later(tiny_data: Path,
                                                                                      tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    job = subprocess.Popen(_train(tiny_data, runs, "fitting", "--steps", "4"), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    log = runs / "fitting" / "train.log"
    try:
        deadline = time.monotonic() + 300
        while not (log.is_file() and "fitting the attribution: encoding train" in log.read_text()):
            assert job.poll() is None and time.monotonic() < deadline, "the attribution's fit did not start"
            time.sleep(0.005)
        # frozen inside the fit, asked to stop, let go: it must stop at its next check, not finish
        job.send_signal(signal.SIGSTOP)
        job.send_signal(signal.SIGINT)
        job.send_signal(signal.SIGCONT)
        let_go = time.monotonic()
        _, stderr = job.communicate(timeout=120)
        took = time.monotonic() - let_go
    finally:
        if job.poll() is None:
            job.kill()
            job.communicate()
    assert job.returncode == 130, stderr[-3000:]
    assert took < 10  # within seconds (a tiny fit's check comes after the next batch)
    assert "stopped by Ctrl-C while fitting the attribution (encoding" in stderr
    assert f"the trained weights are kept in {runs / 'fitting' / 'checkpoints' / 'last.pt'}" in stderr
    assert f"fit it with: painterly-vae cluster --run {runs / 'fitting'}" in stderr
    assert "Traceback" not in stderr
    state = load_checkpoint(runs / "fitting" / "checkpoints" / "last.pt")
    assert state["step"] == 4 and state["clusters"] is None  # the weights of the last step, no attribution
    resumed = subprocess.run(_train(tiny_data, runs, "fitting", "--resume", "--steps", "4"), capture_output=True,
                             text=True, timeout=300)  # nothing left to train: it points at the fit instead
    assert resumed.returncode == 2 and "Traceback" not in resumed.stderr
    assert resumed.stderr.strip().endswith(f"its attribution was never fitted; fit it with: painterly-vae cluster "
                                           f"--run {runs / 'fitting'}")
    fitted = subprocess.run([sys.executable, "-m", "painterly_vae", "cluster", "--run", str(runs / "fitting"),
                             "--device", "cpu", "--no-progress"], capture_output=True, text=True, timeout=300)
    assert fitted.returncode == 0, fitted.stderr[-3000:]
    assert load_checkpoint(runs / "fitting" / "checkpoints" / "last.pt")["clusters"] is not None
    painting = sorted((tiny_data.parent / "raw" / "painter-1").glob("*.jpg"))[0]
    answered = subprocess.run([sys.executable, "-m", "painterly_vae", "attribute", str(painting), "--run",
                               str(runs / "fitting"), "--device", "cpu"], capture_output=True, text=True, timeout=300)
    assert answered.returncode == 0 and "painter-" in answered.stdout, answered.stderr[-3000:]


def test_a_stop_asked_during_the_fit_names_the_stage_it_was_in() -> None:
    from painterly_vae.cli.cli import _fit_interrupted
    from painterly_vae.errors import FitInterrupted
    from painterly_vae.inference.fit_progress import FitProgress
    from painterly_vae.runtime.stop_signals import StopSignals

    with StopSignals() as stop:
        watch = FitProgress(stop, show=False, run_dir=Path("runs") / "many")
        watch.stage("leaving out painter-2 (2 of 3) to measure strangers")
        watch.check()  # nothing asked yet
        signal.raise_signal(signal.SIGTERM)  # recorded, not fatal, while the context holds
        with pytest.raises(FitInterrupted) as stopped:
            watch.stage("calibrating on the validation paintings, and dating")
    assert stopped.value.stage == "leaving out painter-2 (2 of 3) to measure strangers"
    said = _fit_interrupted(stopped.value, "cluster")
    assert said == ("stopped by SIGTERM while fitting the attribution (leaving out painter-2 (2 of 3) to measure "
                    f"strangers); the run's stored attribution is as it was; fit it with: painterly-vae cluster --run "
                    f"{Path('runs') / 'many'}")
