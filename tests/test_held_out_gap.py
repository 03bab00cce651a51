"""experiments/decoder/held_out_gap.py: each painter's L1 on its training and validation paintings, which
experiments/record.md quotes for the per-artist run against its single-encoder twin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import load_experiment_script, train_trunk_run

from data_tools.processed import ProcessedData
from painterly_vae.evaluation.evaluation_set import encode_evaluation_set
from painterly_vae.evaluation.reconstructions import Reconstructions
from painterly_vae.inference.trained_run import open_run

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "decoder" / "held_out_gap.py"


@pytest.fixture(scope="module")
def held_out_gap():
    return load_experiment_script(SCRIPT)


def test_the_validation_l1_is_what_evaluate_measures(held_out_gap, trunk_run: dict[str, Path], data64: Path) -> None:
    """Measured alike: the script's validation L1 of each painter is the mean L1 that evaluate's
    reconstructions give the same paintings, and its training L1 reads the training paintings."""
    run = open_run(trunk_run["run"], torch.device("cpu"))
    data = ProcessedData.open(data64)
    losses = held_out_gap.painter_losses(run, data, paintings=5)
    reconstructions = Reconstructions(run, encode_evaluation_set(run, data, "val", False))
    l1, labels = reconstructions.per_painting()["l1"], reconstructions.labels
    for artist, name in enumerate(run.artists):
        assert losses[name].training_paintings == data.count(name, "train")
        assert losses[name].val_l1 == pytest.approx(float(np.mean(l1[labels == artist])), rel=1e-5)
        assert 0 < losses[name].train_l1 < 1 and losses[name].gap == losses[name].val_l1 - losses[name].train_l1


def test_the_table_and_the_picture_name_each_run_and_its_encoders(trunk_run: dict[str, Path], data64: Path) -> None:
    twin = train_trunk_run(data64, trunk_run["weights"], trunk_run["root"] / "runs", "gap-twin", "model.encoders=single")
    out = trunk_run["root"] / "gap.png"
    result = subprocess.run([sys.executable, str(SCRIPT), str(trunk_run["run"]), str(twin), "--data", str(data64),
                             "--paintings", "5", "--out", str(out)], capture_output=True, text=True, check=True)
    rows = [line.split() for line in result.stdout.splitlines()[1:] if not line.startswith("picture")]
    assert [row[0] for row in rows] == ["trunk"] * 3 + ["gap-twin"] * 3
    for row in rows:
        train_l1, val_l1, gap = (float(cell) for cell in row[3:])
        assert gap == pytest.approx(val_l1 - train_l1, abs=2e-4)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
