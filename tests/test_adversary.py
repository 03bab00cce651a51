"""The adversarial term (loss.adversarial_weight): which weights each loss reaches, the
discriminator's state through a resume, a non-finite discriminator step, and older runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import assert_resumed_exactly, tiny_config

from data_tools.processed import ProcessedData
from painterly_vae.cli.train_command import TrainRequest, run_training
from painterly_vae.model.discriminator import PatchDiscriminator, adaptive_weight
from painterly_vae.runtime.checkpoint import load_checkpoint
from painterly_vae.training.trainer import Trainer

CPU = torch.device("cpu")
ADVERSARIAL = {"loss__adversarial_weight": 0.5, "loss__discriminator_channels": [8, 16]}


def _trainer(tiny_data: Path, tmp_path: Path, **values: object) -> Trainer:
    return Trainer(tiny_config(**{**ADVERSARIAL, **values}), ProcessedData.open(tiny_data), tmp_path / "run", CPU)


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in module.state_dict().items())


def test_the_discriminator_judges_patches() -> None:
    logits = PatchDiscriminator([8, 16, 32])(torch.rand(2, 3, 64, 64))
    assert logits.shape == (2, 1, 7, 7)  # three halvings of 64 px, then a 4x4 convolution


def test_each_loss_reaches_its_own_weights_and_no_others(tiny_data: Path, tmp_path: Path) -> None:
    trainer = _trainer(tiny_data, tmp_path)
    adversary = trainer.adversary
    images = trainer.batches.batch(1)
    output = trainer.model(images, 1)
    # the decoder's adversarial term: gradients for the decoder and the encoder, none for the discriminator
    adversary.discriminator.zero_grad(set_to_none=True)
    from painterly_vae.model.losses import vae_loss

    terms = vae_loss(output.reconstruction, output.target, output.mu, output.logvar, trainer.config.loss)
    from painterly_vae.training.adversary import last_layer_weight

    with_term = adversary.with_decoder_term(terms, output.reconstruction, last_layer_weight(trainer.model.shared_decoder),
                                            None)
    (with_term.total - terms.total).backward()
    assert all(p.grad is None for p in adversary.discriminator.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in trainer.model.shared_decoder.parameters())
    assert float(with_term.adversarial) != 0.0
    # the discriminator's step: only the discriminator moves
    trainer.model.zero_grad(set_to_none=True)
    before, model_before = _snapshot(adversary.discriminator), _snapshot(trainer.model)
    loss = adversary.step(output.target, output.reconstruction, trainer.grad_scaler, None)
    assert loss is not None and _changed(before, adversary.discriminator) and not _changed(model_before, trainer.model)
    assert all(p.grad is None for p in trainer.model.parameters())


def test_a_training_step_with_the_term_moves_the_decoder_encoder_and_discriminator(tiny_data: Path, tmp_path: Path) -> None:
    trainer = _trainer(tiny_data, tmp_path, loss__adversarial_start_step=1)
    discriminator = _snapshot(trainer.adversary.discriminator)
    terms = trainer.train_step(0, trainer.batches.batch(0))  # step 0: before the start step, no adversary
    assert float(terms.adversarial) == 0.0 and not _changed(discriminator, trainer.adversary.discriminator)
    trainer.step = 1
    encoders = [_snapshot(e) for e in trainer.model.encoders]
    terms = trainer.train_step(2, trainer.batches.batch(2))
    assert float(terms.adversarial) != 0.0 and float(terms.discriminator) > 0.0
    assert _changed(discriminator, trainer.adversary.discriminator)
    assert [_changed(b, e) for b, e in zip(encoders, trainer.model.encoders)] == [False, False, True]


def test_the_adaptive_weight_balances_the_two_gradients() -> None:
    layer = torch.nn.Parameter(torch.ones(3))
    reconstruction = (layer * 4).sum()  # gradient norm 4 * sqrt(3)
    adversarial = (layer * 0.5).sum()  # gradient norm 0.5 * sqrt(3)
    assert float(adaptive_weight(reconstruction, adversarial, layer)) == pytest.approx(8.0, rel=1e-3)


def test_a_nonfinite_discriminator_step_is_skipped(tiny_data: Path, tmp_path: Path) -> None:
    trainer = _trainer(tiny_data, tmp_path)
    adversary = trainer.adversary
    images = trainer.model.inputs(trainer.batches.batch(0)).target
    before = _snapshot(adversary.discriminator)
    poisoned = images.clone()
    poisoned[0, 0, 0, 0] = float("nan")
    assert adversary.step(images, poisoned, trainer.grad_scaler, None) is None
    assert not _changed(before, adversary.discriminator)
    assert adversary.step(images, images.flip(-1), trainer.grad_scaler, None) is not None


def test_resume_restores_the_discriminator_and_its_optimizer_exactly(tiny_data: Path, tmp_path: Path) -> None:
    common = {"training.runs_dir": str(tmp_path / "runs"), "training.device": "cpu",
              "loss.adversarial_weight": 0.5, "loss.discriminator_channels": [8, 16],
              **{k.replace("__", "."): v for k, v in {"model__image_size": 32, "model__channels": [8, 16],
                                                       "model__latent_dim": 8, "training__batch_size": 4}.items()}}
    run_training(TrainRequest(data=tiny_data, name="straight", values={**common, "training.steps": 4}, progress=False))
    run_training(TrainRequest(data=tiny_data, name="split", values={**common, "training.steps": 2}, progress=False))
    run_training(TrainRequest(data=tiny_data, name="split", resume=True, progress=False,
                              values={"training.runs_dir": common["training.runs_dir"], "training.steps": 4}))
    straight = load_checkpoint(tmp_path / "runs" / "straight" / "checkpoints" / "last.pt")
    split = load_checkpoint(tmp_path / "runs" / "split" / "checkpoints" / "last.pt")
    assert_resumed_exactly(straight, split, "discriminator")
    best = load_checkpoint(tmp_path / "runs" / "straight" / "checkpoints" / "best.pt")
    assert "discriminator" not in best  # attribution needs none of it


def test_a_run_without_a_discriminator_resumes_with_one_started_afresh(tiny_data: Path, tmp_path: Path) -> None:
    """Runs stored before the term existed hold no discriminator: resuming with the term on starts one."""
    plain = Trainer(tiny_config(), ProcessedData.open(tiny_data), tmp_path / "a", CPU)
    plain.train_step(0, plain.batches.batch(0))
    state = plain.run_state()
    assert state.discriminator is None
    adversarial = _trainer(tiny_data, tmp_path / "b")
    fresh = _snapshot(adversarial.adversary.discriminator)
    adversarial.load_run_state(state)
    assert not _changed(fresh, adversarial.adversary.discriminator)
