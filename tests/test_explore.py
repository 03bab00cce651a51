"""reconstruct, cross, interpolate, sample, map, and dating, on a short run over synthetic painters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from data_tools.prepare import PrepareOptions, prepare
from data_tools.synthetic import write_synthetic_raw
from painterly_vae.cli.cli import main
from painterly_vae.cli.exploration_commands import _painting
from painterly_vae.cli.train_command import TrainRequest, run_training
from painterly_vae.inference import explore
from painterly_vae.inference.dating import YearRegression
from painterly_vae.inference.trained_run import open_run
from painterly_vae.runtime.checkpoint import load_checkpoint

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("explore")
    raw = write_synthetic_raw(root / "raw", artists=3, per_artist=40, size=40, seed=5)
    processed = prepare(raw, root / "processed", PrepareOptions(size=32, min_size=32, workers=1), progress=False).out
    values = {
        "model.image_size": 32, "model.channels": [16, 32], "model.latent_dim": 8, "training.batch_size": 16,
        "training.steps": 90, "training.eval_every": 90, "training.image_every": 45, "training.checkpoint_every": 90,
        "training.runs_dir": str(root / "runs"), "training.device": "cpu",
    }
    run_training(TrainRequest(data=processed, name="r", values=values, progress=False))
    paintings = sorted((raw / "painter-1").glob("*.jpg")) + sorted((raw / "painter-2").glob("*.jpg"))
    return {"root": root, "run": root / "runs" / "r", "processed": processed, "a": paintings[0], "b": paintings[-1]}


def _cli(run: dict[str, Path], *arguments: str) -> int:
    return main([*arguments, "--run", str(run["run"]), "--device", "cpu"])


def _png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_every_command_writes_its_png(run: dict[str, Path], tmp_path: Path, capsys) -> None:
    commands = {
        "reconstruct.png": ["reconstruct", str(run["a"])],
        "reconstruct-as.png": ["reconstruct", str(run["a"]), "--artist", "painter-3"],
        "cross.png": ["cross", str(run["a"])],
        "interpolate.png": ["interpolate", str(run["a"]), str(run["b"]), "--steps", "5"],
        "sample-prior.png": ["sample", "--n", "6"],
        "sample-artist.png": ["sample", "--artist", "painter-2", "--n", "4", "--seed", "3"],
        "map.png": ["map", "--projection", "pca", "--per-artist", "10"],
    }
    for name, arguments in commands.items():
        assert _cli(run, *arguments, "--out", str(tmp_path / name)) == 0, name
        width, height = _png_size(tmp_path / name)
        assert width > 100 and height > 50
    assert "Wrote" in capsys.readouterr().out
    # without --out the pictures stay with the run
    assert _cli(run, "cross", str(run["a"])) == 0
    assert (run["run"] / "explore" / f"cross-{run['a'].stem}.png").is_file()
    # a chosen encoder is in the name, so it does not overwrite the attributed artist's picture
    assert _cli(run, "reconstruct", str(run["a"])) == 0
    assert _cli(run, "reconstruct", str(run["a"]), "--artist", "painter-3") == 0
    assert _cli(run, "interpolate", str(run["a"]), str(run["b"]), "--steps", "4", "--first-artist", "painter-2") == 0
    written = {path.name for path in (run["run"] / "explore").glob("*.png")}
    a, b = run["a"].stem, run["b"].stem
    assert {f"reconstruct-{a}.png", f"reconstruct-{a}-via-painter-3.png"} <= written
    assert any(name.startswith(f"interpolate-{a}-{b}-via-painter-2-via-") and name.endswith("-4-steps.png") for name in written)


def test_cross_and_interpolation_shapes_and_end_points(run: dict[str, Path]) -> None:
    trained = open_run(run["run"], CPU)
    first, second = _painting(trained, run["a"]), _painting(trained, run["b"])
    crossed = explore.cross(trained.model, first)
    assert crossed.shape == (3, 3, 32, 32)  # one picture per encoder
    assert float(crossed.min()) >= 0 and float(crossed.max()) <= 1
    # the row really differs between encoders: each keeps something else of the painting
    assert float((crossed[0] - crossed[1]).abs().mean()) > 1e-4

    paths = explore.interpolate(trained.model, first, second, 0, 1, steps=6)
    assert set(paths) == {"linear", "spherical"}
    for images in paths.values():
        assert images.shape == (6, 3, 32, 32)
        torch.testing.assert_close(images[0], explore.reconstruct(trained.model, first, 0)[0])
        torch.testing.assert_close(images[-1], explore.reconstruct(trained.model, second, 1)[0])


def test_latent_paths() -> None:
    start, end = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 2.0])
    linear = explore.latent_path(start, end, 3, "linear")
    torch.testing.assert_close(linear[1], torch.tensor([1.0, 1.0]))
    spherical = explore.latent_path(start, end, 5, "spherical")
    torch.testing.assert_close(spherical.norm(dim=1), torch.full((5,), 2.0))  # stays on the circle
    torch.testing.assert_close(spherical[[0, -1]], torch.stack([start, end]))


def test_samples_are_deterministic_with_a_seed(run: dict[str, Path]) -> None:
    trained = open_run(run["run"], CPU)
    clusters = trained.require_clusters()
    one = explore.sample(trained.model, clusters, None, 4, seed=1)
    assert one.shape == (4, 3, 32, 32)
    torch.testing.assert_close(one, explore.sample(trained.model, clusters, None, 4, seed=1))
    assert not torch.allclose(one, explore.sample(trained.model, clusters, None, 4, seed=2))
    from_cluster = explore.sample(trained.model, clusters, 1, 5, seed=1)
    assert from_cluster.shape == (5, 3, 32, 32)
    mean, covariance = clusters.latent_gaussian(1, 8)
    assert mean.shape == (8,) and covariance.shape == (8, 8)
    assert np.all(np.linalg.eigvalsh(covariance) > 0)


def test_samples_come_in_batches_that_draw_the_same_images(run: dict[str, Path]) -> None:
    trained = open_run(run["run"], CPU)
    clusters = trained.require_clusters()
    for artist in (None, 1):
        whole = explore.sample(trained.model, clusters, artist, 7, seed=4)
        batched = torch.cat(list(explore.sample_batches(trained.model, clusters, artist, 7, seed=4, batch_size=3)))
        torch.testing.assert_close(batched, whole)
        torch.testing.assert_close(explore.sample(trained.model, clusters, artist, 3, seed=4), whole[:3])


def _sample_peak_memory(run: dict[str, Path], count: int, out: Path) -> int:
    """Peak resident memory (kB) of a fresh process that runs `sample --n count`."""
    script = ("import resource, sys; from painterly_vae.cli.cli import main; "
              f"code = main(['sample', '--n', '{count}', '--run', '{run['run']}', '--device', 'cpu', '--no-progress', "
              f"'--out', '{out}']); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


def test_many_samples_stream_to_a_folder_with_flat_memory(run: dict[str, Path], tmp_path: Path) -> None:
    """`sample --n` beyond a sheet writes one PNG per image, a batch at a time: ten times the
    images, the same peak memory; a second call writes only what is missing."""
    small = _sample_peak_memory(run, 300, tmp_path / "small")
    large = _sample_peak_memory(run, 3000, tmp_path / "large")
    files = sorted((tmp_path / "large").glob("sample-*.png"))
    assert len(files) == 3000 and _png_size(files[0]) == (32, 32)
    assert large - small < 30_000, (small, large)  # kB: 2700 more images of 32 px would hold 33 MB as floats
    assert (tmp_path / "small" / "sample-000001.png").read_bytes() == files[0].read_bytes()  # image i, any n
    files[5].unlink()
    assert _cli(run, "sample", "--n", "3000", "--out", str(tmp_path / "large")) == 0
    assert len(list((tmp_path / "large").glob("sample-*.png"))) == 3000
    assert _cli(run, "sample", "--n", "100", "--out", str(tmp_path / "sheet.png")) == 2


def test_bad_inputs_are_one_line_usage_errors(run: dict[str, Path], tmp_path: Path, capsys) -> None:
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("not a painting")
    cases = [
        ["reconstruct", str(tmp_path / "missing.jpg")],
        ["cross", str(not_an_image)],
        ["reconstruct", str(run["a"]), "--artist", "vermeer"],
        ["interpolate", str(run["a"]), str(run["b"]), "--steps", "1"],
        ["sample", "--artist", "nobody"],
        ["map", "--data", str(tmp_path / "nowhere")],
    ]
    for arguments in cases:
        assert _cli(run, *arguments) == 2, arguments
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "Traceback" not in error, error
    assert main(["cross", str(run["a"]), "--run", str(tmp_path / "no-run")]) == 2


def test_dating_from_file_name_years(run: dict[str, Path], capsys) -> None:
    """Synthetic paintings carry years in their file names; the run learns to date them."""
    state = load_checkpoint(run["run"] / "checkpoints" / "last.pt")  # weights_only: no pickle
    assert state["dating"] is not None
    regression = YearRegression.from_state_dict(state["dating"])
    assert regression.fitted_on >= 60 and regression.half_width > 0
    assert not regression.reads_style  # no trunk: the latent alone
    older = {key: value for key, value in state["dating"].items() if key != "reads_style"}  # saved before it existed
    assert not YearRegression.from_state_dict(older).reads_style

    assert main(["attribute", str(run["a"]), "--run", str(run["run"]), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)["paintings"][0]
    low, high = answer["year_interval"]
    assert 1700 < low < answer["year"] < high < 2100
    assert main(["attribute", str(run["a"]), str(run["b"]), "--run", str(run["run"])]) == 0
    printed = capsys.readouterr().out
    assert printed.count("painted about") == 2
    assert printed.count("years off on average") == 1 and "\nYears: " in printed  # said once, in the header

    assert main(["evaluate", "--run", str(run["run"])]) == 0
    report = json.loads((run["run"] / "report.json").read_text())
    dating = report["dating"]
    assert dating["paintings"] > 0 and dating["mae_years"] > 0 and dating["artist_median_mae_years"] is not None
    assert "dating: mean absolute error" in capsys.readouterr().out
