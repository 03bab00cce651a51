"""Shared fixtures: tiny configs and tiny synthetic datasets, sized for a 2-core CPU."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from data_tools.prepare import PrepareOptions, prepare
from data_tools.synthetic import write_synthetic_raw
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
