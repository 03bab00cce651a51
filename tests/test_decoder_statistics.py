"""The decoder's BatchNorm statistics kept per encoder (`model.decoder_norm = "encoder"`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_config

from data_tools.processed import ProcessedData
from painterly_vae.inference import explore
from painterly_vae.inference.decoder_statistics import recompute_decoder_statistics
from painterly_vae.model.encoder_statistics import PerEncoderBatchNorm
from painterly_vae.training.trainer import Trainer

CPU = torch.device("cpu")


def test_it_normalises_as_batchnorm_and_keeps_each_encoders_running_statistics_apart() -> None:
    torch.manual_seed(0)
    norm, reference = PerEncoderBatchNorm(4, encoders=3), torch.nn.BatchNorm2d(4)
    bright, dark = torch.randn(8, 4, 5, 5) * 2 + 3, torch.randn(8, 4, 5, 5) * 0.5 - 1
    norm.encoder = 1
    assert torch.allclose(norm(bright), reference(bright), atol=1e-6)  # training: the batch's own statistics
    norm.encoder = 2
    norm(dark)
    assert torch.allclose(norm.running_mean[1], reference.running_mean)
    assert norm.running_mean[2].mean() < 0 < norm.running_mean[1].mean()
    assert torch.equal(norm.running_mean[0], torch.zeros(4))  # an encoder that did not train: untouched
    norm.eval(), reference.eval()
    norm.encoder = 1
    assert torch.allclose(norm(bright), reference(bright), atol=1e-6)  # evaluation: its own encoder's row
    norm.encoder = None  # a code of no one encoder: the mixture of the rows
    mean, var = norm.statistics(None)
    assert torch.allclose(mean, norm.running_mean.mean(0))
    assert (var >= norm.running_var.mean(0)).all()
    norm.train()
    with pytest.raises(RuntimeError, match="one encoder's codes at a time"):
        norm(bright)


def test_training_with_statistics_per_encoder_is_training_with_batchnorm(tiny_data: Path, tmp_path: Path) -> None:
    """The same weights step for step: so a BatchNorm run's weights, with its statistics
    recomputed per encoder, are the run that `decoder_norm = "encoder"` would have trained."""
    runs = {}
    for norm in ("batch", "encoder"):
        trainer = Trainer(tiny_config(**{"model.decoder_norm": norm}), ProcessedData.open(tiny_data),
                          tmp_path / norm, CPU)
        for step in range(4):
            artist = trainer.schedule.artist_at(step)
            trainer.train_step(artist, trainer.batches.batch(artist))
            trainer.step += 1
        runs[norm] = trainer
    weights = {norm: {k: v for k, v in t.model.named_parameters()} for norm, t in runs.items()}
    assert weights["batch"].keys() == weights["encoder"].keys()
    assert all(torch.allclose(weights["batch"][k], weights["encoder"][k], atol=1e-6) for k in weights["batch"])


def test_after_training_each_painter_is_painted_with_its_own_encoders_statistics(tiny_data: Path,
                                                                                   tmp_path: Path) -> None:
    data = ProcessedData.open(tiny_data)
    trainer = Trainer(tiny_config(**{"model.decoder_norm": "encoder"}), data, tmp_path / "run", CPU)
    for step in range(3):
        trainer.train_step(step % 3, trainer.batches.batch(step % 3))
    model = trainer.model
    assert recompute_decoder_statistics(model, data, trainer.inference, batch_size=4)
    norms = [m for m in model.shared_decoder.modules() if isinstance(m, PerEncoderBatchNorm)]
    rows = norms[-1].running_mean
    assert len(rows) == 3 and not torch.allclose(rows[0], rows[1]) and not torch.allclose(rows[1], rows[2])
    assert all(int(n) == 3 for n in norms[-1].num_batches_tracked)  # 12 paintings, batches of 4: a plain average
    again = [norm.running_mean.clone() for norm in norms]
    recompute_decoder_statistics(model, data, trainer.inference, batch_size=4)
    assert all(torch.equal(a, n.running_mean) for a, n in zip(again, norms))  # deterministic
    # a painting crossed through every encoder is decoded with each encoder's statistics
    painting = torch.from_numpy(np.array(data.array(data.artists[0], "train")[:1])).float() / 255
    crossed = explore.cross(model, painting)
    z = explore.encode(model, painting, 1)
    assert torch.allclose(crossed[1:2], explore.decode(model, z, 1))
    assert not torch.allclose(crossed[1:2], explore.decode(model, z, 0))
    assert trainer.run_state().model.keys() == model.state_dict().keys()


def test_a_run_without_statistics_per_encoder_is_left_as_it_is(tiny_data: Path, tmp_path: Path) -> None:
    data = ProcessedData.open(tiny_data)
    trainer = Trainer(tiny_config(), data, tmp_path / "run", CPU)
    before = {k: v.clone() for k, v in trainer.model.shared_decoder.state_dict().items()}
    assert not recompute_decoder_statistics(trainer.model, data, trainer.inference, batch_size=4)
    assert all(torch.equal(before[k], v) for k, v in trainer.model.shared_decoder.state_dict().items())
