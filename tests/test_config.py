"""Config: strict TOML loading, overrides, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from painterly_vae.config import Config, load_config
from painterly_vae.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_default_toml_is_the_builtin_default() -> None:
    assert load_config(REPO / "configs" / "default.toml") == Config()


def test_demo_toml_loads() -> None:
    demo = load_config(REPO / "configs" / "demo.toml")
    assert demo.model.image_size == 64
    assert demo.training.steps > 0


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ("[model]\nlatnt_dim = 10\n", "model.latnt_dim"),
        ("[modle]\n", "[modle]"),
        ("[model]\nlatent_dim = 'ten'\n", "model.latent_dim"),
        ("[model]\nlatent_dim = true\n", "model.latent_dim"),
        ("[model]\nchannels = [8, 'x']\n", "model.channels[1]"),
        ("[model]\nimage_size = 100\n", "model.image_size"),
        ("[model]\nencoder_dropout = -0.1\n", "model.encoder_dropout"),
        ("[training]\nencoder_lr = -1e-3\n", "training.encoder_lr"),
        ("[training]\nencoder_pull = 1.5\n", "training.encoder_pull"),
        ("[loss]\nl1_reduction = 'median'\n", "loss.l1_reduction"),
        ("[loss]\ntexture_grid = 0\n", "loss.texture_grid"),
        ("[model]\nencoders = 'two'\n", "model.encoders"),
        ("[clustering]\nrepresentation = 'concat+trunk'\n", "clustering.representation"),  # no model.trunk
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, toml: str, named: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        load_config(path)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[model\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")


def test_set_overrides_are_typed() -> None:
    config = load_config(None, ["model.latent_dim=64", "training.ratio=2:5", "model.channels=[16, 32]",
                                "model.image_size=64", "loss.kl_weight=2"])
    assert config.model.latent_dim == 64
    assert config.training.ratio == "2:5"
    assert config.model.channels == [16, 32]
    assert config.loss.kl_weight == 2.0 and isinstance(config.loss.kl_weight, float)


@pytest.mark.parametrize("assignment", ["model.latent_dim", "latent_dim=3", "nosuch.key=1", "model.nokey=1"])
def test_bad_set_is_an_error(assignment: str) -> None:
    with pytest.raises(ConfigError):
        load_config(None, [assignment])


def test_round_trip_through_dict() -> None:
    config = load_config(None, ["model.latent_dim=7"])
    assert Config.from_dict(config.to_dict()) == config


def test_pretrained_toml_reads_mobilenet_at_224_and_paints_64() -> None:
    pretrained = load_config(REPO / "configs" / "pretrained.toml")
    assert pretrained.model.trunk == "mobilenet_v2" and pretrained.model.input_size == 224
    assert pretrained.model.image_size == 64 and pretrained.loss.perceptual_network == "mobilenet_v2"
    assert pretrained.feature_networks() == {"mobilenet_v2": "block13"}
    assert pretrained.network("mobilenet_v2").weights == "torchvision"


def test_the_128_and_256_configs_change_only_the_decoders_size_the_structural_weight_the_pixels_and_the_pull() -> None:
    pretrained = load_config(REPO / "configs" / "pretrained.toml").to_dict()
    for name, size in (("pretrained-128.toml", 128), ("pretrained-256.toml", 256)):
        config = load_config(REPO / "configs" / name)
        assert config.model.image_size == size and config.model.trunk_size == 224
        assert config.model.input_size == max(size, 224)  # the data prepared at 224 px, or 256 for the 256 px decoder
        # at 128 px the texture loss costs more SSIM than at 64: twice the structural term buys it back
        assert config.loss.ssim_weight == 2 * pretrained["loss"]["ssim_weight"], name
        # at 128 px the encoders read the pixels at 112 px (8 x the maps' 14 px) instead of 14 px
        assert config.model.encoder_pixels_scale == 8 and pretrained["model"]["encoder_pixels_scale"] == 1, name
        # and each encoder is pulled a tenth of the way towards the encoders' mean after its own steps
        assert config.training.encoder_pull == 0.1 and pretrained["training"]["encoder_pull"] == 0.0, name
        changed = config.to_dict()
        changed["model"]["image_size"] = 64
        changed["model"]["encoder_pixels_scale"] = 1
        changed["training"]["encoder_pull"] = 0.0
        changed["loss"]["ssim_weight"] = pretrained["loss"]["ssim_weight"]
        assert changed == pretrained, name


def test_the_many_painters_config_is_the_recommended_one_with_encoders_half_as_wide() -> None:
    pretrained = load_config(REPO / "configs" / "pretrained.toml").to_dict()
    many = load_config(REPO / "configs" / "many-painters.toml").to_dict()
    assert pretrained["model"]["trunk_channels"] == [256] and many["model"]["trunk_channels"] == [128]
    many["model"]["trunk_channels"] = [256]
    assert many == pretrained


def test_extends_reads_the_other_file_first_and_refuses_a_loop(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text('[model]\nimage_size = 32\nlatent_dim = 16\n[loss]\nkl_weight = 0.5\n')
    (tmp_path / "child.toml").write_text('extends = "base.toml"\n[model]\nlatent_dim = 8\n')
    child = load_config(tmp_path / "child.toml", ["loss.kl_weight=0.25"])
    assert (child.model.image_size, child.model.latent_dim, child.loss.kl_weight) == (32, 8, 0.25)
    (tmp_path / "loop.toml").write_text('extends = "loop.toml"\n')
    with pytest.raises(ConfigError, match="leads back to itself"):
        load_config(tmp_path / "loop.toml")
    (tmp_path / "orphan.toml").write_text('extends = "nowhere.toml"\n')
    with pytest.raises(ConfigError, match="nowhere.toml does not exist"):
        load_config(tmp_path / "orphan.toml")


def test_network_tables_and_dotted_overrides() -> None:
    config = Config().with_overrides(["networks.vgg19.weights=/models/vgg19.pth", "networks.vgg19.padding=same"])
    assert config.network("vgg19").weights == "/models/vgg19.pth" and config.network("vgg19").padding == "same"
    assert config.network("mobilenet_v2").weights == "torchvision"
    with pytest.raises(ConfigError, match="networks.vgg19 must be a table"):
        Config.from_dict({"networks": {"vgg19": "file.pth"}})
