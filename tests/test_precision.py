"""The fast path (bf16 autocast, channels-last) computes what the plain fp32 path computes."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from conftest import tiny_config

from data_tools.processed import ProcessedData
from painterly_vae.config import Config
from painterly_vae.errors import UsageError
from painterly_vae.model.losses import latent_gradient_scale, vae_loss
from painterly_vae.model.model import PainterlyVAE
from painterly_vae.runtime import precision
from painterly_vae.runtime.precision import autocast, resolve_precision
from painterly_vae.training.trainer import Trainer

# Dropout masks are drawn in memory order, so channels-last and NCHW tensors get different
# masks from the same seed: the paths are compared with dropout off (BatchNorm still in
# training mode).
NO_DROPOUT = {"model.encoder_dropout": 0.0, "model.decoder_dropout": 0.0}


def _step(model: PainterlyVAE, images: torch.Tensor, dtype: torch.dtype | None, channels_last: bool, config: Config):
    memory = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=memory)
    images = images.contiguous(memory_format=memory)
    torch.manual_seed(0)  # same z noise on both paths
    with autocast(torch.device("cpu"), dtype):
        output = model(images, 1, latent_gradient_scale=latent_gradient_scale(config.loss))
    terms = vae_loss(output.reconstruction, images, output.mu, output.logvar, config.loss)
    terms.total.backward()
    return output, terms, {name: p.grad.detach().float().clone() for name, p in model.named_parameters() if p.grad is not None}


def test_bf16_channels_last_matches_fp32_on_one_batch() -> None:
    """Where bf16 is the hardware's (AVX-512 BF16, AMX), single small tensors' gradients (a
    BatchNorm bias, a sum over the batch) drift most: on 8 seeds here the worst tensor's cosine
    was 0.978-0.992 and its size 0.93-1.06 of fp32's, the whole gradient's cosine above 0.998."""
    torch.manual_seed(0)  # the same model and batch whichever tests ran before
    config = Config().with_values({"model.image_size": 64, "model.channels": [16, 32, 64, 128], "model.latent_dim": 32, **NO_DROPOUT})
    plain = PainterlyVAE(config.model, ["a", "b"]).train()
    fast = copy.deepcopy(plain)
    images = torch.rand(8, 3, 64, 64)
    out_plain, terms_plain, grads_plain = _step(plain, images, None, False, config)
    out_fast, terms_fast, grads_fast = _step(fast, images, torch.bfloat16, True, config)

    assert out_fast.reconstruction.shape == out_plain.reconstruction.shape
    largest = (out_fast.reconstruction.float() - out_plain.reconstruction).abs().max()
    assert largest < 0.05, f"bf16 reconstruction off fp32 by {largest:.3f} at most"
    torch.testing.assert_close(terms_fast.l1, terms_plain.l1, rtol=0.02, atol=1e-3)
    torch.testing.assert_close(terms_fast.kl, terms_plain.kl, rtol=0.05, atol=1e-3)
    assert grads_fast.keys() == grads_plain.keys()
    whole = torch.nn.functional.cosine_similarity(torch.cat([grads_fast[name].flatten() for name in grads_plain]),
                                                  torch.cat([grad.flatten() for grad in grads_plain.values()]), dim=0)
    assert whole > 0.995, f"the gradient's direction differs (cosine {whole:.4f})"
    for name, grad in grads_plain.items():
        cosine = torch.nn.functional.cosine_similarity(grads_fast[name].flatten(), grad.flatten(), dim=0)
        assert cosine > 0.95, f"{name}: gradient direction differs (cosine {cosine:.3f})"
        ratio = grads_fast[name].norm() / grad.norm()
        assert 0.85 < ratio < 1.15, f"{name}: gradient size differs ({ratio:.3f})"


def test_channels_last_alone_is_exact_enough() -> None:
    config = Config().with_values({"model.image_size": 32, "model.channels": [8, 16], "model.latent_dim": 8, **NO_DROPOUT})
    plain = PainterlyVAE(config.model, ["a", "b"]).train()
    fast = copy.deepcopy(plain)
    images = torch.rand(4, 3, 32, 32)
    _, terms_plain, grads_plain = _step(plain, images, None, False, config)
    _, terms_fast, grads_fast = _step(fast, images, None, True, config)
    torch.testing.assert_close(terms_fast.total, terms_plain.total, rtol=1e-5, atol=1e-5)
    for name in grads_plain:
        torch.testing.assert_close(grads_fast[name], grads_plain[name], rtol=1e-3, atol=1e-4)


def test_precision_names() -> None:
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) is None
    assert resolve_precision("bf16", cpu) is torch.bfloat16
    assert resolve_precision("auto", cpu) in (None, torch.bfloat16)
    with pytest.raises(UsageError, match="fp16 needs a CUDA GPU"):
        resolve_precision("fp16", cpu)


def test_auto_trains_in_bf16_where_the_cpu_has_it_and_validates_in_fp32(
        tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a CPU with bf16 hardware (probed; here the probe says yes on any CPU) `auto` trains in
    bf16, 2.8x faster at 256 px, while validation, like attribute, computes in fp32."""
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    trainer = Trainer(tiny_config(), ProcessedData.open(tiny_data), tmp_path / "run", torch.device("cpu"))
    seen: list[torch.dtype] = []
    first_conv = next(m for m in trainer.model.shared_decoder.modules() if isinstance(m, torch.nn.Conv2d))
    first_conv.register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
    trainer.train_step(0, trainer.batches.batch(0))
    assert seen == [torch.bfloat16]
    trainer.validate()
    assert set(seen[1:]) == {torch.float32}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_auto_precision_trains_a_step() -> None:
    from painterly_vae.model.losses import vae_loss as loss

    device = torch.device("cuda")
    config = Config().with_values({"model.image_size": 32, "model.channels": [8, 16], "model.latent_dim": 8})
    model = PainterlyVAE(config.model, ["a"]).to(device, memory_format=torch.channels_last)
    dtype = resolve_precision("auto", device)
    images = torch.rand(4, 3, 32, 32, device=device).contiguous(memory_format=torch.channels_last)
    with autocast(device, dtype):
        output = model(images, 0)
    terms = loss(output.reconstruction, images, output.mu, output.logvar, config.loss)
    terms.total.backward()
    assert torch.isfinite(terms.total)
