"""docs/decoder/held_out_gap.py: the per-painter training and validation L1 that docs/results.md
quotes for the per-artist run against its single-encoder twin, read from real TensorBoard events."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "decoder" / "held_out_gap.py"


def _run(root: Path, name: str, encoders: str, late_train: float, val: float) -> Path:
    """A run folder whose events log painter `a`'s training L1 at 1.0 for the first 80 of 100
    steps and at `late_train` after, and one validation L1 `val` after a worse earlier one."""
    run = root / name
    run.mkdir()
    (run / "config.toml").write_text(f'[model]\nencoders = "{encoders}"\n', encoding="utf-8")
    with SummaryWriter(str(run / "tensorboard")) as writer:
        for step in range(0, 101, 10):
            writer.add_scalar("train/l1", 1.0, step)
            writer.add_scalar("train/a/l1", 1.0 if step < 80 else late_train, step)
        writer.add_scalar("val/a/l1", 2.0, 50)
        writer.add_scalar("val/a/l1", val, 100)
    return run


def test_the_gap_is_the_last_validation_minus_the_late_training_loss(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "index.json").write_text(json.dumps({"counts": {"a": {"train": 63, "val": 8, "test": 8}}}))
    per_artist = _run(tmp_path, "per-artist", "per-artist", late_train=0.5, val=0.6)
    twin = _run(tmp_path, "twin", "single", late_train=0.7, val=0.6)
    out = tmp_path / "gap.png"
    result = subprocess.run([sys.executable, str(SCRIPT), str(per_artist), str(twin), "--data", str(data),
                             "--out", str(out)], capture_output=True, text=True, check=True)
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.split()[1:2] == ["a"]}
    assert rows["per-artist"][2:] == ["63", "0.5000", "0.6000", "+0.1000"]  # only steps 80-100 count for training
    assert rows["twin"][2:] == ["63", "0.7000", "0.6000", "-0.1000"]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_run_without_per_painter_losses_is_named(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "index.json").write_text(json.dumps({"counts": {"b": {"train": 5, "val": 1, "test": 1}}}))
    run = _run(tmp_path, "run", "per-artist", late_train=0.5, val=0.6)  # logs painter a, not b
    result = subprocess.run([sys.executable, str(SCRIPT), str(run), "--data", str(data)], capture_output=True, text=True)
    assert result.returncode != 0 and "no per-painter L1 for b" in result.stderr
