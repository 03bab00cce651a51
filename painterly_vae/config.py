"""The typed configuration: dataclasses loaded from TOML, strict, saved in every run.

One `Config` rebuilds a model and its training exactly: it is written to the run directory
as `config.toml` and stored (as a plain dict) in every checkpoint, so `attribute` and
`--resume` never depend on the current defaults. Loading is strict: an unknown section or
key, a value of the wrong type, or an impossible value raises `ConfigError` naming the key.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import tomli_w

from data_tools.toml_files import read_toml_file, tomllib
from painterly_vae.errors import ConfigError
from painterly_vae.feature_networks import INPUT_SCALINGS, NETWORKS, PADDINGS, network_spec

L1_REDUCTIONS = ("mean", "sum")
KL_REDUCTIONS = ("sum", "mean")
ENCODER_LAYOUTS = ("per-artist", "single")
# painterly_vae.inference.representations implements them; "auto": chosen on the validation paintings
REPRESENTATIONS = ("own", "concat", "elbo", "concat+trunk", "style", "gram", "concat+trunk+gram")
TRUNK_REPRESENTATIONS = ("concat+trunk", "style", "gram", "concat+trunk+gram")
CHOSEN_REPRESENTATION = "auto"
UNKNOWN_THRESHOLDS = ("overall", "per-painter")  # clustering.unknown_threshold
DECODERS = ("dfc", "residual")  # painterly_vae.model.decoders builds them
DECODER_NORMS = ("batch", "encoder", "group")  # the DFC decoder's normalisation
ARTIST_GRADIENTS = ("own", "every")  # which encoders the discriminative term on z trains (loss.artist_weight)
PRECISIONS = ("auto", "fp32", "bf16", "fp16")  # painterly_vae.runtime.precision resolves them


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
    encoder_dropout_blocks: int = 2  # dropout after the first N conv blocks (every block if it has fewer)
    decoder_dropout: float = 0.3  # on the linear layer from z to the decoder's convolutions
    leaky_slope: float = 0.2
    # A frozen pretrained trunk shared by every encoder (painterly_vae.feature_networks): the
    # encoders read its feature maps instead of pixels; the decoder still reconstructs pixels.
    trunk: str = ""  # "" = encoders read pixels (the paper); "mobilenet_v2" or "vgg19"
    trunk_layer: str = ""  # the trunk's last layer; "" = the network's default
    trunk_image_size: int = 0  # the size the trunk reads; 0 = image_size
    trunk_channels: list[int] = field(default_factory=lambda: [256])  # each encoder's blocks on the trunk's maps
    # With a trunk: the encoders also read the painting's pixels at the maps' size (its colour
    # masses and layout, which a deep layer's maps keep little of).
    encoder_pixels: bool = False
    # The pixels at this many times the maps' side (4: 56 px beside MobileNetV2's 14 px maps), each
    # scale x scale patch folded into channels (space to depth) so they still lie beside the maps:
    # the encoders see the painting finer than the maps' grid without a new layer. 1 = the maps' size.
    encoder_pixels_scale: int = 1
    # The shared decoder: "dfc" (the paper's: one 3x3 convolution per scale) or "residual"
    # (decoder_blocks residual blocks per scale, GroupNorm and SiLU, as sharp autoencoders use).
    decoder: str = "dfc"
    decoder_channels: list[int] = field(default_factory=list)  # widest first; [] = channels reversed
    decoder_blocks: int = 1  # residual blocks at each scale ("residual" only)
    # The DFC decoder's normalisation: "batch" (the paper's BatchNorm), "encoder" (BatchNorm whose
    # running statistics are kept per encoder, as training normalised them: every batch is one
    # painter's) or "group" (GroupNorm); experiments/record.md, the decoder's normalisation.
    decoder_norm: str = "batch"

    @property
    def decoder_widths(self) -> list[int]:
        """The decoder's width at each scale, from the smallest map to the largest."""
        return list(self.decoder_channels) or list(reversed(self.channels))

    @property
    def encoder_channels(self) -> list[int]:
        """The conv blocks of each artist's encoder: on pixels, or on the trunk's feature maps."""
        return self.trunk_channels if self.trunk else self.channels

    @property
    def trunk_size(self) -> int:
        return self.trunk_image_size or self.image_size

    @property
    def input_size(self) -> int:
        """The size of the images the model is given (the prepared data's size): the larger of
        what the decoder reconstructs and what the trunk reads; each part resizes from it."""
        return max(self.image_size, self.trunk_size) if self.trunk else self.image_size

    def resolved_trunk_layer(self) -> str:
        return self.trunk_layer or network_spec(self.trunk).trunk_layer


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
    # The DFC-VAE deep-feature term: mean squared difference of a pretrained network's
    # activations of input and reconstruction. The weight is the decoder's; the encoder's is
    # scaled by encoder_l1_weight / decoder_l1_weight like its L1. 0 = off.
    perceptual_weight: float = 0.0
    perceptual_network: str = "vgg19"  # "vgg19" (the paper's) or "mobilenet_v2"
    perceptual_layers: list[str] = field(default_factory=list)  # [] = the network's default taps
    # The texture term: the squared difference of the same network's Gram matrices at
    # texture_layers (Gatys et al.'s style representation, EnhanceNet's texture loss), weighted for
    # the decoder like perceptual_weight and scaled for the encoder the same way. 0 = off (the paper's).
    texture_weight: float = 0.0
    texture_layers: list[str] = field(default_factory=list)  # [] = the perceptual loss's taps
    # texture_grid: the Gram matrices compared over the whole picture (1) or in each cell of a
    # grid x grid division (EnhanceNet's patch-wise texture loss: texture where the painting has it).
    texture_grid: int = 1
    # texture_to_encoders: false = the texture term teaches the decoder only; its gradient stops at z,
    # so each step's encoder gradients are those without it (the encoders still serve a decoder
    # that paints texture, so they do not end where they would without it: experiments/record.md).
    texture_to_encoders: bool = True
    # The structural term: ssim_weight x (1 - SSIM) of reconstruction and painting (Wang et al.'s
    # SSIM, as `evaluate` measures it), weighted for the decoder like the L1 and scaled for the
    # encoders the same way. 0 = off (the paper's).
    ssim_weight: float = 0.0
    # An adversarial term from a patch discriminator on the decoder's output (the VQGAN recipe,
    # painterly_vae.model.discriminator): hinge loss, its weight adapted to the reconstruction
    # loss's gradient at the decoder's last layer and multiplied by adversarial_weight, from
    # adversarial_start_step on. 0 = off (the paper's).
    adversarial_weight: float = 0.0
    adversarial_start_step: int = 0
    discriminator_channels: list[int] = field(default_factory=lambda: [64, 128, 256])  # stride-2 conv layers
    # A discriminative term on z (painterly_vae.training.artist_term): a linear head on every
    # encoder's posterior mean, side by side (what attribution's "concat" reads), names the
    # batch's artist; its cross-entropy times artist_weight joins the encoders' loss. 0 = off (the
    # paper's: no labels in training). artist_gradient: "own" = only the batch's artist's encoder
    # learns from it (each encoder still sees only its artist), "every" = every encoder does.
    artist_weight: float = 0.0
    artist_gradient: str = "own"

    @property
    def uses_feature_network(self) -> bool:
        """Whether a deep-feature term (the DFC loss or the texture loss) needs `perceptual_network`."""
        return self.perceptual_weight > 0 or self.texture_weight > 0

    def measured_only(self) -> tuple[str, ...]:
        """The deep-feature distances (`model.perceptual.FeatureDistances`) logged but not trained: weight 0."""
        return tuple(name for name, weight in (("feature", self.perceptual_weight), ("texture", self.texture_weight))
                     if weight == 0)

    def resolved_perceptual_layers(self) -> list[str]:
        return list(self.perceptual_layers) or list(network_spec(self.perceptual_network).loss_layers)

    def resolved_texture_layers(self) -> list[str]:
        return list(self.texture_layers) or self.resolved_perceptual_layers()

    @property
    def texture_for_decoder_only(self) -> bool:
        """Whether the texture term is trained and must stop at z (`texture_to_encoders` false)."""
        return self.texture_weight > 0 and not self.texture_to_encoders


@dataclass
class NetworkConfig:
    """Where one pretrained network's weights come from, and the input convention they expect.

    "torchvision" = torchvision's ImageNet weights, downloaded once into its cache and
    hash-checked (mean / std scaling, symmetric padding). A path = a local state dict of the
    same architecture; give its convention, e.g. a network converted from TensorFlow:
    input_scaling = "signed" ([-1, 1]), padding = "same"."""

    weights: str = "torchvision"
    input_scaling: str = "imagenet"  # "imagenet" (mean / std) or "signed" ([-1, 1])
    padding: str = "symmetric"  # "symmetric" (torch) or "same" (TensorFlow)


@dataclass
class TrainingConfig:
    """The alternating schedule, optimisation, and what gets logged and saved how often."""

    ratio: str = "equal"  # "2:5" (one number per artist), "auto" (by data size), "sqrt" (by its square root) or "equal"
    interleave: bool = False  # each artist's steps spread through the cycle (2:5 -> B A B B B A B), not in one block
    batch_size: int = 32  # per process: under torchrun with N processes the global batch is N x batch_size
    epochs: int = 20
    steps: int = 0  # when > 0, overrides epochs
    # per-artist encoders: for the first N epochs one encoder learns from every artist and is copied
    # into each artist's slot, which then goes on alone (painterly_vae.training.shared_start); 0 = the paper
    shared_encoder_epochs: float = 0.0
    # per-artist encoders: after each of its own steps an encoder moves this fraction of the way towards
    # the mean of every encoder's weights (painterly_vae.training.encoder_pull); 0 = the paper
    encoder_pull: float = 0.0
    encoder_pull_mean: str = "paintings"  # by each encoder's painter's training paintings, or "equal": each once
    encoder_lr: float = 5e-4
    decoder_lr: float = 5e-4
    discriminator_lr: float = 2e-4  # with loss.adversarial_weight > 0
    adam_betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # "auto" (bf16 where native, else fp32), "fp32", "bf16", "fp16" (CUDA)
    channels_last: bool = True  # NHWC memory: faster convolutions on CPUs and tensor cores
    trunk_cache: bool = True  # with model.trunk: compute its maps of each training painting once (beside the data)
    keep_freed_memory: bool = True  # CPU, glibc: a step reuses the last step's memory (runtime.host_memory)
    log_every: int = 25
    image_every: int = 250
    eval_every: int = 250
    checkpoint_every: int = 500
    max_nonfinite_steps: int = 5
    distributed_timeout_s: int = 1800  # under torchrun: a collective waiting this long ends the job
    runs_dir: str = "runs"


@dataclass
class ClusteringConfig:
    """How paintings are attributed from their latents (see painterly_vae.inference.clustering)."""

    # "concat", "own", "elbo"; with model.trunk "concat+trunk", "style", "gram", "concat+trunk+gram";
    # or "auto": the best of them on the validation paintings (experiments/record.md)
    representation: str = "concat"
    accept_share: float = 0.95  # share of validation paintings the "unknown" threshold lets through
    # "overall": one threshold, accept_share of all validation paintings; "per-painter": one for each painter,
    # at most 1 - accept_share of any painter's own paintings rejected (painterly_vae.inference.painter_thresholds)
    unknown_threshold: str = "overall"
    # a folder of paintings by painters the run does not know ("": none): the familiarity learns from them
    # what "someone else" looks like (needs model.trunk; painterly_vae.inference.exposure)
    others: str = ""
    # at most this many painters left out in turn to measure how strangers pass and choose the familiarity
    # (spread evenly over the run's painters; 0: every one): what keeps the fit linear in the painters
    left_out_painters: int = 20


@dataclass
class InferenceConfig:
    """How paintings go through a trained model without gradients (painterly_vae.runtime.batched)."""

    batch_size: int = 64  # paintings per batch when validating, encoding, attributing and evaluating


@dataclass
class Config:
    """Everything a run needs; sections mirror the TOML file."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    clustering: ClusteringConfig = field(default_factory=ClusteringConfig)
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    networks: dict[str, NetworkConfig] = field(default_factory=dict)  # by network name; absent = torchvision's

    def network(self, name: str) -> NetworkConfig:
        """Where `name`'s weights come from (torchvision's download unless [networks.<name>] says otherwise)."""
        return self.networks.get(name, NetworkConfig())

    def feature_networks(self) -> dict[str, str]:
        """Each pretrained network this config uses -> the deepest layer it needs of it."""
        needed: dict[str, list[str]] = {}
        if self.model.trunk:
            needed.setdefault(self.model.trunk, []).append(self.model.resolved_trunk_layer())
        if self.loss.uses_feature_network:
            needed.setdefault(self.loss.perceptual_network, []).extend(
                self.loss.resolved_perceptual_layers() + self.loss.resolved_texture_layers())
        return {name: max(layers, key=network_spec(name).index) for name, layers in needed.items()}

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
        built: dict[str, Any] = {}
        for section_field in dataclasses.fields(cls):
            values = raw.get(section_field.name, {})
            if not isinstance(values, dict):
                raise ConfigError(f"config section [{section_field.name}] must be a table")
            if section_field.name == "networks":  # one table per network name
                built["networks"] = _build_networks(values)
            else:
                built[section_field.name] = _build_section(section_field.name, section_field.default_factory, values)
        config = cls(**built)
        config.validate()
        return config

    def with_overrides(self, assignments: list[str]) -> "Config":
        """A new config with `section.key=value` assignments applied (value parsed as TOML)."""
        return self.with_values(dict(parse_assignment(assignment) for assignment in assignments))

    def with_values(self, values: dict[str, Any]) -> "Config":
        """A new, validated config with typed values set by dotted name (`training.ratio`,
        `networks.mobilenet_v2.weights`)."""
        raw = self.to_dict()
        for name, value in values.items():
            section, _, key = name.partition(".")
            if section not in raw:
                raise ConfigError(f"unknown config section '{section}' in '{name}'; known: {', '.join(raw)}")
            table = raw[section]
            *parents, last = key.split(".")
            for parent in parents:
                table = table.setdefault(parent, {})
                if not isinstance(table, dict):
                    raise ConfigError(f"{name}: {section}.{parent} is not a table")
            table[last] = value
        return Config.from_dict(raw)

    def validate(self) -> None:
        """Reject impossible values with a message naming the key."""
        m, lo, t = self.model, self.loss, self.training
        _require(m.image_size > 0, "model.image_size", "must be positive")
        _require(len(m.channels) > 0, "model.channels", "needs at least one block")
        _require(all(c > 0 for c in m.channels), "model.channels", "must all be positive")
        _require(len(m.trunk_channels) > 0 and all(c > 0 for c in m.trunk_channels), "model.trunk_channels",
                 "needs at least one block, all positive")
        _require(m.trunk_image_size >= 0, "model.trunk_image_size", "must not be negative (0 = model.image_size)")
        _require(not m.encoder_pixels or bool(m.trunk), "model.encoder_pixels", "needs model.trunk (without one the encoders read pixels anyway)")
        _require(m.encoder_pixels_scale >= 1, "model.encoder_pixels_scale", "must be at least 1 (1 = the maps' size)")
        _require(m.encoder_pixels_scale == 1 or m.encoder_pixels, "model.encoder_pixels_scale",
                 "needs model.encoder_pixels = true (it sets the size of those pixels)")
        _require(m.decoder in DECODERS, "model.decoder", f"must be one of {DECODERS}")
        _require(m.decoder_norm in DECODER_NORMS, "model.decoder_norm", f"must be one of {DECODER_NORMS}")
        _require(not m.decoder_channels or len(m.decoder_channels) == len(m.channels), "model.decoder_channels",
                 f"needs one width per scale ({len(m.channels)}, as model.channels) or [] for channels reversed")
        _require(all(c > 0 for c in m.decoder_channels) and m.decoder_blocks >= 1, "model.decoder_channels",
                 "widths and model.decoder_blocks must be positive")
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
        _require(m.encoder_dropout_blocks >= 0, "model.encoder_dropout_blocks",
                 "must not be negative (more than the encoder's blocks = every block)")
        _require(m.leaky_slope >= 0, "model.leaky_slope", "must not be negative")
        _require(lo.encoder_l1_weight >= 0, "loss.encoder_l1_weight", "must not be negative")
        _require(lo.decoder_l1_weight > 0, "loss.decoder_l1_weight", "must be positive")
        _require(lo.kl_weight >= 0, "loss.kl_weight", "must not be negative")
        _require(lo.l1_reduction in L1_REDUCTIONS, "loss.l1_reduction", f"must be one of {L1_REDUCTIONS}")
        _require(lo.kl_reduction in KL_REDUCTIONS, "loss.kl_reduction", f"must be one of {KL_REDUCTIONS}")
        _require(lo.kl_warmup_steps >= 0, "loss.kl_warmup_steps", "must not be negative")
        _require(lo.perceptual_weight >= 0, "loss.perceptual_weight", "must not be negative")
        _require(lo.texture_weight >= 0, "loss.texture_weight", "must not be negative")
        _require(lo.ssim_weight >= 0, "loss.ssim_weight", "must not be negative")
        _require(lo.texture_grid >= 1, "loss.texture_grid", "must be at least 1 (1 = the whole picture)")
        _require(lo.adversarial_weight >= 0, "loss.adversarial_weight", "must not be negative")
        _require(lo.artist_weight >= 0, "loss.artist_weight", "must not be negative")
        _require(lo.artist_gradient in ARTIST_GRADIENTS, "loss.artist_gradient", f"must be one of {ARTIST_GRADIENTS}")
        _require(lo.adversarial_start_step >= 0, "loss.adversarial_start_step", "must not be negative")
        _require(len(lo.discriminator_channels) > 0 and all(c > 0 for c in lo.discriminator_channels),
                 "loss.discriminator_channels", "needs at least one positive width")
        _require(self.training.discriminator_lr > 0, "training.discriminator_lr", "must be positive")
        _check_layers("loss.perceptual_network", lo.perceptual_network, "loss.perceptual_layers", lo.perceptual_layers)
        _check_layers("loss.perceptual_network", lo.perceptual_network, "loss.texture_layers", lo.texture_layers)
        if m.trunk:
            _check_layers("model.trunk", m.trunk, "model.trunk_layer", [m.trunk_layer] if m.trunk_layer else [])
        for name, network in self.networks.items():
            _require(network.input_scaling in INPUT_SCALINGS, f"networks.{name}.input_scaling", f"must be one of {INPUT_SCALINGS}")
            _require(network.padding in PADDINGS, f"networks.{name}.padding", f"must be one of {PADDINGS}")
            _require(bool(network.weights.strip()), f"networks.{name}.weights", "must be 'torchvision' or a file")
        _require(t.batch_size > 0, "training.batch_size", "must be positive")
        _require(self.inference.batch_size > 0, "inference.batch_size", "must be positive")
        _require(t.epochs >= 0, "training.epochs", "must not be negative")
        _require(t.steps >= 0, "training.steps", "must not be negative")
        _require(t.shared_encoder_epochs >= 0, "training.shared_encoder_epochs", "must not be negative")
        _require(0 <= t.encoder_pull <= 1, "training.encoder_pull", "must be a fraction in [0, 1]")
        _require(t.encoder_pull_mean in ("equal", "paintings"), "training.encoder_pull_mean", "must be 'equal' or 'paintings'")
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
        named = (*REPRESENTATIONS, CHOSEN_REPRESENTATION)
        _require(c.representation in named, "clustering.representation", f"must be one of {named}")
        _require(c.representation not in TRUNK_REPRESENTATIONS or bool(m.trunk), "clustering.representation",
                 f"{c.representation} needs a trunk (model.trunk)")
        _require(0 < c.accept_share <= 1, "clustering.accept_share", "must be in (0, 1]")
        _require(c.unknown_threshold in UNKNOWN_THRESHOLDS, "clustering.unknown_threshold",
                 f"must be one of {UNKNOWN_THRESHOLDS}")
        _require(c.left_out_painters >= 0, "clustering.left_out_painters", "must be 0 (every painter) or more")
        _require(not c.others or bool(m.trunk), "clustering.others",
                 "needs a trunk (model.trunk): the familiarity learns 'someone else' from its Gram statistics")


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Read a TOML file (or the built-in defaults when `path` is None) and apply overrides."""
    config = Config.from_dict(_read_toml(path))
    return config.with_overrides(overrides or [])


def chosen_keys(path: str | Path | None = None, overrides: list[str] | None = None) -> set[str]:
    """The dotted keys the user chose, in the config file or by --set, as opposed to defaults:
    `train` lets the prepared data decide model.image_size only when nobody chose it."""
    def flatten(table: dict[str, Any], prefix: str) -> Iterator[str]:
        for key, value in table.items():
            if isinstance(value, dict):
                yield from flatten(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}"

    return set(flatten(_read_toml(path), "")) | {parse_assignment(a)[0] for a in overrides or []}


EXTENDS_KEY = "extends"  # a config file's top-level key naming the file it changes (relative to itself)


def _read_toml(path: str | Path | None, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The file's tables; with `extends = "other.toml"`, that file's tables first, then this one's
    keys over them (so configs/pretrained-128.toml says only what differs from pretrained.toml)."""
    if path is None:
        return {}
    table = read_toml_file(path, f"config file {path}", ConfigError)
    base = table.pop(EXTENDS_KEY, None)
    if base is None:
        return table
    if not isinstance(base, str):
        raise ConfigError(f"config file {path}: {EXTENDS_KEY} must be a file name, e.g. {EXTENDS_KEY} = \"pretrained.toml\"")
    here = Path(path).resolve()
    parent = here.parent / base
    if parent.resolve() in (*seen, here):
        raise ConfigError(f"config file {path}: {EXTENDS_KEY} = \"{base}\" leads back to itself")
    return _merged(_read_toml(parent, (*seen, here)), table)


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`base` with `changes` over it, table by table (a key in both: the change wins)."""
    out = dict(base)
    for key, value in changes.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def save_config(config: Config, path: Path) -> None:
    """Write the resolved config as TOML, atomically."""
    from data_tools.atomic import atomic_write_bytes

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


def _build_networks(tables: dict[str, Any]) -> dict[str, NetworkConfig]:
    """[networks.<name>] tables: the name must be a known network, each value a NetworkConfig key."""
    networks = {}
    for name, values in tables.items():
        if name not in NETWORKS:
            raise ConfigError(f"unknown network [networks.{name}]; known: {', '.join(NETWORKS)}")
        if not isinstance(values, dict):
            raise ConfigError(f"networks.{name} must be a table, e.g. {{ weights = \"FILE\" }}")
        networks[name] = _build_section(f"networks.{name}", NetworkConfig, values)
    return networks


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


def _check_layers(network_key: str, network: str, layers_key: str, layers: list[str]) -> None:
    """The network must be in the table and every layer one of its layers."""
    _require(network in NETWORKS, network_key, f"unknown network '{network}'; known: {', '.join(NETWORKS)}")
    unknown = [layer for layer in layers if layer not in NETWORKS[network].layers]
    _require(not unknown, layers_key, f"{network} has no layer {', '.join(unknown)}; its layers: {', '.join(NETWORKS[network].layers)}")


def _require(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")
