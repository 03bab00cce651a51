"""The one-backward trick gives exactly the gradients of the two-loss definition."""

from __future__ import annotations

import pytest
import torch

from painterly_vae.config import Config
from painterly_vae.model.image_quality import ssim
from painterly_vae.model.losses import kl_term, l1_term, latent_gradient_scale, vae_loss
from painterly_vae.model.model import PainterlyVAE


def _gradients(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in module.parameters()]


@pytest.mark.parametrize("ssim_weight", [0.0, 500.0])
def test_one_backward_equals_two_loss_definition(ssim_weight: float) -> None:
    config = Config().with_values({"model.image_size": 32, "model.channels": [8, 16], "model.latent_dim": 6,
                                   "loss.ssim_weight": ssim_weight})
    loss = config.loss
    model = PainterlyVAE(config.model, ["a", "b"]).double().train()
    images = torch.rand(4, 3, 32, 32, dtype=torch.float64)
    encoder, decoder = model.encoder_for(1), model.shared_decoder

    # The definition: encoder minimises KL + 100 L1, decoder minimises 1000 L1; the structural
    # term, when on, joins the decoder's at its weight and the encoder's scaled by 100/1000.
    torch.manual_seed(0)
    out = model(images, 1)
    l1 = l1_term(out.reconstruction, images, loss.l1_reduction)
    kl = kl_term(out.mu, out.logvar, loss.kl_reduction)
    structural = 1.0 - ssim(out.reconstruction, images).mean()
    encoder_objective = (loss.kl_weight * kl + loss.encoder_l1_weight * l1
                         + ssim_weight * latent_gradient_scale(loss) * structural)
    encoder_reference = torch.autograd.grad(encoder_objective, list(encoder.parameters()), retain_graph=True)
    decoder_reference = torch.autograd.grad(loss.decoder_l1_weight * l1 + ssim_weight * structural,
                                            list(decoder.parameters()))

    # The trick: one forward, one backward, gradient into z scaled by 100/1000.
    torch.manual_seed(0)
    model.zero_grad()
    out = model(images, 1, latent_gradient_scale=latent_gradient_scale(loss))
    vae_loss(out.reconstruction, images, out.mu, out.logvar, loss).total.backward()
    for got, want in zip(_gradients(encoder), encoder_reference):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)
    for got, want in zip(_gradients(decoder), decoder_reference):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)

    # Without the scaling the encoder would get the decoder's 1000 x L1: visibly different.
    torch.manual_seed(0)
    model.zero_grad()
    out = model(images, 1)
    vae_loss(out.reconstruction, images, out.mu, out.logvar, loss).total.backward()
    assert not all(torch.allclose(g, w) for g, w in zip(_gradients(encoder), encoder_reference))


def test_the_structural_term_is_one_minus_ssim_and_absent_when_off() -> None:
    images = torch.rand(2, 3, 16, 16)
    mu, logvar = torch.zeros(2, 4), torch.zeros(2, 4)
    on = Config().with_values({"loss.ssim_weight": 10.0}).loss
    same = vae_loss(images, images, mu, logvar, on)
    assert float(same.ssim_loss) == pytest.approx(0.0, abs=1e-6)  # a perfect reconstruction costs nothing
    flat = torch.full_like(images, 0.5)
    terms = vae_loss(flat, images, mu, logvar, on)
    expected = 1.0 - float(ssim(flat, images).mean())
    assert float(terms.ssim_loss) == pytest.approx(expected)
    assert float(terms.decoder_loss) == pytest.approx(1000.0 * float(terms.l1) + 10.0 * expected)
    off = vae_loss(flat, images, mu, logvar, Config().loss)
    assert float(off.ssim_loss) == 0.0 and float(off.decoder_loss) == pytest.approx(1000.0 * float(off.l1))


def test_reductions() -> None:
    reconstruction, images = torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4)
    assert float(l1_term(reconstruction, images, "mean")) == 1.0
    assert float(l1_term(reconstruction, images, "sum")) == 48.0  # 3 * 4 * 4 per image
    mu, logvar = torch.ones(2, 5), torch.zeros(2, 5)  # KL = 0.5 per dimension
    assert float(kl_term(mu, logvar, "sum")) == 2.5
    assert float(kl_term(mu, logvar, "mean")) == 0.5
