"""The typed configuration: dataclasses loaded from TOML, strict, saved in every run.

One `Config` rebuilds a model and its training exactly: it is written to the run directory
as `config.toml` and stored (as a plain dict) in every checkpoint, so `attribute` and
`--resume` never depend on the current defaults. Loading is strict: an unknown section or
key, a value of the wrong type, or an impossible value raises `ConfigError` naming the key.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

import tomli_w

from painterly_vae.errors import ConfigError

L1_REDUCTIONS = ("mean", "sum")
KL_REDUCTIONS = ("sum", "mean")
ENCODER_LAYOUTS = ("per-artist", "single")
REPRESENTATIONS = ("own", "concat", "elbo")  # painterly_vae.clustering implements them
PRECISIONS = ("auto", "fp32", "bf16", "fp16")  # painterly_vae.precision resolves them
# VGG19 activations the perceptual loss can compare (painterly_vae.perceptual maps them to layers)
VGG19_LAYERS = tuple(
    f"relu{block}_{conv}" for block, convs in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)) for conv in range(1, convs + 1)
)


def require_vgg19_weights_file(path: str | Path) -> None:
    """The perceptual loss reads VGG19 weights from a local file only; say so when it is missing."""
    if not Path(path).is_file():
        raise ConfigError(
            f"loss.vgg19_weights: no file at {path}. The perceptual loss needs torchvision's VGG19 ImageNet "
            f"weights as a local file (vgg19-dcbb9e9d.pth, from download.pytorch.org/models/ on a machine with "
            f"internet); painterly-vae never downloads it"
        )


@dataclass
class DataConfig:
    """Where the prepared data is and how batches are drawn from it."""

    path: str = "data/processed"
    hflip: bool = True  # random horizontal flips: a mirrored painting keeps its style


@dataclass
class ModelConfig:
    """The DFC-VAE-style backbone; every size is derived from these numbers."""

    image_size: int = 256
    channels: list[int] = field(default_factory=lambda: [32, 64, 128, 256])
    latent_dim: int = 100
    encoders: str = "per-artist"  # "single" = the paper's one-encoder baseline
    encoder_dropout: float = 0.1
    encoder_dropout_blocks: int = 2  # dropout after the first N conv blocks
    decoder_dropout: float = 0.3  # on the linear layer from z to the decoder's convolutions
    leaky_slope: float = 0.2


@dataclass
class LossConfig:
    """Encoder objective KL + encoder_l1_weight x L1; decoder objective decoder_l1_weight x L1.

    Reductions decide the balance of L1 against KL. "mean" averages over every pixel and
    channel; "sum" sums over them per image (then averages over the batch). KL "sum" adds
    the latent dimensions per image, "mean" averages them.
    """

    encoder_l1_weight: float = 100.0
    decoder_l1_weight: float = 1000.0
    kl_weight: float = 1.0
    l1_reduction: str = "mean"
    kl_reduction: str = "mean"
    kl_warmup_steps: int = 0  # KL weight ramps linearly from 0 over this many steps
    # The DFC-VAE deep-feature term: mean squared difference of VGG19 activations of input and
    # reconstruction. The weight is the decoder's; the encoder's is scaled by
    # encoder_l1_weight / decoder_l1_weight like its L1. 0 = off. The weights file is
    # torchvision's vgg19 ImageNet state dict (vgg19-dcbb9e9d.pth), read locally, never downloaded.
    perceptual_weight: float = 0.0
    perceptual_layers: list[str] = field(default_factory=lambda: ["relu1_1", "relu2_1", "relu3_1"])
    vgg19_weights: str = ""


@dataclass
class TrainingConfig:
    """The alternating schedule, optimisation, and what gets logged and saved how often."""

    ratio: str = "equal"  # "2:5" (one number per artist), "auto" (by data size) or "equal"
    batch_size: int = 32  # per process: under torchrun with N processes the global batch is N x batch_size
    epochs: int = 20
    steps: int = 0  # when > 0, overrides epochs
    encoder_lr: float = 5e-4
    decoder_lr: float = 5e-4
    adam_betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # "auto" (bf16 where native, else fp32), "fp32", "bf16", "fp16" (CUDA)
    channels_last: bool = True  # NHWC memory: faster convolutions on CPUs and tensor cores
    log_every: int = 25
    image_every: int = 250
    eval_every: int = 250
    checkpoint_every: int = 500
    max_nonfinite_steps: int = 5
    distributed_timeout_s: int = 1800  # under torchrun: a collective waiting this long ends the job
    runs_dir: str = "runs"


@dataclass
class ClusteringConfig:
    """How paintings are attributed from their latents (see painterly_vae.clustering)."""

    representation: str = "concat"  # "concat", "own" or "elbo": measured in the README
    accept_share: float = 0.95  # share of validation paintings the "unknown" threshold lets through


@dataclass
class Config:
    """Everything a run needs; sections mirror the TOML file."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    clustering: ClusteringConfig = field(default_factory=ClusteringConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """A plain nested dict (safe for `torch.save` with `weights_only` loading)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Config":
        """Build and validate; unknown sections or keys and wrong types raise ConfigError."""
        sections = {f.name: f.type for f in dataclasses.fields(cls)}
        unknown = set(raw) - set(sections)
        if unknown:
            raise ConfigError(
                f"unknown config section [{sorted(unknown)[0]}]; known: {', '.join(sections)}"
            )
        built = {}
        for section_field in dataclasses.fields(cls):
            section_cls = section_field.default_factory
            values = raw.get(section_field.name, {})
            if not isinstance(values, dict):
                raise ConfigError(f"config section [{section_field.name}] must be a table")
            built[section_field.name] = _build_section(section_field.name, section_cls, values)
        config = cls(**built)
        config.validate()
        return config

    def with_overrides(self, assignments: list[str]) -> "Config":
        """A new config with `section.key=value` assignments applied (value parsed as TOML)."""
        return self.with_values(dict(parse_assignment(assignment) for assignment in assignments))

    def with_values(self, values: dict[str, Any]) -> "Config":
        """A new, validated config with typed values set by dotted name (`training.ratio`)."""
        raw = self.to_dict()
        for name, value in values.items():
            section, _, key = name.partition(".")
            if section not in raw:
                raise ConfigError(f"unknown config section '{section}' in '{name}'; known: {', '.join(raw)}")
            raw[section][key] = value
        return Config.from_dict(raw)

    def validate(self) -> None:
        """Reject impossible values with a message naming the key."""
        m, lo, t = self.model, self.loss, self.training
        _require(m.image_size > 0, "model.image_size", "must be positive")
        _require(len(m.channels) > 0, "model.channels", "needs at least one block")
        _require(all(c > 0 for c in m.channels), "model.channels", "must all be positive")
        divisor = 2 ** len(m.channels)
        _require(
            m.image_size % divisor == 0,
            "model.image_size",
            f"{m.image_size} is not divisible by 2^{len(m.channels)} = {divisor} "
            f"(one halving per block in model.channels)",
        )
        _require(m.latent_dim > 0, "model.latent_dim", "must be positive")
        _require(m.encoders in ENCODER_LAYOUTS, "model.encoders", f"must be one of {ENCODER_LAYOUTS}")
        for key in ("encoder_dropout", "decoder_dropout"):
            rate = getattr(m, key)
            _require(0.0 <= rate < 1.0, f"model.{key}", f"{rate} is not a rate in [0, 1)")
        _require(
            0 <= m.encoder_dropout_blocks <= len(m.channels),
            "model.encoder_dropout_blocks",
            f"must be between 0 and the number of blocks ({len(m.channels)})",
        )
        _require(m.leaky_slope >= 0, "model.leaky_slope", "must not be negative")
        _require(lo.encoder_l1_weight >= 0, "loss.encoder_l1_weight", "must not be negative")
        _require(lo.decoder_l1_weight > 0, "loss.decoder_l1_weight", "must be positive")
        _require(lo.kl_weight >= 0, "loss.kl_weight", "must not be negative")
        _require(lo.l1_reduction in L1_REDUCTIONS, "loss.l1_reduction", f"must be one of {L1_REDUCTIONS}")
        _require(lo.kl_reduction in KL_REDUCTIONS, "loss.kl_reduction", f"must be one of {KL_REDUCTIONS}")
        _require(lo.kl_warmup_steps >= 0, "loss.kl_warmup_steps", "must not be negative")
        _require(lo.perceptual_weight >= 0, "loss.perceptual_weight", "must not be negative")
        unknown_layers = [name for name in lo.perceptual_layers if name not in VGG19_LAYERS]
        _require(not unknown_layers, "loss.perceptual_layers", f"{unknown_layers} are not among {VGG19_LAYERS}")
        _require(bool(lo.perceptual_layers), "loss.perceptual_layers", "must name at least one layer")
        _require(
            lo.perceptual_weight == 0 or bool(lo.vgg19_weights), "loss.vgg19_weights",
            "must give the path of torchvision's VGG19 weights file when loss.perceptual_weight > 0",
        )
        _require(t.batch_size > 0, "training.batch_size", "must be positive")
        _require(t.epochs >= 0, "training.epochs", "must not be negative")
        _require(t.steps >= 0, "training.steps", "must not be negative")
        _require(t.epochs > 0 or t.steps > 0, "training.epochs", "or training.steps must be positive")
        for key in ("encoder_lr", "decoder_lr"):
            _require(getattr(t, key) > 0, f"training.{key}", "must be positive")
        _require(
            len(t.adam_betas) == 2 and all(0 <= b < 1 for b in t.adam_betas),
            "training.adam_betas",
            "must be two numbers in [0, 1)",
        )
        for key in ("log_every", "image_every", "eval_every", "checkpoint_every", "max_nonfinite_steps",
                    "distributed_timeout_s"):
            _require(getattr(t, key) > 0, f"training.{key}", "must be positive")
        _require(bool(t.ratio.strip()), "training.ratio", "must not be empty")
        _require(t.precision in PRECISIONS, "training.precision", f"must be one of {PRECISIONS}")
        c = self.clustering
        _require(c.representation in REPRESENTATIONS, "clustering.representation", f"must be one of {REPRESENTATIONS}")
        _require(0 < c.accept_share <= 1, "clustering.accept_share", "must be in (0, 1]")


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Read a TOML file (or the built-in defaults when `path` is None) and apply overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    config = Config.from_dict(raw)
    return config.with_overrides(overrides or [])


def save_config(config: Config, path: Path) -> None:
    """Write the resolved config as TOML, atomically."""
    from painterly_vae.atomic import atomic_write_bytes

    atomic_write_bytes(path, tomli_w.dumps(config.to_dict()).encode("utf-8"))


def parse_assignment(assignment: str) -> tuple[str, Any]:
    """Split `section.key=value` into the dotted name and the value read as TOML.

    A value that is not valid TOML is taken as a plain string, so `training.ratio=2:5` and
    `training.device=cpu` need no quotes.
    """
    name, sep, text = assignment.partition("=")
    section, dot, key = name.strip().partition(".")
    if not sep or not dot or not section or not key:
        raise ConfigError(f"--set expects section.key=value, got '{assignment}'")
    try:
        value = tomllib.loads(f"value = {text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = text.strip()
    return f"{section}.{key}", value


def _build_section(section: str, section_cls: type, values: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(section_cls)
    known = {f.name for f in dataclasses.fields(section_cls)}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(
                f"unknown config key {section}.{key}; known keys in [{section}]: {', '.join(sorted(known))}"
            )
        values = {**values, key: _coerce(f"{section}.{key}", hints[key], value)}
    return section_cls(**values)


def _coerce(name: str, expected: Any, value: Any) -> Any:
    """Check a value against a field's type; ints are accepted where floats are expected."""
    origin = typing.get_origin(expected)
    if origin is list:
        (item_type,) = typing.get_args(expected)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name} must be a list of {item_type.__name__}, got {value!r}")
        return [_coerce(f"{name}[{i}]", item_type, item) for i, item in enumerate(value)]
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, bool) or not isinstance(value, expected):
        raise ConfigError(f"{name} must be {expected.__name__}, got {value!r} ({type(value).__name__})")
    return value


def _require(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")
