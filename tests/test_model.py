"""Model: shapes derived from the config at every size, the single-encoder switch."""

from __future__ import annotations

import pytest
import torch

from painterly_vae.config import Config
from painterly_vae.errors import ConfigError
from painterly_vae.model.model import PainterlyVAE

ARTISTS = ["monet", "renoir", "sisley"]


@pytest.mark.parametrize("decoder", ["dfc", "residual"])
@pytest.mark.parametrize("size", [32, 64, 128, 256])
def test_shapes_at_every_size(size: int, decoder: str) -> None:
    config = Config().with_values({"model.image_size": size, "model.latent_dim": 100, "model.decoder": decoder,
                                   "model.decoder_channels": [64, 32, 16, 16] if decoder == "residual" else []})
    model = PainterlyVAE(config.model, ARTISTS).eval()
    images = torch.rand(2, 3, size, size)
    with torch.no_grad():
        for artist in range(len(ARTISTS)):
            out = model(images, artist)
            assert out.reconstruction.shape == (2, 3, size, size)
            assert out.mu.shape == out.logvar.shape == out.z.shape == (2, 100)
            assert 0 <= float(out.reconstruction.min()) and float(out.reconstruction.max()) <= 1


def test_one_encoder_per_artist_and_one_shared_decoder() -> None:
    model = PainterlyVAE(Config().with_values({"model.image_size": 32}).model, ARTISTS)
    assert len(model.encoders) == 3
    assert len({id(model.encoder_for(a)) for a in range(3)}) == 3
    # 256 channels at 2x2 after four halvings of 32 px
    assert model.encoders[0].to_mu.in_features == 256 * 2 * 2


def test_single_encoder_baseline_is_one_switch_away() -> None:
    config = Config().with_values({"model.image_size": 32, "model.encoders": "single"})
    model = PainterlyVAE(config.model, ARTISTS)
    assert len(model.encoders) == 1
    assert all(model.encoder_for(a) is model.encoders[0] for a in range(3))
    multi = PainterlyVAE(Config().with_values({"model.image_size": 32}).model, ARTISTS)
    per_encoder = sum(p.numel() for p in multi.encoders[0].parameters())
    total = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert total(multi) - total(model) == 2 * per_encoder


def test_image_size_must_divide_by_the_blocks() -> None:
    with pytest.raises(ConfigError, match="not divisible by 2\\^4"):
        Config().with_values({"model.image_size": 72})
    Config().with_values({"model.image_size": 72, "model.channels": [16, 32, 64]})  # 72 = 8 * 9


def test_eval_mode_is_deterministic_and_train_mode_samples() -> None:
    model = PainterlyVAE(Config().with_values({"model.image_size": 32}).model, ARTISTS)
    images = torch.rand(2, 3, 32, 32)
    model.eval()
    with torch.no_grad():
        a, b = model(images, 0), model(images, 0)
    assert torch.equal(a.reconstruction, b.reconstruction)
    assert torch.equal(a.z, a.mu)
    model.train()
    out = model(images, 0)
    assert not torch.equal(out.z, out.mu)


def test_unknown_artist_index_is_an_error() -> None:
    model = PainterlyVAE(Config().with_values({"model.image_size": 32}).model, ARTISTS)
    with pytest.raises(IndexError):
        model.encoder_for(3)


@pytest.mark.parametrize("channels_last", [True, False])
def test_the_memory_layout_is_the_configs_and_changes_speed_not_latents(channels_last: bool) -> None:
    """`training.channels_last` lays out the model and every batch fed to it (`run_batched`
    lays batches out as the config says); either way the latents agree."""
    from painterly_vae.inference.latents import encode_views
    from painterly_vae.runtime.batched import InferenceSettings

    config = Config().with_values({"model.image_size": 32, "model.channels": [8, 16], "model.latent_dim": 4})
    torch.manual_seed(0)
    reference = PainterlyVAE(config.model, ["a", "b"])
    model = PainterlyVAE(config.model, ["a", "b"])
    model.load_state_dict(reference.state_dict())
    model.lay_out(channels_last)
    conv = next(p for p in model.parameters() if p.dim() == 4)
    expected = torch.channels_last if channels_last else torch.contiguous_format
    assert model.memory_format == expected and conv.is_contiguous(memory_format=expected)
    images = torch.rand(3, 3, 32, 32)
    assert model.laid_out(images).is_contiguous(memory_format=expected)
    paintings = (torch.rand(3, 3, 32, 32) * 255).to(torch.uint8).numpy()
    settings = InferenceSettings.of(config.with_values({"training.channels_last": channels_last}), torch.device("cpu"))
    assert settings.memory_format == expected
    ours = encode_views(model, paintings, settings).mu
    theirs = encode_views(reference, paintings, InferenceSettings.of(config, torch.device("cpu"))).mu
    assert ours == pytest.approx(theirs, abs=1e-5)


def test_the_residual_decoder_paints_at_its_own_widths_and_the_encoders_do_not_change() -> None:
    config = Config().with_values({"model.image_size": 32, "model.channels": [8, 16], "model.decoder": "residual",
                                   "model.decoder_channels": [24, 12], "model.decoder_blocks": 2})
    model = PainterlyVAE(config.model, ARTISTS)
    reference = PainterlyVAE(Config().with_values({"model.image_size": 32, "model.channels": [8, 16]}).model, ARTISTS)
    assert [p.shape for p in model.encoders.parameters()] == [p.shape for p in reference.encoders.parameters()]
    widths = {m.out_channels for m in model.shared_decoder.modules() if isinstance(m, torch.nn.Conv2d)}
    assert widths == {24, 12, 3}
    blocks = sum(type(m).__name__ == "ResidualBlock" for m in model.shared_decoder.modules())
    assert blocks == 2 * 2 + 1  # two per scale, one before the RGB convolution


@pytest.mark.parametrize("norm, independent", [("batch", False), ("group", True)])
def test_with_group_norm_a_painting_is_painted_the_same_whatever_else_is_in_the_batch(norm: str,
                                                                                       independent: bool) -> None:
    """The per-artist run trains the decoder on one painter's batch at a time: with BatchNorm the
    painting depends on its batch-mates in training, and on every painter's averages afterwards;
    with GroupNorm training and evaluation paint a z the same, alone or beside others."""
    config = Config().with_values({"model.image_size": 32, "model.channels": [8, 16], "model.latent_dim": 4,
                                   "model.decoder_dropout": 0.0, "model.decoder_norm": norm})
    torch.manual_seed(0)
    decoder = PainterlyVAE(config.model, ARTISTS).shared_decoder.train()
    z = torch.randn(4, 4)
    alone, beside_others = decoder(z[:2]), decoder(z)[:2]
    after_training = decoder.eval()(z[:2])
    assert torch.allclose(alone, beside_others, atol=1e-6) is independent
    assert torch.allclose(alone, after_training, atol=1e-6) is independent
    norms = {type(m).__name__ for m in decoder.modules() if "Norm" in type(m).__name__}
    assert norms == ({"GroupNorm"} if independent else {"BatchNorm2d"})


@pytest.mark.parametrize("values, key", [({"model.decoder": "gan"}, "model.decoder"),
                                         ({"model.decoder_norm": "layer"}, "model.decoder_norm"),
                                         ({"model.decoder_channels": [8]}, "model.decoder_channels"),
                                         ({"model.encoder_pixels": True}, "model.encoder_pixels"),
                                         ({"model.encoder_pixels_scale": 2}, "model.encoder_pixels_scale"),
                                         ({"model.trunk": "mobilenet_v2", "model.encoder_pixels": True,
                                           "model.encoder_pixels_scale": 0}, "model.encoder_pixels_scale")])
def test_decoder_and_encoder_input_keys_are_checked(values: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        Config().with_values({"model.image_size": 32, "model.channels": [8, 16], **values})
