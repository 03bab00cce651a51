"""One inference loop: every caller that runs paintings through a trained model gets the
same latents, whatever the batch size, with the run's precision and memory layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from data_tools.processed import ProcessedData
from painterly_vae.inference.latents import encode_views
from painterly_vae.inference.trained_run import open_run, split_views
from painterly_vae.runtime.batched import InferenceSettings, run_batched

CPU = torch.device("cpu")
LEGACY = Path(__file__).parent / "legacy"


@pytest.fixture()
def legacy_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The tiny run an earlier painterly-vae wrote (tests/legacy), opened from a copy."""
    for name in ("data", "runs"):
        shutil.copytree(LEGACY / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return open_run(tmp_path / "runs" / "concat", CPU), ProcessedData.open(tmp_path / "data")


def test_batches_keep_order_and_come_laid_out_under_the_runs_precision() -> None:
    images = np.arange(7 * 3 * 4 * 4, dtype=np.uint8).reshape(7, 3, 4, 4)
    settings = InferenceSettings(CPU, torch.bfloat16, torch.channels_last, batch_size=3)
    seen = run_batched(images, lambda batch: (batch.clone(), torch.ones(1, 1) @ torch.ones(1, 1),
                                              batch.is_contiguous(memory_format=torch.channels_last),
                                              torch.is_inference_mode_enabled()), settings)
    assert [len(batch) for batch, *_ in seen] == [3, 3, 1]
    assert torch.equal(torch.cat([batch for batch, *_ in seen]), torch.from_numpy(images).float() / 255)
    assert all(product.dtype == torch.bfloat16 for _, product, _, _ in seen)  # autocast was on
    assert all(laid_out and inference for _, _, laid_out, inference in seen)


def test_the_batch_size_does_not_change_the_latents(legacy_run) -> None:
    run, data = legacy_run
    paintings = np.concatenate([np.asarray(data.array(artist, "test")) for artist in run.artists])
    one = encode_views(run.model, paintings, InferenceSettings(CPU, None, torch.channels_last, batch_size=1))
    many = encode_views(run.model, paintings, run.inference)
    np.testing.assert_allclose(one.mu, many.mu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(one.l1, many.l1, rtol=1e-5, atol=1e-6)


def test_every_caller_gets_the_same_latents(legacy_run) -> None:
    """Fitting the attribution (split_views), evaluate, the map and attribute all read the
    same latents of the same painting (they were five loops that disagreed)."""
    from painterly_vae.evaluation.evaluation_set import encode_evaluation_set

    run, data = legacy_run
    fitted, _ = split_views(run.model, data, "test", run.inference)
    evaluated = encode_evaluation_set(run, data, "test", progress=False).views
    direct = encode_views(run.model, np.concatenate([np.asarray(data.array(a, "test")) for a in run.artists]),
                          InferenceSettings(CPU, None, torch.contiguous_format, batch_size=2))
    np.testing.assert_allclose(fitted.mu, evaluated.mu, rtol=1e-6)
    np.testing.assert_allclose(fitted.mu, direct.mu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fitted.kl, direct.kl, rtol=1e-5, atol=1e-5)


def test_validation_reads_the_same_latents_as_attribution(legacy_run) -> None:
    """The trainer's validation (a function evaluate can reuse) sees each artist through its own
    encoder: its KL per artist is the mean of the attribution's own-encoder KL."""
    from painterly_vae.config import Config
    from painterly_vae.training.validation import validate

    run, data = legacy_run
    validation = validate(run.model, data, "test", Config.from_dict(run.state.config).loss, run.inference)
    views, labels = split_views(run.model, data, "test", run.inference)
    own = run.model.encoder_of_each_artist()
    for index, artist in enumerate(run.artists):
        rows = labels == index
        assert validation.kl[artist] == pytest.approx(float(views.kl[rows, own[index]].mean()), rel=1e-5)
        assert validation.l1[artist] == pytest.approx(float(views.l1[rows, own[index]].mean()), rel=1e-5)
