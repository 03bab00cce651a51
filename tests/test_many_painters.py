"""A run of many painters end to end, as a user runs it: 24 tiny painters trained, fitted (strangers
measured on a limited number of them, `clustering.left_out_painters`), asked, and evaluated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY

from data_tools.prepare import PrepareOptions, prepare
from data_tools.processed import ProcessedData
from data_tools.synthetic import write_synthetic_raw

PAINTERS = 24
LEFT_OUT = 6


def painterly(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "painterly_vae", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_a_run_of_many_painters_trains_answers_and_evaluates(tmp_path: Path) -> None:
    raw = write_synthetic_raw(tmp_path / "raw", artists=PAINTERS, per_artist=12, size=40, seed=3)
    data = prepare(raw, tmp_path / "data", PrepareOptions(size=32, min_size=32, workers=0), progress=False).out
    painters = ProcessedData.open(data).artists
    assert len(painters) == PAINTERS
    sets = [arg for name, value in {**TINY, "clustering.left_out_painters": LEFT_OUT}.items()
            for arg in ("--set", f"{name}={value}")]
    trained = painterly("train", "--data", str(data), "--name", "many", "--ratio", "auto", "--steps", "48",
                        "--device", "cpu", "--no-progress", *sets, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert "Training finished" in trained.stdout
    log = (tmp_path / "runs" / "many" / "train.log").read_text()
    assert log.count("to measure strangers") == LEFT_OUT  # six folds, not twenty-four
    assert f"({LEFT_OUT} of {LEFT_OUT}) to measure strangers" in log

    painting = sorted((raw / painters[-1]).glob("*.jpg"))[0]
    answered = painterly("attribute", str(painting), "--run", "many", "--json", cwd=tmp_path)
    assert answered.returncode == 0, answered.stderr
    answer = json.loads(answered.stdout)
    assert answer["among"] == painters
    assert answer["paintings"][0]["ranking"][0]["artist"] in painters
    assert answer["strangers_pass_rate"] is not None
    plain = painterly("attribute", str(painting), "--run", "many", cwd=tmp_path)
    assert f"measured leaving each of {LEFT_OUT} of its {PAINTERS} painters out in turn" in plain.stdout

    evaluated = painterly("evaluate", "--run", "many", "--no-progress", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert f"leaving each of {LEFT_OUT} of its {PAINTERS} painters out in turn (validation)" in evaluated.stdout
    report = json.loads((tmp_path / "runs" / "many" / "report.json").read_text())
    assert report["artists"] == painters
    assert 0.0 <= report["attribution"]["top1"] <= 1.0
