"""The command line end to end, in a temporary directory, as a user would run it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

TINY_SETS = [arg for name, value in TINY.items() for arg in ("--set", f"{name}={value}")]


def painterly(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "painterly_vae", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_train_end_to_end_writes_events_checkpoints_and_config(tiny_data: Path, tmp_path: Path) -> None:
    result = painterly("train", "--data", str(tiny_data), "--name", "e2e", "--ratio", "2:1:1", "--steps", "6",
                       "--device", "cpu", "--no-progress", *TINY_SETS, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run = tmp_path / "runs" / "e2e"
    assert "Training finished" in result.stdout and "images/s" in result.stdout
    assert re.search(r"attribution +concat: \d+\.\d% top-1, \d+\.\d% balanced on \d+ validation paintings", result.stdout)
    assert (run / "checkpoints" / "last.pt").is_file() and (run / "checkpoints" / "best.pt").is_file()
    assert 'ratio = "2:1:1"' in (run / "config.toml").read_text()
    assert "finished at step 6" in (run / "train.log").read_text()
    events = EventAccumulator(str(run / "tensorboard"), size_guidance={"images": 0, "scalars": 0}).Reload()
    scalars = set(events.Tags()["scalars"])
    assert {"train/l1", "train/kl", "train/total", "train/painter-1/l1", "train/painter-1/kl",
            "train/learning_rate/encoder", "val/loss", "val/active_units", "val/kl_total_nats"} <= scalars
    assert "reconstructions/painter-3" in events.Tags()["images"]
    assert len(events.Scalars("train/painter-1/l1")) >= 3  # ratio 2:1:1 over 6 steps: painter-1 trains 3 times

    assert (run / "train.log").read_text().count("memory: ") == 1  # freed memory kept for the next step (CPU)

    resumed = painterly("train", "--resume", "--name", "e2e", "--steps", "8", "--no-progress",
                        "--set", "training.keep_freed_memory=false", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "8 (2 this session)" in resumed.stdout
    assert (run / "train.log").read_text().count("memory: ") == 1  # switched off for the resumed session


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ratio", "2:5"], "has 2 number(s) but the data has 3 artists"),
        (["--ratio", "0:1:1"], "positive"),
        (["--set", "model.latnt_dim=3"], "unknown config key model.latnt_dim"),
        (["--set", "model.image_size=30"], "model.image_size: 30 is not divisible by 2^2"),
        (["--set", "model.decoder_dropout=-0.5"], "model.decoder_dropout"),
        (["--steps", "lots"], "invalid int value"),
        (["--device", "cuda:7"], "cuda"),
    ],
)
def test_usage_mistakes_exit_2_with_one_line(tiny_data: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = painterly("train", "--data", str(tiny_data), "--steps", "1", *TINY_SETS, *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").glob("*/checkpoints/*.pt"))


def test_missing_data_says_what_to_do(tmp_path: Path) -> None:
    result = painterly("train", "--data", str(tmp_path / "nothing"), cwd=tmp_path)
    assert result.returncode == 2
    assert "run `painterly-vae prepare` first" in result.stderr


def test_resume_without_runs_is_a_clear_error(tmp_path: Path) -> None:
    result = painterly("train", "--resume", cwd=tmp_path)
    assert result.returncode == 2
    assert "no unfinished run in runs to resume: train one first" in result.stderr


def test_synth_then_prepare_from_the_command_line(tmp_path: Path) -> None:
    synth = painterly("synth", "--artists", "2", "--per-artist", "12", "--size", "48", "--out", "raw", cwd=tmp_path)
    assert synth.returncode == 0, synth.stderr
    assert "synth" in synth.stderr and "24/24" in synth.stderr  # a progress bar: 200 per artist take minutes
    (tmp_path / "raw" / "painter-1" / "notes.jpg").write_text("not a picture")
    args = ("prepare", "raw", "--out", "processed", "--size", "32", "--min-size", "32", "--no-progress")
    first = painterly(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "not-an-image" in first.stdout and "painter-1" in first.stdout and "images/s" in first.stdout
    assert (tmp_path / "processed" / "index.json").is_file()
    again = painterly(*args, cwd=tmp_path)
    assert again.returncode == 0 and "up to date" in again.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["prepare", "nowhere"], "nowhere is not a folder"),
        (["prepare", ".", "--fit", "stretch"], "invalid choice: 'stretch'"),
        (["prepare", ".", "--split", "0.5,0.5"], "--split '0.5,0.5' must be three numbers"),
        (["prepare", ".", "--size", "0"], "0 must be positive"),
        (["synth", "--artists", "none"], "'none' is not a whole number"),
    ],
)
def test_data_command_mistakes_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = painterly(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    import os
    import stat

    from data_tools.atomic import atomic_write_bytes

    atomic_write_bytes(tmp_path / "report.json", b"{}")
    mode = stat.S_IMODE((tmp_path / "report.json").stat().st_mode)
    mask = os.umask(0o022)
    os.umask(mask)
    assert mode == 0o666 & ~mask


def test_every_command_has_its_function() -> None:
    """The parser's subcommands and the functions that run them are one set (cli.HANDLERS)."""
    import argparse

    from painterly_vae.cli.cli import HANDLERS
    from painterly_vae.cli.parser import build_parser

    commands = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    assert set(commands.choices) == set(HANDLERS)
