"""Frozen pretrained networks: weights found, checked and loaded; activations at named layers.

Weights come the way every PyTorch user expects, through torchvision's weights API and cache
(`<torch hub dir>/checkpoints/<file>`, downloaded once, the file's hash checked against the
hash in its name), or from a local state-dict file (torchvision's own layout, whole model or
`features` only). Either way the file's SHA-256 is recorded with the run: a latent `z` means
nothing under other weights, so `attribute` refuses a run whose weights it cannot find or
whose hash differs.

`FeatureNetwork` wraps the network's `features` sequence with its input convention (the
scaling and padding in `painterly_vae.feature_networks`); it is frozen and always in eval
mode. Images come in as floats in [0, 1].
"""

from __future__ import annotations

import hashlib
import math
import re
import urllib.error
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import torchvision.models
from torch import nn

from painterly_vae.errors import UsageError
from painterly_vae.feature_networks import TORCHVISION_WEIGHTS, NetworkSpec, network_spec

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_HASH_IN_NAME = re.compile(r"-([a-f0-9]+)\.")  # torchvision's files: <name>-<sha256 prefix>.pth


@dataclass(frozen=True)
class WeightsRecord:
    """Which weights a network was built from: stored in checkpoints, checked on open."""

    network: str
    weights: str  # "torchvision" or the local path as given
    file: str  # the file actually read
    sha256: str
    input_scaling: str
    padding: str

    def to_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


def torchvision_weights_url(spec: NetworkSpec) -> str:
    """Where torchvision downloads `spec`'s ImageNet weights from."""
    return getattr(torchvision.models, spec.weights_enum)[spec.weights_member].url


def torchvision_cache_file(spec: NetworkSpec) -> Path:
    """The file torchvision's cache keeps `spec`'s weights in (it may not exist yet)."""
    name = Path(torch.hub.urlparse(torchvision_weights_url(spec)).path).name
    return Path(torch.hub.get_dir()) / "checkpoints" / name


def option_for(name: str) -> str:
    """The config key a user sets to read `name`'s weights from a local file."""
    return f"networks.{name}.weights"


def weights_file(spec: NetworkSpec, weights: str, progress: bool = True) -> Path:
    """The local file holding the weights: torchvision's cached download (fetched if missing) or `weights`."""
    if weights != TORCHVISION_WEIGHTS:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise UsageError(f"{option_for(spec.name)}: no file at {path}")
        return path
    cached = torchvision_cache_file(spec)
    if cached.is_file():
        return cached
    url = torchvision_weights_url(spec)
    cached.parent.mkdir(parents=True, exist_ok=True)
    prefix = _HASH_IN_NAME.search(cached.name)
    try:
        torch.hub.download_url_to_file(url, str(cached), hash_prefix=prefix.group(1) if prefix else None, progress=progress)
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise UsageError(
            f"could not download {spec.name}'s ImageNet weights ({error}): torchvision wanted {cached.name} from {url} "
            f"in {cached.parent}. Copy that file there, or give a local state dict with --set {option_for(spec.name)}=FILE"
        ) from None
    except RuntimeError as error:  # the hash in the file name did not match what arrived
        raise UsageError(f"the download of {url} is corrupt ({error}); try again") from None
    return cached


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_features(spec: NetworkSpec, path: Path) -> nn.Sequential:
    """`spec`'s `features` with the weights of `path`; every way the file can be wrong is a UsageError."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for truncated, foreign or pickled files
        raise UsageError(f"{path} is not a readable PyTorch state dict ({type(error).__name__}: {error})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UsageError(f"{path} does not hold a state dict of tensors")
    prefixed = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    given = prefixed or state
    features = getattr(torchvision.models, spec.builder)(weights=None).features
    expected = features.state_dict()
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    if missing or unexpected:
        raise UsageError(
            f"{path} is not a {spec.name} state dict: missing keys {_few(missing)}, unexpected keys {_few(unexpected)}"
        )
    wrong = [f"{k} {tuple(given[k].shape)} (expected {tuple(v.shape)})" for k, v in expected.items() if given[k].shape != v.shape]
    if wrong:
        raise UsageError(f"{path} is not a {spec.name} state dict: wrong shapes for {_few(wrong)}")
    features.load_state_dict(given)
    return features


def _few(names: list[str], shown: int = 4) -> str:
    if not names:
        return "none"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


class SamePaddingConv2d(nn.Module):
    """A convolution padded as TensorFlow's "SAME" does: the output is ceil(input / stride)
    and the padding goes after (right, bottom) when it is odd. Torch's symmetric padding puts
    one pixel on each side instead, which moves every feature of a TensorFlow-trained network."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        conv.padding = (0, 0)
        self.conv = conv

    @staticmethod
    def padding_for(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
        """(before, after) along one dimension."""
        total = max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
        return total // 2, total - total // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), (sh, sw), (dh, dw) = self.conv.kernel_size, self.conv.stride, self.conv.dilation
        top, bottom = self.padding_for(x.shape[-2], kh, sh, dh)
        left, right = self.padding_for(x.shape[-1], kw, sw, dw)
        return self.conv(F.pad(x, (left, right, top, bottom)))


def use_same_padding(module: nn.Module) -> None:
    """Replace every strided convolution under `module` by its "SAME"-padded twin (in place).
    Stride-1 convolutions with odd kernels pad the same way under both conventions."""
    for name, child in module.named_children():
        if isinstance(child, nn.Conv2d) and max(child.stride) > 1:
            setattr(module, name, SamePaddingConv2d(child))
        else:
            use_same_padding(child)


class FeatureNetwork(nn.Module):
    """A frozen network's `features` up to its deepest needed layer, with its input convention."""

    def __init__(self, spec: NetworkSpec, features: nn.Sequential, deepest: int, input_scaling: str,
                 padding: str, record: WeightsRecord | None = None) -> None:
        super().__init__()
        self.spec = spec
        self.record = record
        self.features = features[: deepest + 1]
        if padding == "same":
            use_same_padding(self.features)
        self.features.requires_grad_(False)
        if input_scaling == "imagenet":
            mean, std = IMAGENET_MEAN, IMAGENET_STD
        else:  # "signed": [0, 1] -> [-1, 1], TensorFlow's (x - 128) / 128 on 8-bit pixels
            mean, std = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.eval()

    @property
    def deepest(self) -> int:
        return len(self.features) - 1

    def train(self, mode: bool = True) -> "FeatureNetwork":
        """Always eval: a frozen network's BatchNorm statistics and dropout never change."""
        return super().train(False)

    def scale(self, images: torch.Tensor) -> torch.Tensor:
        return (images - self.mean.to(images.dtype)) / self.std.to(images.dtype)

    def activations(self, images: torch.Tensor, indices: list[int]) -> list[torch.Tensor]:
        """The activations after each layer in `indices` (sorted), running no further than needed."""
        wanted = sorted(set(indices))
        if wanted[-1] > self.deepest:
            raise ValueError(f"layer {wanted[-1]} is deeper than this network was cut ({self.deepest})")
        x, taken = self.scale(images), []
        for index, layer in enumerate(self.features[: wanted[-1] + 1]):
            x = layer(x)
            if index in wanted:
                taken.append(x)
        return taken

    def pooled(self, images: torch.Tensor, layer: str | None = None) -> torch.Tensor:
        """(B, C) the global average of a layer's activations (default: the spec's pooled layer)."""
        index = self.spec.index(layer or self.spec.pooled_layer)
        return self.activations(images, [index])[0].float().mean((2, 3))


def channel_statistics(maps: list[torch.Tensor]) -> torch.Tensor:
    """(B, sum of 2 C) the mean and standard deviation of every channel of every (B, C, H, W) map,
    in float32: a painting's style statistics at those layers, the texture statistics style
    transfer matches (Gatys et al., AdaIN), which say more about who painted a picture than a
    network's last layer's average."""
    parts = []
    for activation in maps:
        activation = activation.float().flatten(2)
        parts += [activation.mean(2), activation.std(2, unbiased=False)]
    return torch.cat(parts, 1)


def gram_statistics(maps: list[torch.Tensor]) -> torch.Tensor:
    """(B, sum of C + C (C + 1) / 2) every channel's mean and the channel covariance over the
    painting (the Gram matrix of the centred maps, Gatys et al.'s style representation; upper
    triangle, signed square root so that it grows like the standard deviations), in float32."""
    parts = []
    for activation in maps:
        activation = activation.float().flatten(2)
        mean = activation.mean(2)
        centred = activation - mean[..., None]
        covariance = centred @ centred.transpose(1, 2) / activation.shape[2]
        rows, columns = torch.triu_indices(covariance.shape[1], covariance.shape[1], device=covariance.device)
        upper = covariance[:, rows, columns]
        parts += [mean, upper.sign() * upper.abs().sqrt()]
    return torch.cat(parts, 1)


def load_feature_network(name: str, source: Any, deepest_layer: str, progress: bool = True) -> FeatureNetwork:
    """Network `name` cut after `deepest_layer`, weights and convention from `source` (a
    `config.NetworkConfig`), with the record of which weights file it read."""
    spec = network_spec(name)
    deepest = spec.index(deepest_layer)
    path = weights_file(spec, source.weights, progress)
    record = WeightsRecord(name, source.weights, str(path), sha256_of(path), source.input_scaling, source.padding)
    return FeatureNetwork(spec, load_features(spec, path), deepest, source.input_scaling, source.padding, record)


def load_networks(config: Any, progress: bool = True, recorded: dict[str, dict[str, str]] | None = None,
                  run: str = "the run", layers: dict[str, str] | None = None) -> dict[str, FeatureNetwork]:
    """Pretrained networks, each loaded once from where `config` says, cut after a layer: by
    default every network the config uses, at the deepest layer it needs; else `layers`
    (network name -> deepest layer).

    `recorded` (from a checkpoint): each network's weights must have the SHA-256 the run was
    trained with; anything else is a UsageError saying which file to give."""
    networks = {}
    for name, deepest in (config.feature_networks() if layers is None else layers).items():
        network = load_feature_network(name, config.network(name), deepest, progress)
        expected = (recorded or {}).get(name)
        if expected is not None and expected["sha256"] != network.record.sha256:
            raise UsageError(
                f"{run} was trained with {name} weights of SHA-256 {expected['sha256'][:16]}... ({expected['weights']}), "
                f"but {network.record.file} has {network.record.sha256[:16]}...: give the file it was trained with, "
                f"--weights {name}=FILE"
            )
        networks[name] = network
    return networks
