"""Pretrained feature networks: taps, input conventions, where the weights come from, and every
way a weights file or a network name can be wrong. Networks here have random weights."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
from pathlib import Path
from typing import Iterator

import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_config
from torchvision.models import mobilenet_v2

from painterly_vae.config import NetworkConfig
from painterly_vae.errors import ConfigError, UsageError
from painterly_vae.feature_networks import NETWORKS, network_spec
from painterly_vae.model import pretrained
from painterly_vae.model.pretrained import (
    SamePaddingConv2d,
    channel_statistics,
    gram_statistics,
    load_feature_network,
    load_networks,
    torchvision_cache_file,
)

TF_CONVENTION = NetworkConfig(input_scaling="signed", padding="same")


def _with_weights(path: Path, convention: NetworkConfig = NetworkConfig()) -> NetworkConfig:
    return NetworkConfig(weights=str(path), input_scaling=convention.input_scaling, padding=convention.padding)


def test_same_padding_against_a_hand_computed_case() -> None:
    """TensorFlow's SAME on a 4x4 input, 3x3 kernel, stride 2: one pixel of zeros after (right,
    bottom), none before; torch's symmetric padding would start the window one pixel earlier."""
    conv = torch.nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False)
    conv.weight.data.fill_(1.0)
    image = torch.arange(1.0, 17.0).view(1, 1, 4, 4)  # rows 1-4, 5-8, 9-12, 13-16
    symmetric = conv(image)
    assert symmetric[0, 0, 0, 0] == 1 + 2 + 5 + 6
    same = SamePaddingConv2d(conv)(image)
    expected = torch.tensor([[1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11, 3 + 4 + 7 + 8 + 11 + 12],
                             [9 + 10 + 11 + 13 + 14 + 15, 11 + 12 + 15 + 16]], dtype=torch.float32)
    torch.testing.assert_close(same[0, 0], expected)
    # odd sizes pad on both sides (5 -> 3 outputs, total padding 2)
    assert SamePaddingConv2d.padding_for(5, 3, 2, 1) == (1, 1)
    assert SamePaddingConv2d.padding_for(224, 3, 2, 1) == (0, 1)


def test_every_network_names_its_default_layers() -> None:
    for spec in NETWORKS.values():
        for layer in (*spec.loss_layers, spec.trunk_layer, spec.pooled_layer, *spec.style_layers):
            assert layer in spec.layers
        assert spec.style_layers_up_to(spec.trunk_layer) == list(spec.style_layers)  # all within the default trunk
    assert network_spec("vgg19").layers["relu1_1"] == 1 and network_spec("vgg19").layers["relu3_1"] == 11
    assert network_spec("mobilenet_v2").layers["block18"] == 18


def test_mobilenet_taps_have_the_documented_resolutions(mobilenet_file: Path) -> None:
    network = load_feature_network("mobilenet_v2", _with_weights(mobilenet_file), "block18")
    spec = network.spec
    taps = [spec.index(name) for name in (*spec.loss_layers, spec.trunk_layer, spec.pooled_layer)]
    shapes = [tuple(a.shape[1:]) for a in network.activations(torch.rand(1, 3, 224, 224), taps)]
    assert shapes == [(16, 112, 112), (24, 56, 56), (32, 28, 28), (96, 14, 14), (1280, 7, 7)]
    assert network.pooled(torch.rand(2, 3, 64, 64)).shape == (2, 1280)


def test_style_statistics_are_each_channels_mean_and_spread_at_the_style_layers(mobilenet_file: Path) -> None:
    spec = network_spec("mobilenet_v2")
    assert spec.style_layers_up_to("block8") == ["block6", "block8"]  # deeper style layers are cut off; the trunk's own joins
    assert spec.style_layers_up_to("block3") == ["block3"]
    network = load_feature_network("mobilenet_v2", _with_weights(mobilenet_file), "block13")
    images = torch.rand(2, 3, 64, 64)
    statistics = channel_statistics(network.activations(images, [6, 10, 13]))  # blocks 6, 10, 13
    assert statistics.shape == (2, 2 * (32 + 64 + 96))
    expected = []
    for maps in network.activations(images, [6, 10, 13]):
        flat = maps.reshape(2, maps.shape[1], -1)
        mean = flat.sum(2) / flat.shape[2]
        expected += [mean, ((flat - mean[..., None]) ** 2).mean(2).sqrt()]  # the population spread, by hand
    torch.testing.assert_close(statistics, torch.cat(expected, 1), rtol=1e-4, atol=1e-5)
    gram = gram_statistics(network.activations(images, [6]))  # means and the whole covariance
    maps = network.activations(images, [6])[0].reshape(2, 32, -1)
    centred = maps - maps.mean(2, keepdim=True)
    covariance = torch.einsum("bcp,bdp->bcd", centred, centred) / maps.shape[2]
    assert gram.shape == (2, 32 + 32 * 33 // 2)
    torch.testing.assert_close(gram[:, 32 + 1], covariance[:, 0, 1].sign() * covariance[:, 0, 1].abs().sqrt(), rtol=1e-4, atol=1e-5)
    diagonal = [32 + sum(32 - i for i in range(c)) for c in range(32)]  # where the upper triangle keeps (c, c)
    torch.testing.assert_close(gram[:, diagonal], expected[1], rtol=1e-4, atol=1e-5)  # the variances' roots: the spreads


def test_vgg19_taps_and_imagenet_scaling(vgg19_file: Path) -> None:
    network = load_feature_network("vgg19", _with_weights(vgg19_file), "relu3_1")
    grey = torch.full((1, 3, 8, 8), 0.5)
    first = network.activations(grey, [network.spec.index("relu1_1")])[0]
    mean = torch.tensor(pretrained.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(pretrained.IMAGENET_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(first, torch.relu(network.features[0]((grey - mean) / std)))
    assert [tuple(a.shape[1:]) for a in network.activations(torch.rand(1, 3, 32, 32), [1, 6, 11])] == [
        (64, 32, 32), (128, 16, 16), (256, 8, 8)]


def test_a_converted_style_file_with_its_convention(tmp_path: Path) -> None:
    """A TensorFlow-converted MobileNetV2 (BatchNorm folded into identities, [-1, 1] input,
    SAME padding) computes exactly conv(pad_right_bottom(2x - 1)) in its first layer."""
    torch.manual_seed(3)
    network = mobilenet_v2()
    for module in network.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.weight.data.fill_(1.0)
            module.running_mean.zero_()
            module.running_var.fill_(1.0 - module.eps)
    path = tmp_path / "converted.pth"
    torch.save(network.state_dict(), path)
    loaded = load_feature_network("mobilenet_v2", _with_weights(path, TF_CONVENTION), "block0")
    image = torch.rand(1, 3, 8, 8)
    conv = network.features[0][0]
    pre_activation = F.conv2d(F.pad(image * 2 - 1, (0, 1, 0, 1)), conv.weight, stride=2) + network.features[0][1].bias.view(1, -1, 1, 1)
    torch.testing.assert_close(loaded.activations(image, [0])[0], pre_activation.clamp(0, 6), atol=1e-5, rtol=1e-4)
    symmetric = load_feature_network("mobilenet_v2", _with_weights(path), "block0")
    assert not torch.allclose(symmetric.activations(image, [0])[0], loaded.activations(image, [0])[0])


def test_torchvision_style_whole_model_and_features_only_files_load_the_same(mobilenet_file: Path, tmp_path: Path) -> None:
    state = torch.load(mobilenet_file, weights_only=True)
    features_only = tmp_path / "features.pth"
    torch.save({k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}, features_only)
    image = torch.rand(1, 3, 32, 32)
    whole = load_feature_network("mobilenet_v2", _with_weights(mobilenet_file), "block3")
    part = load_feature_network("mobilenet_v2", _with_weights(features_only), "block3")
    torch.testing.assert_close(whole.activations(image, [3])[0], part.activations(image, [3])[0])
    assert whole.record.sha256 == hashlib.sha256(mobilenet_file.read_bytes()).hexdigest()
    assert all(not p.requires_grad for p in whole.parameters())
    whole.train()
    assert not whole.training


def test_weights_from_torchvisions_cache_without_any_download(mobilenet_file: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cached = torchvision_cache_file(network_spec("mobilenet_v2"))
    assert cached.name == "mobilenet_v2-b0353104.pth" and cached.parent == tmp_path / "torch" / "hub" / "checkpoints"
    cached.parent.mkdir(parents=True)
    shutil.copy(mobilenet_file, cached)
    network = load_feature_network("mobilenet_v2", NetworkConfig(), "block1")
    assert network.record.file == str(cached) and network.record.weights == "torchvision"


class _Server:
    """A real HTTP server on 127.0.0.1 serving one file (standing in for download.pytorch.org)."""

    def __init__(self, body: bytes) -> None:
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/models/{name}"


@pytest.fixture
def served_weights(mobilenet_file: Path) -> Iterator[_Server]:
    server = _Server(mobilenet_file.read_bytes())
    yield server
    server.httpd.shutdown()


def test_torchvision_download_is_hash_checked_and_cached(served_weights: _Server, mobilenet_file: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    prefix = hashlib.sha256(mobilenet_file.read_bytes()).hexdigest()[:8]
    monkeypatch.setattr(pretrained, "torchvision_weights_url", lambda spec: served_weights.url(f"mobilenet_v2-{prefix}.pth"))
    first = load_feature_network("mobilenet_v2", NetworkConfig(), "block1", progress=False)
    second = load_feature_network("mobilenet_v2", NetworkConfig(), "block1", progress=False)
    assert served_weights.requests == 1  # the second load came from the cache
    assert first.record.sha256 == second.record.sha256 == hashlib.sha256(mobilenet_file.read_bytes()).hexdigest()
    # a download whose bytes do not match the hash in its name is refused and not cached
    monkeypatch.setattr(pretrained, "torchvision_weights_url", lambda spec: served_weights.url("mobilenet_v2-00000000.pth"))
    with pytest.raises(UsageError, match="corrupt"):
        load_feature_network("mobilenet_v2", NetworkConfig(), "block1", progress=False)
    assert not (tmp_path / "torch" / "hub" / "checkpoints" / "mobilenet_v2-00000000.pth").exists()


def test_offline_names_the_file_torchvision_wanted_and_the_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    closed = _Server(b"")
    url = closed.url("mobilenet_v2-b0353104.pth")
    closed.httpd.shutdown()
    closed.httpd.server_close()  # nothing listens there any more: connection refused
    monkeypatch.setattr(pretrained, "torchvision_weights_url", lambda spec: url)
    with pytest.raises(UsageError, match=r"mobilenet_v2-b0353104\.pth.*--set networks\.mobilenet_v2\.weights=FILE"):
        load_feature_network("mobilenet_v2", NetworkConfig(), "block1", progress=False)


def test_bad_weights_files_are_one_sentence_each(mobilenet_file: Path, vgg19_file: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no file at"):
        load_feature_network("mobilenet_v2", _with_weights(tmp_path / "missing.pth"), "block1")
    with pytest.raises(UsageError, match=r"not a mobilenet_v2 state dict: missing keys 0\.0\.weight.*unexpected keys 0\.weight"):
        load_feature_network("mobilenet_v2", _with_weights(vgg19_file), "block1")
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(mobilenet_file.read_bytes()[:100_000])
    with pytest.raises(UsageError, match="not a readable PyTorch state dict"):
        load_feature_network("mobilenet_v2", _with_weights(truncated), "block1")
    reshaped = tmp_path / "reshaped.pth"
    state = torch.load(mobilenet_file, weights_only=True)
    state["features.0.0.weight"] = torch.zeros(8, 3, 3, 3)
    torch.save(state, reshaped)
    with pytest.raises(UsageError, match=r"wrong shapes for 0\.0\.weight \(8, 3, 3, 3\)"):
        load_feature_network("mobilenet_v2", _with_weights(reshaped), "block1")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"model__trunk": "resnet50"}, "model.trunk: unknown network 'resnet50'; known: vgg19, mobilenet_v2"),
        ({"model__trunk": "mobilenet_v2", "model__trunk_layer": "relu1_1"}, "model.trunk_layer: mobilenet_v2 has no layer relu1_1"),
        ({"loss__perceptual_network": "alexnet"}, "loss.perceptual_network: unknown network 'alexnet'"),
        ({"loss__perceptual_layers": ["relu9_9"]}, "loss.perceptual_layers: vgg19 has no layer relu9_9"),
        ({"loss__texture_layers": ["block1"]}, "loss.texture_layers: vgg19 has no layer block1"),
        ({"networks__alexnet__weights": "x.pth"}, r"unknown network \[networks.alexnet\]"),
        ({"networks__vgg19__padding": "valid"}, "networks.vgg19.padding: must be one of"),
        ({"networks__vgg19__colour": "rgb"}, "unknown config key networks.vgg19.colour"),
    ],
)
def test_unknown_networks_layers_and_conventions_name_the_key(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        tiny_config(**values)


def test_load_networks_loads_each_network_once_at_its_deepest_layer(mobilenet_file: Path) -> None:
    config = tiny_config(model__trunk="mobilenet_v2", model__trunk_layer="block3", loss__perceptual_weight=1.0,
                         loss__perceptual_network="mobilenet_v2", loss__perceptual_layers=["block1", "block6"],
                         networks__mobilenet_v2__weights=str(mobilenet_file))
    assert config.feature_networks() == {"mobilenet_v2": "block6"}
    (network,) = load_networks(config).values()
    assert network.deepest == 6
    recorded = {"mobilenet_v2": {**network.record.to_dict(), "sha256": "0" * 64}}
    with pytest.raises(UsageError, match="trained with mobilenet_v2 weights of SHA-256 0000000000000000.*--weights mobilenet_v2=FILE"):
        load_networks(config, recorded=recorded)
