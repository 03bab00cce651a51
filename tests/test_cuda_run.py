"""A run trained on a CUDA GPU opens, evaluates and attributes there: its checkpoint holds the
clusters and the year regression (NumPy estimators) beside the model's tensors. Skipped without a
GPU; run on one with `pytest tests/test_cuda_run.py`."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import train_trunk_run

from painterly_vae.cli.cli import main

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_a_run_trained_on_the_gpu_evaluates_and_attributes_there(
        data64: Path, mobilenet_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = train_trunk_run(data64, mobilenet_file, tmp_path / "runs", "gpu", "training.device=cuda")
    painting = next((data64.parent / "raw" / "painter-1").iterdir())
    assert main(["evaluate", "--run", str(run), "--device", "cuda", "--no-progress"]) == 0
    assert "reconstruction (own encoder)" in capsys.readouterr().out
    assert main(["attribute", str(painting), "--run", str(run), "--device", "cuda"]) == 0
    assert "painter-" in capsys.readouterr().out
