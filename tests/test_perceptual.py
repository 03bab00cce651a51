"""The deep-feature losses (DFC feature distance, texture distance) with either feature network (random weights here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import tiny_config

from data_tools.processed import ProcessedData
from painterly_vae.cli.cli import main
from painterly_vae.config import NetworkConfig
from painterly_vae.errors import ConfigError
from painterly_vae.model.perceptual import PerceptualLoss, gram_matrices, texture_difference
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
    same = loss(images.clone(), images)
    assert float(same.feature) == pytest.approx(0.0, abs=1e-10) and float(same.texture) == pytest.approx(0.0, abs=1e-10)
    for distance in ("feature", "texture"):
        reconstruction = torch.rand(2, 3, 32, 32, requires_grad=True)
        value = getattr(loss(reconstruction, images), distance)
        assert float(value.detach()) > 0
        value.backward()
        assert reconstruction.grad is not None and float(reconstruction.grad.abs().sum()) > 0
    assert all(not p.requires_grad for p in loss.parameters())
    loss.train()
    assert not features.training  # a frozen feature extractor stays in eval mode


def test_gram_matrices_are_each_pictures_channel_moments_wherever_its_strokes_lie() -> None:
    # two channels over four positions: G[i, j] = mean over positions of a_i * a_j
    activation = torch.tensor([[[[1.0, 2.0], [0.0, -1.0]], [[3.0, 0.0], [1.0, 1.0]]]])
    assert gram_matrices(activation)[0].tolist() == [[1.5, 0.5], [0.5, 2.75]]
    shuffled = activation.flatten(2)[..., torch.tensor([3, 0, 2, 1])].reshape(activation.shape)
    assert torch.equal(gram_matrices(shuffled), gram_matrices(activation))  # where, not what: unchanged


def test_a_texture_grid_compares_each_cell_where_it_lies() -> None:
    # one channel, 4x4 positions, a 2x2 grid: each cell's moment is the mean square over its 4 positions
    activation = torch.zeros(1, 1, 4, 4)
    activation[0, 0, 0, 0] = 2.0  # a stroke in the top-left cell
    assert gram_matrices(activation, 2)[0, :, 0, 0].tolist() == [1.0, 0.0, 0.0, 0.0]
    inside = torch.zeros(1, 1, 4, 4)
    inside[0, 0, 1, 1] = 2.0  # the same stroke elsewhere in the same cell: unchanged
    assert torch.equal(gram_matrices(inside, 2), gram_matrices(activation, 2))
    across = torch.zeros(1, 1, 4, 4)
    across[0, 0, 3, 3] = 2.0  # moved to the bottom-right cell: the whole picture cannot tell, the grid can
    assert torch.equal(gram_matrices(across), gram_matrices(activation))
    assert float(texture_difference(across, activation, 2)) > 0 == float(texture_difference(across, activation))
    assert gram_matrices(torch.rand(2, 3, 5, 5), 2).shape == (2, 4, 3, 3)  # the fifth row and column are left out
    with pytest.raises(ConfigError, match="loss.texture_grid"):
        gram_matrices(activation, 5)


def test_a_grid_finer_than_a_texture_map_is_a_usage_error(tiny_data: Path, tmp_path: Path, mobilenet_file: Path,
                                                           capsys) -> None:
    code = main(["train", "--data", str(tiny_data), "--steps", "2", "--no-progress", "--set", "model.image_size=32",
                 "--set", "loss.texture_weight=1.0", "--set", "loss.perceptual_network=mobilenet_v2",
                 "--set", "loss.texture_grid=8", "--set", f"networks.mobilenet_v2.weights={mobilenet_file}",
                 "--set", f"training.runs_dir={tmp_path}"])
    assert code == 2
    assert "loss.texture_grid: 8 cells per side, but a texture layer's map is only 4x4" in capsys.readouterr().err


def test_the_texture_distance_reads_its_own_taps(mobilenet_file: Path) -> None:
    features = load_feature_network("mobilenet_v2", NetworkConfig(weights=str(mobilenet_file)), "block6")
    images, other = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    at_the_dfc_taps = PerceptualLoss(features, ["block1", "block6"])(other, images)
    shallow = PerceptualLoss(features, ["block1", "block6"], ["block1"])(other, images)
    only_block1 = PerceptualLoss(features, ["block1"])(other, images)
    assert float(shallow.feature) == pytest.approx(float(at_the_dfc_taps.feature))
    assert float(shallow.texture) == pytest.approx(float(only_block1.texture))
    assert float(shallow.texture) < float(at_the_dfc_taps.texture)
    assert tiny_config(loss__perceptual_network="mobilenet_v2", loss__texture_weight=1.0,
                       loss__texture_layers=["block10"]).feature_networks() == {"mobilenet_v2": "block10"}


def test_a_distance_of_weight_zero_is_measured_without_a_gradient(mobilenet_file: Path) -> None:
    features = load_feature_network("mobilenet_v2", NetworkConfig(weights=str(mobilenet_file)), "block6")
    images, reconstruction = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32, requires_grad=True)
    trained = PerceptualLoss(features, ["block1", "block6"])(reconstruction, images)
    logged = PerceptualLoss(features, ["block1", "block6"], measured_only=("texture",))(reconstruction, images)
    assert float(logged.texture) == pytest.approx(float(trained.texture.detach()))
    assert logged.feature.requires_grad and not logged.texture.requires_grad
    assert tiny_config(loss__perceptual_weight=1.0).loss.measured_only() == ("texture",)
    assert tiny_config(loss__texture_weight=1.0).loss.measured_only() == ("feature",)


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


def test_the_texture_term_alone_loads_the_network_and_joins_both_objectives(tiny_data: Path, tmp_path: Path,
                                                                            mobilenet_file: Path) -> None:
    config = tiny_config(loss__texture_weight=2.0, loss__perceptual_network="mobilenet_v2", training__steps=2,
                         networks__mobilenet_v2__weights=str(mobilenet_file))
    assert config.feature_networks() == {"mobilenet_v2": "block6"}
    trainer = Trainer(config, ProcessedData.open(tiny_data), tmp_path / "run", torch.device("cpu"))
    terms = trainer.train_step(0, trainer.batches.batch(0))
    assert terms is not None and float(terms.texture) > 0 and float(terms.perceptual) > 0  # measured, not weighted
    assert float(terms.decoder_loss) == pytest.approx(1000 * float(terms.l1) + 2 * float(terms.texture), rel=1e-5)
    assert float(terms.encoder_loss) == pytest.approx(
        float(terms.kl) + 0.1 * (1000 * float(terms.l1) + 2 * float(terms.texture)), rel=1e-5)
    assert trainer.validate() is not None


def _step_gradients(config, data: Path, run: Path) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The gradients one training step leaves on artist 0's encoder and on the shared decoder."""
    trainer = Trainer(config, ProcessedData.open(data), run, torch.device("cpu"))
    assert trainer.train_step(0, trainer.batches.batch(0)) is not None
    encoder, decoder = trainer.model.encoder_for(0), trainer.model.shared_decoder
    return ([p.grad.clone() for p in encoder.parameters() if p.grad is not None],
            [p.grad.clone() for p in decoder.parameters() if p.grad is not None])


def test_a_texture_term_kept_from_the_encoders_teaches_the_decoder_alone(tiny_data: Path, tmp_path: Path,
                                                                         mobilenet_file: Path) -> None:
    """Same seed, same batch: the encoder learns what it learns without the term, the decoder what it
    learns with the term reaching both; and the encoder's reported loss leaves the term out."""
    common = dict(loss__perceptual_network="mobilenet_v2", loss__perceptual_weight=1.0, training__steps=2,
                  training__precision="fp32", networks__mobilenet_v2__weights=str(mobilenet_file))
    without = _step_gradients(tiny_config(**common), tiny_data, tmp_path / "without")
    reaching = _step_gradients(tiny_config(loss__texture_weight=50.0, **common), tiny_data, tmp_path / "both")
    decoder_only = tiny_config(loss__texture_weight=50.0, loss__texture_to_encoders=False, **common)
    kept = _step_gradients(decoder_only, tiny_data, tmp_path / "decoder")
    for got, want in zip(kept[0], without[0], strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)
    for got, want in zip(kept[1], reaching[1], strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)
    assert not all(torch.allclose(a, b, rtol=1e-3) for a, b in zip(reaching[0], without[0]))  # it would have reached them
    assert not all(torch.allclose(a, b, rtol=1e-3) for a, b in zip(kept[1], without[1]))  # and it does teach the decoder
    trainer = Trainer(decoder_only, ProcessedData.open(tiny_data), tmp_path / "terms", torch.device("cpu"))
    terms = trainer.train_step(0, trainer.batches.batch(0))
    assert float(terms.decoder_loss) == pytest.approx(
        1000 * float(terms.l1) + float(terms.perceptual) + 50 * float(terms.texture), rel=1e-5)
    assert float(terms.encoder_loss) == pytest.approx(
        float(terms.kl) + 0.1 * (1000 * float(terms.l1) + float(terms.perceptual)), rel=1e-5)
