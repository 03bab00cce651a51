"""The DFC-VAE perceptual loss: VGG19 features from a local weights file (random weights here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torchvision.models import vgg19

from conftest import tiny_config
from data_tools.processed import ProcessedData
from painterly_vae.cli import main
from painterly_vae.errors import ConfigError, UsageError
from painterly_vae.perceptual import PerceptualLoss
from painterly_vae.trainer import Trainer


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A VGG19 with random weights, saved as torchvision names them (`features.N.weight`)."""
    torch.manual_seed(0)
    state = {f"features.{k}": v for k, v in vgg19(weights=None).features.state_dict().items()}
    path = tmp_path_factory.mktemp("vgg") / "vgg19-random.pth"
    torch.save(state, path)
    return path


def test_zero_for_identical_images_positive_otherwise_and_gradients_reach_only_the_reconstruction(vgg_file: Path) -> None:
    loss = PerceptualLoss(vgg_file, ["relu1_1", "relu2_1", "relu3_1"])
    images = torch.rand(2, 3, 32, 32)
    assert float(loss(images.clone(), images)) == pytest.approx(0.0, abs=1e-10)
    reconstruction = torch.rand(2, 3, 32, 32, requires_grad=True)
    value = loss(reconstruction, images)
    assert float(value.detach()) > 0
    value.backward()
    assert reconstruction.grad is not None and float(reconstruction.grad.abs().sum()) > 0
    assert all(not p.requires_grad for p in loss.parameters())
    loss.train()
    assert not loss.training  # a frozen feature extractor stays in eval mode


def test_imagenet_normalisation_is_applied(vgg_file: Path) -> None:
    loss = PerceptualLoss(vgg_file, ["relu1_1"])
    grey = torch.full((1, 3, 8, 8), 0.5)
    first_conv = loss.features[0]
    expected = torch.relu(first_conv((grey - loss.mean) / loss.std))
    torch.testing.assert_close(loss.activations(grey)[0], expected)


def test_missing_or_foreign_weights_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="never downloads"):
        PerceptualLoss(tmp_path / "vgg19-dcbb9e9d.pth", ["relu1_1"])
    foreign = tmp_path / "foreign.pth"
    torch.save({"weight": torch.zeros(3)}, foreign)
    with pytest.raises(UsageError, match="not a VGG19 state dict"):
        PerceptualLoss(foreign, ["relu1_1"])
    with pytest.raises(ConfigError, match="perceptual_layers"):
        tiny_config(loss__perceptual_layers=["relu9_9"])
    with pytest.raises(ConfigError, match="vgg19_weights"):
        tiny_config(loss__perceptual_weight=1.0)


def test_train_with_a_missing_weights_file_is_a_usage_error(tiny_data: Path, tmp_path: Path, capsys) -> None:
    code = main(["train", "--data", str(tiny_data), "--steps", "2", "--set", "model.image_size=32",
                 "--set", "loss.perceptual_weight=1.0", "--set", f"loss.vgg19_weights={tmp_path / 'none.pth'}",
                 "--set", f"training.runs_dir={tmp_path}"])
    assert code == 2
    assert "never downloads" in capsys.readouterr().err


def test_training_with_the_perceptual_term(tiny_data: Path, vgg_file: Path, tmp_path: Path) -> None:
    config = tiny_config(loss__perceptual_weight=10.0, loss__vgg19_weights=str(vgg_file), training__steps=2)
    trainer = Trainer(config, ProcessedData.open(tiny_data), tmp_path / "run", torch.device("cpu"))
    terms = trainer.train_step(0, trainer.batches.batch(0))
    assert terms is not None and float(terms.perceptual) > 0
    # the decoder's share carries the full weight, the encoder's the L1 ratio (100 / 1000) of it
    assert float(terms.decoder_loss) == pytest.approx(1000 * float(terms.l1) + 10 * float(terms.perceptual), rel=1e-5)
    assert float(terms.encoder_loss) == pytest.approx(
        float(terms.kl) + 0.1 * (1000 * float(terms.l1) + 10 * float(terms.perceptual)), rel=1e-5)
    assert trainer.validate() is not None
