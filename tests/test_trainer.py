"""The trainer: only the active encoder changes, the NaN guard, checkpoints and exact resume."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import tiny_config
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from data_tools.processed import ProcessedData
from painterly_vae.cli.train_command import TrainRequest, run_training
from painterly_vae.errors import DataError, TrainingDiverged, UsageError
from painterly_vae.model.encoder_statistics import PerEncoderBatchNorm
from painterly_vae.runtime.checkpoint import load_checkpoint
from painterly_vae.runtime.run_state import RunState
from painterly_vae.training.encoder_pull import EncoderPull
from painterly_vae.training.trainer import Trainer

CPU = torch.device("cpu")


def _trainer(tiny_data: Path, tmp_path: Path, **values: object) -> Trainer:
    return Trainer(tiny_config(**values), ProcessedData.open(tiny_data), tmp_path / "run", CPU)


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in module.state_dict().items())


def test_a_step_changes_only_the_active_encoder_and_the_decoder(tiny_data: Path, tmp_path: Path) -> None:
    trainer = _trainer(tiny_data, tmp_path)
    before = [_snapshot(e) for e in trainer.model.encoders]
    decoder_before = _snapshot(trainer.model.shared_decoder)
    terms = trainer.train_step(1, trainer.batches.batch(1))
    assert terms is not None and torch.isfinite(terms.total)
    assert [_changed(b, e) for b, e in zip(before, trainer.model.encoders)] == [False, True, False]
    assert _changed(decoder_before, trainer.model.shared_decoder)


def test_nonfinite_loss_is_skipped_and_stops_after_k_in_a_row(tiny_data: Path, tmp_path: Path) -> None:
    trainer = _trainer(tiny_data, tmp_path, training__max_nonfinite_steps=3)
    trainer.train_step(0, trainer.batches.batch(0))  # give the optimizers some state
    before = _snapshot(trainer.model)
    poisoned = trainer.batches.batch(0)
    poisoned[0, 0, 0, 0] = float("nan")
    assert trainer.train_step(0, poisoned) is None
    assert trainer.train_step(0, poisoned) is None
    assert not _changed(before, trainer.model), "weights or BatchNorm statistics changed on a skipped step"
    assert trainer.nonfinite.total == 2
    assert trainer.train_step(0, trainer.batches.batch(0)) is not None  # a good step resets the streak
    with pytest.raises(TrainingDiverged, match="not finite for 3 steps in a row"):
        for _ in range(3):
            trainer.train_step(0, poisoned)
    assert trainer.nonfinite.total == 5


def test_checkpoint_round_trip_without_pickle(tiny_data: Path, tmp_path: Path) -> None:
    trainer = _trainer(tiny_data, tmp_path)
    for step in range(3):
        trainer.train_step(step % 3, trainer.batches.batch(step % 3))
        trainer.step += 1
    path = trainer.save("last.pt")
    state = load_checkpoint(path)  # torch.load(weights_only=True) inside
    assert state["config"] == trainer.config.to_dict()
    assert state["artists"] == ["painter-1", "painter-2", "painter-3"]
    fresh = _trainer(tiny_data, tmp_path / "other")
    fresh.load_run_state(RunState.from_checkpoint(state))
    assert fresh.step == 3
    assert not _changed(_snapshot(trainer.model), fresh.model)
    assert fresh.batches.sampler.state_dict() == trainer.batches.sampler.state_dict()


@pytest.mark.parametrize(("shared_epochs", "pull"), [(0.0, 0.0), (0.2, 0.0), (0.0, 0.3)],
                         ids=["paper", "shared-start-ends-at-the-resume", "encoders-pulled-to-their-mean"])
def test_resume_continues_exactly(tiny_data: Path, tmp_path: Path, shared_epochs: float, pull: float) -> None:
    common = {"training.runs_dir": str(tmp_path / "runs"), "training.device": "cpu",
              "training.shared_encoder_epochs": shared_epochs, "training.encoder_pull": pull, **_tiny_values()}
    run_training(TrainRequest(data=tiny_data, name="straight", values={**common, "training.steps": 4}, progress=False))
    run_training(TrainRequest(data=tiny_data, name="split", values={**common, "training.steps": 2}, progress=False))
    run_training(TrainRequest(data=tiny_data, name="split", resume=True, values={"training.runs_dir": common["training.runs_dir"], "training.steps": 4}, progress=False))
    straight = load_checkpoint(tmp_path / "runs" / "straight" / "checkpoints" / "last.pt")
    split = load_checkpoint(tmp_path / "runs" / "split" / "checkpoints" / "last.pt")
    assert split["step"] == straight["step"] == 4
    for key, value in straight["model"].items():
        assert torch.equal(value, split["model"][key]), key
    assert straight["sampler"] == split["sampler"]
    for a, b in zip(straight["encoder_optimizers"], split["encoder_optimizers"]):
        for state_a, state_b in zip(a["state"].values(), b["state"].values()):
            assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)


def test_a_shared_start_trains_one_encoder_for_every_artist_then_each_goes_on_alone(
    tiny_data: Path, tmp_path: Path
) -> None:
    trainer = _trainer(tiny_data, tmp_path, training__shared_encoder_epochs=0.2)
    assert trainer.shared_start.steps == 2  # 0.2 of 30 training paintings in batches of 4
    encoders = trainer.model.encoders
    first = _snapshot(encoders[0])
    for artist in (2, 1):  # whichever artist is scheduled, encoder 0 learns and every slot gets a copy
        slots = [_snapshot(encoder) for encoder in encoders[1:]]
        trainer.train_step(artist, trainer.batches.batch(artist))
        trainer.step += 1
        # not after every step (a hundred copies a step): when the encoders are read
        assert not any(_changed(slot, encoder) for slot, encoder in zip(slots, encoders[1:]))
        saved = trainer.run_state(with_optimizers=False).model
        for encoder in range(1, 3):
            for key in encoders[0].state_dict():
                assert torch.equal(saved[f"encoders.{encoder}.{key}"], saved[f"encoders.0.{key}"]), key
        assert all(not _changed(_snapshot(encoders[0]), encoder) for encoder in encoders[1:])
    assert _changed(first, encoders[0])
    assert not trainer.encoder_optimizers[1].state  # the slots' own optimizers never stepped

    before = [_snapshot(e) for e in encoders]
    trainer.train_step(1, trainer.batches.batch(1))  # step 2: the copies part
    assert [_changed(b, e) for b, e in zip(before, encoders)] == [False, True, False]
    moments = [next(iter(o.state.values()))["exp_avg"] for o in trainer.encoder_optimizers]
    assert torch.equal(moments[0], moments[2]) and moments[0].data_ptr() != moments[2].data_ptr()
    assert not torch.equal(moments[0], moments[1])  # artist 1's encoder went on from the shared moments


def test_while_shared_the_decoder_keeps_each_painters_statistics_in_its_own_row(tiny_data: Path, tmp_path: Path) -> None:
    """Encoder 0 encodes every painter's batch, but the decoder's per-encoder statistics go to the
    batch's painter: at the parting every painter's row has seen its own codes."""
    trainer = _trainer(tiny_data, tmp_path, training__shared_encoder_epochs=0.2, model__decoder_norm="encoder")
    norm = next(m for m in trainer.model.shared_decoder.modules() if isinstance(m, PerEncoderBatchNorm))
    for artist in (2, 1):
        trainer.train_step(artist, trainer.batches.batch(artist))
        trainer.step += 1
    assert norm.num_batches_tracked.tolist() == [0, 1, 1]
    assert not torch.equal(norm.running_mean[2], torch.zeros_like(norm.running_mean[2]))
    assert torch.equal(norm.running_mean[0], torch.zeros_like(norm.running_mean[0]))  # nobody's batch was painter 0's


def test_the_pull_moves_the_stepped_encoder_towards_the_encoders_mean_and_leaves_the_others(
    tiny_data: Path, tmp_path: Path
) -> None:
    """Two runs from the same seed, one step of artist 1: without the pull its encoder lands at
    theta; with the pull at 0.25 it lands a quarter of the way from theta to the mean of the three
    encoders (theta among them); the other encoders and every BatchNorm statistic are the same."""
    free = _trainer(tiny_data, tmp_path / "free")
    pulled = _trainer(tiny_data, tmp_path / "pulled", training__encoder_pull=0.25, training__encoder_pull_mean="equal")
    for trainer in (free, pulled):
        torch.manual_seed(7)  # the same dropout masks and z noise in both steps
        trainer.train_step(1, trainer.batches.batch(1))
    for index in (0, 2):
        assert not _changed(_snapshot(free.model.encoders[index]), pulled.model.encoders[index])
    encoders = [dict(encoder.named_parameters()) for encoder in free.model.encoders]
    moved = dict(pulled.model.encoders[1].named_parameters())
    for name, theta in encoders[1].items():
        mean = torch.stack([weights[name] for weights in encoders]).mean(dim=0)
        torch.testing.assert_close(moved[name], theta + 0.25 * (mean - theta))
        assert not torch.equal(moved[name], theta) or torch.equal(mean, theta)
    for name, buffer in pulled.model.encoders[1].named_buffers():
        assert torch.equal(buffer, dict(free.model.encoders[1].named_buffers())[name]), name


def test_a_pull_to_the_paintings_mean_counts_each_encoder_by_its_painters_paintings() -> None:
    """Fraction 1 puts the stepped encoder at the mean: with 1, 1 and 2 paintings that is (a + b + 2c) / 4."""
    torch.manual_seed(0)
    encoders = torch.nn.ModuleList(torch.nn.Linear(3, 2) for _ in range(3))
    a, b, c = (encoder.weight.detach().clone() for encoder in encoders)
    EncoderPull(1.0, "paintings", [1, 1, 2], [0, 1, 2]).after_step(encoders, stepped=0)
    torch.testing.assert_close(encoders[0].weight, (a + b + 2 * c) / 4)
    assert torch.equal(encoders[1].weight, b) and torch.equal(encoders[2].weight, c)


def test_a_single_encoder_has_nothing_to_share(tiny_data: Path, tmp_path: Path) -> None:
    trainer = _trainer(tiny_data, tmp_path, model__encoders="single", training__shared_encoder_epochs=5.0,
                       training__encoder_pull=0.5)
    assert trainer.shared_start.steps == 0 and trainer.shared_start.describe() == ""
    assert trainer.encoder_pull.fraction == 0 and trainer.encoder_pull.describe() == ""


def test_resume_refuses_to_change_the_model(tiny_data: Path, tmp_path: Path) -> None:
    values = {"training.runs_dir": str(tmp_path / "runs"), "training.steps": 2, **_tiny_values()}
    run_training(TrainRequest(data=tiny_data, name="r", values=values, progress=False))
    with pytest.raises(UsageError, match="cannot change model.latent_dim"):
        run_training(TrainRequest(data=tiny_data, name="r", resume=True, progress=False,
                                  values={"training.runs_dir": values["training.runs_dir"], "training.steps": 4},
                                  assignments=["model.latent_dim=4"]))
    with pytest.raises(UsageError, match=r"already at step 2 \(0.267 epochs\), so --steps 2 trains nothing"):
        run_training(TrainRequest(data=tiny_data, name="r", resume=True, progress=False,
                                  values={"training.runs_dir": values["training.runs_dir"]},
                                  assignments=["training.steps=2"]))
    # a length nobody typed is quoted as the run's own
    with pytest.raises(UsageError, match=r"so the run's training.steps \(2\) trains nothing"):
        run_training(TrainRequest(data=tiny_data, name="r", resume=True, progress=False,
                                  values={"training.runs_dir": values["training.runs_dir"]}))


def test_resume_without_a_name_takes_the_latest_unfinished_run(tiny_data: Path, tmp_path: Path) -> None:
    """A finished run holds its fitted attribution; one stopped before its end does not."""
    import os

    from painterly_vae.runtime.run_state import load_run_state, save_run_state

    runs = tmp_path / "runs"
    values = {"training.runs_dir": str(runs), "training.steps": 2, **_tiny_values()}
    for name in ("stopped", "finished"):
        run_training(TrainRequest(data=tiny_data, name=name, values=values, progress=False))
    stopped = runs / "stopped" / "checkpoints" / "last.pt"
    state = load_run_state(stopped)
    state.clusters = state.dating = None  # what an interrupted run keeps
    save_run_state(stopped, state)
    os.utime(stopped, (1, 1))  # and older than the finished one
    summary = run_training(TrainRequest(resume=True, progress=False,
                                        values={"training.runs_dir": str(runs), "training.steps": 4}))
    assert summary.run_dir == runs / "stopped" and summary.steps == 4
    with pytest.raises(UsageError, match="no unfinished run in .* \\(finished: stopped, finished"):
        run_training(TrainRequest(resume=True, progress=False, values={"training.runs_dir": str(runs), "training.steps": 6}))


def test_validation_reports_kl_and_active_units(tiny_data: Path, tmp_path: Path) -> None:
    trainer = _trainer(tiny_data, tmp_path)
    validation = trainer.validate("val")
    assert validation is not None
    assert set(validation.l1) == {"painter-1", "painter-2", "painter-3"}
    assert validation.kl_per_dimension.shape == (8,)
    assert 0 <= validation.active_units <= 8
    assert validation.kl_total >= 0


def test_validation_leaves_weights_and_batchnorm_statistics_untouched(tiny_data: Path, tmp_path: Path) -> None:
    """Validating between steps must not train: no weight moves, no BatchNorm running mean or
    variance drifts towards the validation paintings, and the next step trains as before."""
    trainer = _trainer(tiny_data, tmp_path)
    trainer.train_step(1, trainer.batches.batch(1))  # BatchNorm statistics away from their initial values
    before = _snapshot(trainer.model)
    assert any("running_mean" in name for name in before)
    assert trainer.validate("val") is not None and trainer.validate("test") is not None
    assert not _changed(before, trainer.model)
    trainer.train_step(2, trainer.batches.batch(2))
    assert trainer.model.training and _changed(before, trainer.model)


def test_image_size_mismatch_is_a_clear_error(tiny_data: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="32 px but model.image_size is 64"):
        _trainer(tiny_data, tmp_path, model__image_size=64)


def _tiny_values() -> dict[str, object]:
    from conftest import TINY

    return dict(TINY)


def test_best_checkpoint_rebuilds_the_model_without_optimizer_state(tiny_data: Path, tmp_path: Path) -> None:
    values = {"training.runs_dir": str(tmp_path / "runs"), "training.steps": 2, **_tiny_values()}
    run_training(TrainRequest(data=tiny_data, name="b", values=values, progress=False))
    best = load_checkpoint(tmp_path / "runs" / "b" / "checkpoints" / "best.pt")
    last = load_checkpoint(tmp_path / "runs" / "b" / "checkpoints" / "last.pt")
    assert "encoder_optimizers" not in best and "encoder_optimizers" in last
    trainer = _trainer(tiny_data, tmp_path)
    trainer.model.load_state_dict(best["model"])
    assert best["config"] == last["config"] and best["best_val_loss"] is not None


def test_best_checkpoint_keeps_the_weights_in_the_half_precision_the_steps_computed_in(tiny_data: Path,
                                                                                      tmp_path: Path) -> None:
    values = {"training.runs_dir": str(tmp_path / "runs"), "training.steps": 2, **_tiny_values(),
              "training.precision": "bf16", "training.eval_every": 1, "training.checkpoint_every": 1}
    run_training(TrainRequest(data=tiny_data, name="h", values=values, progress=False))
    best = load_checkpoint(tmp_path / "runs" / "h" / "checkpoints" / "best.pt")["model"]
    last = load_checkpoint(tmp_path / "runs" / "h" / "checkpoints" / "last.pt")["model"]
    kernels = [name for name, tensor in last.items() if tensor.is_floating_point() and tensor.dim() >= 2]
    assert kernels and all(best[name].dtype == torch.bfloat16 for name in kernels)
    assert all(best[name].dtype == last[name].dtype for name in last if name not in kernels)  # biases, BatchNorm
    bytes_of = lambda state: sum(t.numel() * t.element_size() for t in state.values())  # noqa: E731
    assert bytes_of(best) < 0.6 * bytes_of(last)
    trainer = _trainer(tiny_data, tmp_path)
    trainer.model.load_state_dict(best)  # back into the float32 model
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())


def test_running_sums_log_each_term_under_its_own_name(tmp_path: Path) -> None:
    """What TensorBoard and the progress bar show is each loss term, not its neighbour."""
    from torch.utils.tensorboard import SummaryWriter

    from painterly_vae.model.losses import LossTerms
    from painterly_vae.training.monitoring import RunningSums

    sums = RunningSums(2, torch.device("cpu"))
    for artist, scale in ((0, 1.0), (1, 3.0)):
        sums.add(artist, LossTerms(*(torch.tensor(scale * value) for value in (100.0, 0.1, 2.0, 12.0, 100.0, 0.5, 0.2, 1.5, 0.7, 3.0, 0.25))))
    with SummaryWriter(str(tmp_path)) as writer:
        postfix = sums.write(writer, 1, ["painter-1", "painter-2"])
    assert postfix == {"l1": "0.2000", "kl": "4.000"}  # the mean over both artists' batches
    events = EventAccumulator(str(tmp_path)).Reload()
    assert events.Scalars("train/painter-2/perceptual")[0].value == pytest.approx(1.5)
    assert events.Scalars("train/painter-2/texture")[0].value == pytest.approx(9.0)
    assert events.Scalars("train/painter-2/ssim_loss")[0].value == pytest.approx(0.75)
    assert events.Scalars("train/total")[0].value == pytest.approx(200.0)
