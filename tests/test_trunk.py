"""Encoders that see through a frozen pretrained trunk: shapes, what a step may change, the
feature cache, the weights record in checkpoints, and `attribute` refusing other weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_config

from data_tools.processed import ProcessedData
from painterly_vae.cli.cli import main
from painterly_vae.cli.evaluation_summary import print_evaluation
from painterly_vae.cli.train_command import train_and_fit_clusters
from painterly_vae.errors import UsageError
from painterly_vae.inference.trained_run import open_run, split_views
from painterly_vae.model.pretrained import sha256_of
from painterly_vae.model.trunk_cache import CACHE_DIR, RECORD_FILE, TrunkCache
from painterly_vae.runtime.checkpoint import FORMAT_NAME, load_checkpoint
from painterly_vae.training.trainer import Trainer

CPU = torch.device("cpu")


def _config(data: Path, weights: Path, tmp_path: Path, **values: object):
    settings = {"model__trunk": "mobilenet_v2", "model__trunk_layer": "block6", "model__trunk_channels": [16],
                "model__trunk_image_size": 64, "networks__mobilenet_v2__weights": str(weights),
                "data__path": str(data), "training__runs_dir": str(tmp_path / "runs"), "training__steps": 4}
    settings.update(values)
    return tiny_config(**settings)


def _trainer(data: Path, weights: Path, tmp_path: Path, **values: object) -> Trainer:
    config = _config(data, weights, tmp_path, **values)
    return Trainer(config, ProcessedData.open(data), tmp_path / "run", CPU)


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_encoders_read_the_trunks_maps_and_the_decoder_paints_pixels(data64: Path, mobilenet_file: Path, tmp_path: Path) -> None:
    trainer = _trainer(data64, mobilenet_file, tmp_path, training__trunk_cache=False)
    model = trainer.model
    assert model.encoder_input_shape() == (32, 8)  # block6: 32 channels at 1/8 of 64 px
    inputs = model.inputs(torch.rand(2, 3, 64, 64))
    assert inputs.encoder.shape == (2, 32, 8, 8) and inputs.target.shape == (2, 3, 32, 32)
    assert not any(k.startswith("trunk") for k in model.state_dict())  # frozen, recorded, never saved
    trunk_before = _snapshot(model.trunk)
    encoders_before = [_snapshot(e) for e in model.encoders]
    model.train()  # the trunk stays in eval mode: its BatchNorm statistics must not move
    assert not model.trunk.training
    terms = trainer.train_step(2, trainer.next_inputs(2))
    assert terms is not None and torch.isfinite(terms.total)
    assert all(torch.equal(v, model.trunk.state_dict()[k]) for k, v in trunk_before.items())
    changed = [any(not torch.equal(b[k], v) for k, v in e.state_dict().items()) for b, e in zip(encoders_before, model.encoders)]
    assert changed == [False, False, True]


@pytest.mark.parametrize("pixels, scale", [(False, 1), (True, 1), (True, 2)])
def test_the_cached_path_gives_the_loss_of_the_uncached_one(data64: Path, mobilenet_file: Path, tmp_path: Path,
                                                            pixels: bool, scale: int) -> None:
    """With `model.encoder_pixels` too: the cached maps and the painting's pixels beside them
    (at the maps' size, or twice it folded into channels)."""
    values = {"model__encoder_pixels": pixels, "model__encoder_pixels_scale": scale, "training__precision": "fp32"}
    cached = _trainer(data64, mobilenet_file, tmp_path / "a", training__trunk_cache=True, **values)
    plain = _trainer(data64, mobilenet_file, tmp_path / "b", training__trunk_cache=False, **values)
    assert cached.model.encoder_input_shape() == (32 + 3 * scale**2 * pixels, 8)  # block6's 32 maps (and R, G, B) at 8 px
    cached.build_trunk_cache(progress=False)
    assert plain.trunk_cache is None and cached.trunk_cache is not None
    for step in range(3):  # the same seed draws the same paintings and flips for both
        artist = step % 3
        torch.manual_seed(step)
        a = cached.train_step(artist, cached.next_inputs(artist))
        torch.manual_seed(step)
        b = plain.train_step(artist, plain.next_inputs(artist))
        assert float(a.total.detach()) == pytest.approx(float(b.total.detach()), rel=2e-3)  # float16 storage of the maps
        assert float(a.kl) == pytest.approx(float(b.kl), rel=2e-3)


def test_finer_pixels_lie_beside_the_maps_each_patch_folded_into_channels(data64: Path, mobilenet_file: Path,
                                                                         tmp_path: Path) -> None:
    """`model.encoder_pixels_scale = 2`: the encoders read the painting at 16 px beside block6's
    8 px maps, each 2 x 2 patch as 12 channels (every pixel of it, none averaged away)."""
    model = _trainer(data64, mobilenet_file, tmp_path, training__trunk_cache=False, model__encoder_pixels=True,
                     model__encoder_pixels_scale=2).model
    images = torch.rand(2, 3, 64, 64)
    encoder = model.inputs(images).encoder
    assert encoder.shape == (2, 32 + 12, 8, 8)
    pixels = images.view(2, 3, 16, 4, 16, 4).mean((3, 5)) * 2 - 1  # 16 px, each the mean of its 4 x 4 block
    # green (colour 1) pixel (i, j) = (1, 0) of the patch at map position (3, 5) is pixel (7, 10) at 16 px
    torch.testing.assert_close(encoder[:, 32 + 4 * 1 + 2 * 1 + 0, 3, 5], pixels[:, 1, 7, 10])
    torch.testing.assert_close(encoder[:, 32:].reshape(2, 3, 2, 2, 8, 8).permute(0, 1, 4, 2, 5, 3).reshape(2, 3, 16, 16),
                               pixels)
    torch.testing.assert_close(encoder[:, :32], model.trunk_features(images))


def test_the_cache_is_stored_once_beside_the_data_and_keyed_by_the_weights(data64: Path, mobilenet_file: Path,
                                                                             tmp_path: Path) -> None:
    first = _trainer(data64, mobilenet_file, tmp_path / "a")
    first.build_trunk_cache(progress=False)
    folder = first.trunk_cache.folder
    assert folder is not None and folder.parent == data64 / CACHE_DIR and (folder / RECORD_FILE).is_file()
    maps = folder / "painter-1" / "train-mirrored.npy"
    stamp = maps.stat().st_mtime_ns
    second = _trainer(data64, mobilenet_file, tmp_path / "b")
    second.build_trunk_cache(progress=False)
    assert second.trunk_cache.folder == folder and maps.stat().st_mtime_ns == stamp  # read, not recomputed
    torch.testing.assert_close(torch.from_numpy(second.trunk_cache.mirrored[0]), torch.from_numpy(first.trunk_cache.mirrored[0]))
    state = torch.load(mobilenet_file, weights_only=True)
    state["features.0.0.weight"] = state["features.0.0.weight"] * 2
    other = tmp_path / "other.pth"
    torch.save(state, other)
    third = _trainer(data64, other, tmp_path / "c")
    third.build_trunk_cache(progress=False)
    assert third.trunk_cache.folder != folder


def test_the_fit_encodes_the_training_paintings_from_the_cache_as_from_the_trunk(data64: Path, mobilenet_file: Path,
                                                                                 tmp_path: Path) -> None:
    trainer = _trainer(data64, mobilenet_file, tmp_path / "a")
    trainer.build_trunk_cache(progress=False)
    model, data, settings = trainer.model, trainer.data, trainer.inference
    from_trunk, labels = split_views(model, data, "train", settings)
    cached, cached_labels = split_views(model, data, "train", settings, cache=trainer.trunk_cache)
    np.testing.assert_array_equal(cached_labels, labels)
    np.testing.assert_allclose(cached.gram, from_trunk.gram, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(cached.style, from_trunk.style, rtol=1e-4, atol=1e-5)
    # the encoders read the maps as the steps did, in float16: z moves by a rounding, not more
    assert np.abs(cached.mu - from_trunk.mu).max() < 0.01 * np.abs(from_trunk.mu).max()
    np.testing.assert_allclose(cached.l1, from_trunk.l1, rtol=1e-2)
    # `cluster` opens what training stored, and computes nothing where a part is missing
    stored = TrunkCache.stored(model, data)
    assert stored is not None
    np.testing.assert_array_equal(stored.statistics[1][1], trainer.trunk_cache.statistics[1][1])
    (trainer.trunk_cache.folder / "painter-1" / "train-gram.npy").unlink()  # a cache from before the statistics
    assert TrunkCache.stored(model, data) is None
    rebuilt = TrunkCache.build(model, data, settings, progress=False)
    np.testing.assert_allclose(rebuilt.statistics[0][1], trainer.trunk_cache.statistics[0][1], rtol=1e-5, atol=1e-6)
    assert TrunkCache.stored(model, data) is not None


def test_the_checkpoint_records_each_network_by_name_and_sha256(trunk_run: dict[str, Path]) -> None:
    state = load_checkpoint(trunk_run["run"] / "checkpoints" / "last.pt")
    record = state["feature_networks"]["mobilenet_v2"]
    assert record["sha256"] == sha256_of(trunk_run["weights"]) and record["weights"] == str(trunk_run["weights"])
    assert record["padding"] == "symmetric" and record["input_scaling"] == "imagenet"
    best = load_checkpoint(trunk_run["run"] / "checkpoints" / "best.pt")
    assert best["feature_networks"] == state["feature_networks"]


def test_attribute_refuses_other_weights_and_takes_the_right_file_from_elsewhere(trunk_run: dict[str, Path], tmp_path: Path,
                                                                                  capsys: pytest.CaptureFixture) -> None:
    run, weights, painting = str(trunk_run["run"]), trunk_run["weights"], str(trunk_run["painting"])
    assert main(["attribute", painting, "--run", run]) == 0
    moved = tmp_path / "moved.pth"
    shutil.move(weights, moved)
    try:
        capsys.readouterr()
        assert main(["attribute", painting, "--run", run]) == 2
        err = capsys.readouterr().err
        assert "networks.mobilenet_v2.weights: no file at" in err and "Traceback" not in err
        other = tmp_path / "other.pth"
        state = torch.load(moved, weights_only=True)
        state["features.0.0.weight"] = torch.zeros_like(state["features.0.0.weight"])
        torch.save(state, other)
        assert main(["attribute", painting, "--run", run, "--weights", f"mobilenet_v2={other}"]) == 2
        err = capsys.readouterr().err
        assert "was trained with mobilenet_v2 weights of SHA-256" in err and "--weights mobilenet_v2=FILE" in err
        assert len(err.strip().splitlines()) == 1
        assert main(["attribute", painting, "--run", run, "--weights", f"mobilenet_v2={moved}"]) == 0
        assert "painter-" in capsys.readouterr().out
    finally:
        shutil.move(moved, weights)


def test_evaluate_sets_the_networks_own_features_beside_the_vae(trunk_run: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    run = open_run(trunk_run["run"], CPU)
    from painterly_vae.evaluation.evaluate import evaluate_run

    report, _ = evaluate_run(run, progress=False)
    baseline = report.baseline("pretrained_features", "mobilenet_v2")
    assert 0 <= baseline.top1 <= 1 and baseline.details["image_size"] == 64 and baseline.details["layers"] == ["block18"]
    assert report.trunk == "mobilenet_v2" and report.input_size == 64
    fidelity = report.fidelity  # what the network sees of the reconstructions beside the originals at that size
    assert 0 <= fidelity.style_reconstructions <= 1 and 0 <= fidelity.style_originals <= 1
    assert 0 <= fidelity.style_reconstructions_balanced <= 1 and 0 <= fidelity.style_originals_balanced <= 1
    assert fidelity.frechet_distance >= 0 and "block" in fidelity.frechet_features
    assert 0 <= fidelity.retrieval_top1 <= 1 and fidelity.paintings == report.paintings["known"]
    # elsewhere, without the run's training data: evaluated, the baseline left out unless asked for
    data = Path(run.config.data.path)
    run.config = run.config.with_values({"data.path": str(data.parent / "moved")})
    report, _ = evaluate_run(run, data, progress=False)
    assert not any(b.kind == "pretrained_features" for b in report.baselines) and report.attribution.top1 >= 0
    with pytest.raises(UsageError, match="--pretrained-baseline trains on the run's prepared data"):
        evaluate_run(run, data, progress=False, pretrained=["mobilenet_v2"])


def test_resume_may_move_the_weights_file_but_not_change_the_network(trunk_run: dict[str, Path], tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture) -> None:
    copy = tmp_path / "copy.pth"
    shutil.copy(trunk_run["weights"], copy)
    runs = str(trunk_run["root"] / "runs")
    assert main(["train", "--resume", "--name", "trunk", "--steps", "7", "--no-progress", "--set", f"training.runs_dir={runs}",
                 "--set", f"networks.mobilenet_v2.weights={copy}"]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", "--name", "trunk", "--steps", "8", "--no-progress", "--set", f"training.runs_dir={runs}",
                 "--set", "networks.mobilenet_v2.padding=same"]) == 2
    assert "cannot change networks.mobilenet_v2" in capsys.readouterr().err


@pytest.mark.parametrize("problem", ["corrupt", "other-architecture", "unknown-layer"])
def test_bad_networks_stop_train_before_anything_is_written(problem: str, data64: Path, vgg19_file: Path,
                                                            tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"PK\x03\x04 not really a checkpoint")
    weights = {"corrupt": corrupt, "other-architecture": vgg19_file, "unknown-layer": vgg19_file}[problem]
    layer = "block99" if problem == "unknown-layer" else "block6"
    code = main(["train", "--data", str(data64), "--name", "bad", "--steps", "2", "--no-progress",
                 "--set", "model.trunk=mobilenet_v2", "--set", f"model.trunk_layer={layer}", "--set", "model.trunk_image_size=64",
                 "--set", "model.image_size=32", "--set", f"networks.mobilenet_v2.weights={weights}",
                 "--set", f"training.runs_dir={tmp_path / 'runs'}"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert {"corrupt": "not a readable PyTorch state dict", "other-architecture": "missing keys",
            "unknown-layer": "mobilenet_v2 has no layer block99"}[problem] in err
    assert not (tmp_path / "runs" / "bad" / "checkpoints").exists()


def test_a_version_1_checkpoint_still_opens(trunk_run: dict[str, Path], tiny_data: Path, tmp_path: Path) -> None:
    """Version 1 named the VGG19 file in loss.vgg19_weights and had no [networks]."""
    config = tiny_config(data__path=str(tiny_data), training__steps=2, training__runs_dir=str(tmp_path))
    trainer = Trainer(config, ProcessedData.open(tiny_data), tmp_path / "old", CPU)
    train_and_fit_clusters(trainer, progress=False)
    path = tmp_path / "old" / "checkpoints" / "last.pt"
    state = torch.load(path, weights_only=True)
    raw = state["config"]
    raw["loss"]["vgg19_weights"] = ""
    raw["loss"]["perceptual_layers"] = ["relu1_1", "relu2_1", "relu3_1"]
    del raw["loss"]["perceptual_network"], raw["networks"], state["feature_networks"]
    torch.save({**state, "format": FORMAT_NAME, "version": 1}, path)
    run = open_run(tmp_path / "old", CPU)
    assert run.config.loss.perceptual_network == "vgg19" and run.config.loss.perceptual_layers == []
    assert run.recorded_networks == {}


def test_concat_trunk_attributes_from_z_beside_the_trunks_averaged_maps(trunk_run: dict[str, Path], tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture) -> None:
    """configs/pretrained.toml's representation: stored, reloaded, used by attribute and compared by evaluate."""
    from painterly_vae.evaluation.evaluate import evaluate_run
    from painterly_vae.inference.trained_run import refit_clusters, split_views

    copy = tmp_path / "trunk"
    shutil.copytree(trunk_run["run"], copy)
    run = open_run(copy, CPU)
    data = ProcessedData.open(run.config.data.path)
    views, labels = split_views(run.model, data, "train", run.inference)
    assert run.model.style_layers == ["block6"]  # the trunk is cut there: block10 and block13 are out of reach
    assert views.style.shape == (len(labels), 2 * 32)  # block6's 32 channels: mean and standard deviation
    clusters = refit_clusters(run, representation="concat+trunk", progress=False)
    assert clusters.probe["coef"].shape == (3, 3 * 8 + 64)  # three encoders' z (8 each) and the statistics
    assert views.gram.shape == (len(labels), 32 + 32 * 33 // 2)  # block6's means and covariances
    assert clusters.novelty["pca_components"].shape == (min(256, len(labels)), views.gram.shape[1])
    val_views = split_views(run.model, data, "val", run.inference)[0]  # as fitted
    assert clusters.threshold == pytest.approx(float(np.quantile(clusters.familiarity(val_views), 0.05)), abs=1e-6)
    probabilities = clusters.predict_proba(views)
    assert probabilities.shape == (len(labels), 3)
    assert abs(probabilities.sum(1) - 1).max() < 1e-9
    assert clusters.score(views, labels) >= 0.6  # the training paintings it was fitted on; chance is 1/3
    reopened = open_run(copy, CPU)
    assert reopened.clusters.representation == "concat+trunk"
    assert abs(reopened.clusters.predict_proba(views) - probabilities).max() < 1e-12
    assert reopened.dating is not None and reopened.dating.reads_style  # the year regression reads the statistics too
    assert reopened.dating.coef.shape == (3 * 8 + 64,) and reopened.dating.predict(views).shape == (len(labels),)
    mean, covariance = reopened.clusters.latent_gaussian(0, 8)  # sample --artist still has clusters to draw from
    assert mean.shape == (8,) and covariance.shape == (8, 8)
    capsys.readouterr()
    assert main(["attribute", str(trunk_run["painting"]), "--run", str(copy)]) == 0
    assert "painter-" in capsys.readouterr().out
    report, out_dir = evaluate_run(reopened, progress=False)
    assert report.representation == "concat+trunk" and "concat+trunk" in report.representations
    assert "plots/baselines.png" in report.plots  # the run's lead over the pooled, style and Gram probes and the colours'
    print_evaluation(report, out_dir)
    printed = capsys.readouterr().out
    assert "mobilenet_v2 style statistics (block6; " in printed and "mobilenet_v2 Gram statistics (block6; " in printed
    style_probe = report.baseline("pretrained_features", "mobilenet_v2 style")
    assert style_probe.details["layers"] == ["block6"] and 0 <= style_probe.top1 <= 1
    gram_probe = report.baseline("pretrained_features", "mobilenet_v2 gram")  # fewer paintings than components: fitted anyway
    assert gram_probe.details["components"] == 256 and 0 <= gram_probe.balanced_accuracy <= 1


def test_cluster_auto_chooses_on_validation_and_attribute_shows_the_record(trunk_run: dict[str, Path], tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture) -> None:
    """`cluster --representation auto` on a real run: the choice, its record (every candidate, the
    best, the standard errors) printed, stored, and given back by `attribute --json`."""
    import json

    copy = tmp_path / "auto"
    shutil.copytree(trunk_run["run"], copy)
    capsys.readouterr()
    assert main(["cluster", "--run", str(copy), "--representation", "auto", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "validation paintings (top-1/balanced): " in printed
    assert main(["attribute", str(trunk_run["painting"]), "--run", str(copy), "--json", "--no-progress"]) == 0
    answer = json.loads(capsys.readouterr().out)
    record = answer["chosen_on_validation"]
    assert answer["representation"] == record["chosen"]
    assert set(record["candidates"]) == {"concat+trunk+gram", "concat+trunk", "gram", "style", "concat"}
    assert record["best"] in record["candidates"] and record["standard_errors"][record["best"]] == 0.0
    merit = {name: (s["top1"] + s["balanced_accuracy"]) / 2 for name, s in record["candidates"].items()}
    assert merit[record["best"]] - merit[record["chosen"]] <= record["standard_errors"][record["chosen"]]
