"""The DFC-VAE perceptual loss with either feature network (random weights here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import tiny_config

from data_tools.processed import ProcessedData
from painterly_vae.cli.cli import main
from painterly_vae.config import NetworkConfig
from painterly_vae.model.perceptual import PerceptualLoss
from painterly_vae.model.pretrained import load_feature_network
from painterly_vae.training.trainer import Trainer


@pytest.mark.parametrize("network", ["vgg19", "mobilenet_v2"])
def test_zero_for_identical_images_positive_otherwise_and_gradients_reach_only_the_reconstruction(
        network: str, request: pytest.FixtureRequest) -> None:
    weights = request.getfixturevalue("vgg19_file" if network == "vgg19" else "mobilenet_file")
    layers = tiny_config().loss.resolved_perceptual_layers() if network == "vgg19" else ["block1", "block3", "block6"]
    features = load_feature_network(network, NetworkConfig(weights=str(weights)), layers[-1])
    loss = PerceptualLoss(features, layers)
    images = torch.rand(2, 3, 32, 32)
    assert float(loss(images.clone(), images)) == pytest.approx(0.0, abs=1e-10)
    reconstruction = torch.rand(2, 3, 32, 32, requires_grad=True)
    value = loss(reconstruction, images)
    assert float(value.detach()) > 0
    value.backward()
    assert reconstruction.grad is not None and float(reconstruction.grad.abs().sum()) > 0
    assert all(not p.requires_grad for p in loss.parameters())
    loss.train()
    assert not features.training  # a frozen feature extractor stays in eval mode


def test_the_paper_taps_are_the_vgg19_default() -> None:
    assert tiny_config().loss.resolved_perceptual_layers() == ["relu1_1", "relu2_1", "relu3_1"]
    assert tiny_config(loss__perceptual_network="mobilenet_v2").loss.resolved_perceptual_layers() == ["block1", "block3", "block6"]


def test_train_with_a_missing_weights_file_is_a_usage_error(tiny_data: Path, tmp_path: Path, capsys) -> None:
    code = main(["train", "--data", str(tiny_data), "--steps", "2", "--set", "model.image_size=32",
                 "--set", "loss.perceptual_weight=1.0", "--set", f"networks.vgg19.weights={tmp_path / 'none.pth'}",
                 "--set", f"training.runs_dir={tmp_path}"])
    assert code == 2
    assert "networks.vgg19.weights: no file at" in capsys.readouterr().err


@pytest.mark.parametrize("network", ["vgg19", "mobilenet_v2"])
def test_training_with_the_perceptual_term(network: str, tiny_data: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    weights = request.getfixturevalue("vgg19_file" if network == "vgg19" else "mobilenet_file")
    config = tiny_config(loss__perceptual_weight=10.0, loss__perceptual_network=network, training__steps=2,
                         **{f"networks__{network}__weights": str(weights)})
    trainer = Trainer(config, ProcessedData.open(tiny_data), tmp_path / "run", torch.device("cpu"))
    terms = trainer.train_step(0, trainer.batches.batch(0))
    assert terms is not None and float(terms.perceptual) > 0
    # the decoder's share carries the full weight, the encoder's the L1 ratio (100 / 1000) of it
    assert float(terms.decoder_loss) == pytest.approx(1000 * float(terms.l1) + 10 * float(terms.perceptual), rel=1e-5)
    assert float(terms.encoder_loss) == pytest.approx(
        float(terms.kl) + 0.1 * (1000 * float(terms.l1) + 10 * float(terms.perceptual)), rel=1e-5)
    assert trainer.validate() is not None
    assert trainer.run_state().feature_networks[network]["weights"] == str(weights)
