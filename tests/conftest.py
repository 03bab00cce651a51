"""Shared fixtures: tiny configs and tiny synthetic datasets, sized for a 2-core CPU."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch
from PIL import Image

from data_tools.prepare import PrepareOptions, prepare
from data_tools.processed import ProcessedData
from data_tools.synthetic import write_synthetic_raw
from painterly_vae.cli.cli import main
from painterly_vae.config import Config

TINY = {
    "model.image_size": 32,
    "model.channels": [8, 16],
    "model.latent_dim": 8,
    "training.batch_size": 4,
    "training.log_every": 1,
    "training.image_every": 2,
    "training.eval_every": 2,
    "training.checkpoint_every": 2,
}


def assert_resumed_exactly(straight: dict, split: dict, part: str) -> None:
    """Two checkpoints (one run straight through, one stopped and resumed) hold the same model,
    and the same weights and optimizer moments of an optional part of training (`part`, e.g.
    "discriminator": its weights under that key, its optimizer under part + "_optimizer")."""
    for key, value in straight[part].items():
        assert torch.equal(value, split[part][key]), key
    for state_a, state_b in zip(straight[f"{part}_optimizer"]["state"].values(),
                                split[f"{part}_optimizer"]["state"].values(), strict=True):
        assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    for key, value in straight["model"].items():
        assert torch.equal(value, split["model"][key]), key


def load_experiment_script(path: Path) -> ModuleType:
    """A script under experiments/ (not a package) imported as a module for its tests: registered under its
    name while it runs (a dataclass looks its module up), its folder on the path for its neighbours."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def tiny_config(**values: object) -> Config:
    """The real config machinery with tiny sizes; keyword names use '__' for '.'."""
    overrides = dict(TINY)
    overrides.update({name.replace("__", "."): value for name, value in values.items()})
    return Config().with_values(overrides)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three synthetic painters, 12 paintings each, through `synth` and `prepare` at 32 px."""
    root = tmp_path_factory.mktemp("data")
    write_synthetic_raw(root / "raw", artists=3, per_artist=12, size=48, seed=1)
    options = PrepareOptions(size=32, min_size=32, workers=1)
    return prepare(root / "raw", root / "processed", options, progress=False).out


@pytest.fixture(scope="session")
def mobilenet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MobileNetV2 with random weights, saved as torchvision saves the whole model."""
    from torchvision.models import mobilenet_v2

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("networks") / "mobilenet_v2-random.pth"
    torch.save(mobilenet_v2().state_dict(), path)
    return path


@pytest.fixture(scope="session")
def vgg19_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A VGG19 with random weights, `features` only, named as torchvision names them (`features.N.weight`)."""
    from torchvision.models import vgg19

    torch.manual_seed(0)
    state = {f"features.{k}": v for k, v in vgg19(weights=None).features.state_dict().items()}
    path = tmp_path_factory.mktemp("networks") / "vgg19-random.pth"
    torch.save(state, path)
    return path


@pytest.fixture(autouse=True)
def _few_threads() -> None:
    torch.set_num_threads(2)


@pytest.fixture(scope="module")
def data64(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three synthetic painters at 64 px: the trunk reads 64 px, the decoder paints 32 px."""
    root = tmp_path_factory.mktemp("data64")
    write_synthetic_raw(root / "raw", artists=3, per_artist=12, size=80, seed=2)
    return prepare(root / "raw", root / "processed", PrepareOptions(size=64, min_size=32, workers=1), progress=False).out


TRUNK_RUN_SETS = ["model.image_size=32", "model.channels=[8, 16]", "model.latent_dim=8", "training.batch_size=4",
                  "model.trunk=mobilenet_v2", "model.trunk_layer=block6", "model.trunk_channels=[16]",
                  "model.trunk_image_size=64", "loss.perceptual_weight=0.5", "loss.perceptual_network=mobilenet_v2"]


def train_trunk_run(data: Path, weights: Path, runs_dir: Path, name: str, *more_sets: str) -> Path:
    """A tiny run whose encoders read MobileNetV2's block-6 maps (64 px) and whose decoder paints
    32 px, trained 6 steps by the CLI; `more_sets` change its config (e.g. the single-encoder twin)."""
    sets = [*TRUNK_RUN_SETS, f"networks.mobilenet_v2.weights={weights}", f"training.runs_dir={runs_dir}", *more_sets]
    code = main(["train", "--data", str(data), "--name", name, "--steps", "6", "--no-progress",
                 *[arg for item in sets for arg in ("--set", item)]])
    assert code == 0
    return runs_dir / name


@pytest.fixture(scope="module")
def trunk_run(data64: Path, mobilenet_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A trained trunk run, by the CLI; its weights file is a copy that tests may replace."""
    root = tmp_path_factory.mktemp("trunk-run")
    weights = root / "weights.pth"
    shutil.copy(mobilenet_file, weights)
    run = train_trunk_run(data64, weights, root / "runs", "trunk")
    painting = root / "painting.png"
    array = ProcessedData.open(data64).array("painter-1", "test")[0]
    Image.fromarray(array.transpose(1, 2, 0)).save(painting)
    return {"run": run, "weights": weights, "painting": painting, "root": root}
