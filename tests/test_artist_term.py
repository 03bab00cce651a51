"""The discriminative term on z (loss.artist_weight): which weights it reaches under each
`loss.artist_gradient`, whose BatchNorm statistics it leaves alone, that it separates the
artists, its state through a resume, and runs stored without it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import assert_resumed_exactly, tiny_config

from data_tools.processed import ProcessedData
from painterly_vae.cli.train_command import TrainRequest, run_training
from painterly_vae.errors import ConfigError
from painterly_vae.runtime.checkpoint import load_checkpoint
from painterly_vae.training.trainer import Trainer

CPU = torch.device("cpu")


def _trainer(tiny_data: Path, tmp_path: Path, **values: object) -> Trainer:
    return Trainer(tiny_config(**{"loss__artist_weight": 1.0, **values}), ProcessedData.open(tiny_data),
                   tmp_path / "run", CPU)


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in module.state_dict().items())


def _parameters_changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[name], value) for name, value in module.named_parameters())


@pytest.mark.parametrize("gradient, held", [("own", [0, 0, 0]), ("every", [1, 0, 1])])
def test_only_the_step_s_encoder_steps_and_every_holds_the_others_lessons(tiny_data: Path, tmp_path: Path,
                                                                           gradient: str, held: list[int]) -> None:
    trainer = _trainer(tiny_data, tmp_path, loss__artist_gradient=gradient)
    encoders = [_snapshot(e) for e in trainer.model.encoders]
    head = _snapshot(trainer.artist_term.head)
    terms = trainer.train_step(1, trainer.batches.batch(1))
    assert float(terms.artist) > 0.0
    assert [_parameters_changed(b, e) for b, e in zip(encoders, trainer.model.encoders)] == [False, True, False]
    assert _changed(head, trainer.artist_term.head)
    assert trainer.artist_term.held_steps == held
    assert all(p.grad is None for index in (0, 2) for p in trainer.model.encoders[index].parameters())
    if gradient == "every":
        assert any(g.abs().sum() > 0 for g in trainer.artist_term.held[0].values())
    # the other encoders ran in eval mode: their BatchNorm statistics are still their own artist's
    for index, (before, encoder) in enumerate(zip(encoders, trainer.model.encoders)):
        statistics = {k: v for k, v in encoder.state_dict().items() if "running" in k}
        assert all(torch.equal(before[k], v) for k, v in statistics.items()) == (index != 1), index
        assert encoder.training  # and are back in training mode


def test_the_term_reaches_the_encoders_and_head_never_the_decoder(tiny_data: Path, tmp_path: Path) -> None:
    trainer = _trainer(tiny_data, tmp_path, loss__artist_gradient="every")
    term = trainer.artist_term
    images = trainer.batches.batch(0)
    inputs, output = trainer.model.inputs(images), trainer.model(images, 0)
    from painterly_vae.model.losses import vae_loss

    terms = vae_loss(output.reconstruction, output.target, output.mu, output.logvar, trainer.config.loss)
    with_term = term.with_term(terms, output.mu, 0, inputs.encoder, list(trainer.model.encoders), 0, None)
    (with_term.total - terms.total).backward()  # the reconstruction's gradients cancel: only the term's remain
    assert all(p.grad is None or not p.grad.any() for p in trainer.model.shared_decoder.parameters())
    for encoder in trainer.model.encoders:
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in encoder.parameters())
    assert all(p.grad is not None for p in term.head.parameters())
    assert float(with_term.encoder_loss - terms.encoder_loss) == pytest.approx(float(with_term.artist))


def test_held_lessons_join_the_encoder_s_own_step(tiny_data: Path, tmp_path: Path) -> None:
    """Two runs from the same seed on the same batches; in the second the held gradients are
    dropped before encoder 0's turn: encoder 0 ends elsewhere, so they were used."""
    def encoder_zero_after_two_steps(drop_held: bool) -> dict[str, torch.Tensor]:
        trainer = _trainer(tiny_data, tmp_path, loss__artist_gradient="every", model__encoder_dropout=0.0,
                           model__decoder_dropout=0.0)
        trainer.train_step(1, trainer.batches.batch(1))
        if drop_held:
            trainer.artist_term.held[0], trainer.artist_term.held_steps[0] = {}, 0
        trainer.train_step(0, trainer.batches.batch(0))
        assert trainer.artist_term.held_steps[0] == 0  # released at its turn
        return _snapshot(trainer.model.encoders[0])

    with_held, without = encoder_zero_after_two_steps(False), encoder_zero_after_two_steps(True)
    assert any(not torch.equal(with_held[k], without[k]) for k in with_held if "running" not in k)


def test_each_artist_weighs_in_inversely_to_its_share_of_the_steps(tiny_data: Path, tmp_path: Path) -> None:
    trainer = _trainer(tiny_data, tmp_path, training__ratio="1:2:5")
    assert trainer.artist_term.artist_weights == pytest.approx([8 / 3, 8 / 6, 8 / 15])  # 1 x 8/3 = 2 x 8/6 = 5 x 8/15


def test_the_term_makes_z_name_the_artist(tiny_data: Path, tmp_path: Path) -> None:
    """A few dozen steps with labels: the head names the artists of training batches better than chance."""
    trainer = _trainer(tiny_data, tmp_path, loss__artist_weight=5.0, loss__artist_gradient="every")
    losses = []
    for step in range(36):
        trainer.step = step
        artist = step % 3
        losses.append(float(trainer.train_step(artist, trainer.batches.batch(artist)).artist))
    assert sum(losses[-6:]) / 6 < 0.8 * sum(losses[:6]) / 6  # chance is log 3 = 1.10


def test_a_shared_start_leaves_the_term_off(tiny_data: Path, tmp_path: Path) -> None:
    trainer = _trainer(tiny_data, tmp_path, training__shared_encoder_epochs=100.0)
    head = _snapshot(trainer.artist_term.head)
    terms = trainer.train_step(2, trainer.batches.batch(2))
    assert float(terms.artist) == 0.0 and not _changed(head, trainer.artist_term.head)


def test_the_setting_is_checked() -> None:
    with pytest.raises(ConfigError, match="loss.artist_gradient"):
        tiny_config(loss__artist_weight=1.0, loss__artist_gradient="all").validate()
    with pytest.raises(ConfigError, match="loss.artist_weight"):
        tiny_config(loss__artist_weight=-1.0).validate()


def test_resume_restores_the_head_and_its_optimizer_exactly(tiny_data: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    common = {"training.runs_dir": str(runs), "training.device": "cpu", "loss.artist_weight": 1.0,
              "loss.artist_gradient": "every", "model.image_size": 32, "model.channels": [8, 16],
              "model.latent_dim": 8, "training.batch_size": 4}
    run_training(TrainRequest(data=tiny_data, name="straight", values={**common, "training.steps": 4}, progress=False))
    run_training(TrainRequest(data=tiny_data, name="split", values={**common, "training.steps": 2}, progress=False))
    run_training(TrainRequest(data=tiny_data, name="split", resume=True, progress=False,
                              values={"training.runs_dir": str(runs), "training.steps": 4}))
    straight = load_checkpoint(runs / "straight" / "checkpoints" / "last.pt")
    split = load_checkpoint(runs / "split" / "checkpoints" / "last.pt")
    assert_resumed_exactly(straight, split, "artist_head")
    assert straight["artist_held"]["steps"] == split["artist_held"]["steps"]
    for held_a, held_b in zip(straight["artist_held"]["gradients"], split["artist_held"]["gradients"], strict=True):
        assert held_a.keys() == held_b.keys() and all(torch.equal(held_a[k], held_b[k]) for k in held_a)
    assert "artist_head" not in load_checkpoint(runs / "straight" / "checkpoints" / "best.pt")


def test_a_run_without_the_head_resumes_with_one_started_afresh(tiny_data: Path, tmp_path: Path) -> None:
    plain = Trainer(tiny_config(), ProcessedData.open(tiny_data), tmp_path / "a", CPU)
    plain.train_step(0, plain.batches.batch(0))
    state = plain.run_state()
    assert state.artist_head is None and plain.artist_term is None
    with_term = _trainer(tiny_data, tmp_path / "b")
    fresh = _snapshot(with_term.artist_term.head)
    with_term.load_run_state(state)
    assert not _changed(fresh, with_term.artist_term.head)
