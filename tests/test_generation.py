"""What evaluate says of the decoder beyond one run's reconstructions: the paired comparison with
another run's (the single-encoder twin), crossings through other artists' encoders, and each
artist's samples against its paintings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import train_trunk_run
from sklearn.linear_model import LogisticRegression

from data_tools.processed import ProcessedData
from painterly_vae.cli.evaluation_summary import print_evaluation
from painterly_vae.evaluation.evaluate import evaluate_run
from painterly_vae.evaluation.evaluation_set import encode_evaluation_set
from painterly_vae.evaluation.fidelity_comparison import compare_reconstructions
from painterly_vae.evaluation.generation import crossing_shift
from painterly_vae.evaluation.reconstructions import Reconstructions
from painterly_vae.inference.trained_run import open_run
from painterly_vae.model.image_quality import psnr, ssim

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def twin(trunk_run: dict[str, Path], data64: Path) -> Path:
    """The trunk run's single-encoder twin: the same config but one encoder for every painter."""
    return train_trunk_run(data64, trunk_run["weights"], trunk_run["root"] / "runs", "twin", "model.encoders=single")


def test_evaluate_compares_reconstructions_with_the_twin_painting_by_painting(
        trunk_run: dict[str, Path], twin: Path, data64: Path, capsys: pytest.CaptureFixture) -> None:
    run = open_run(trunk_run["run"], CPU)  # every split: a Fréchet distance per painter needs two of its paintings
    report, out_dir = evaluate_run(run, data64, "all", baseline=open_run(twin, CPU), progress=False)
    compared = report.fidelity.against_baseline
    assert compared["encoders"] == "single" and compared["run"] == str(twin)
    measures = compared["measures"]
    assert set(measures) == {"retrieved", "style_kept", "psnr", "ssim", "sharpness", "channel_mean_error",
                             "colour_histogram_distance"}
    for measured in measures.values():
        assert measured["paintings"] == report.paintings["known"]
        low, high = measured["interval"]
        assert low <= measured["difference"] <= high
        assert measured["difference"] == pytest.approx(measured["ours"] - measured["theirs"])
    assert measures["psnr"]["ours"] == pytest.approx(report.reconstruction["mean"].psnr, abs=0.5)
    assert measures["retrieved"]["ours"] == pytest.approx(report.fidelity.retrieval_top1)
    assert compared["frechet_distance"]["ours"] == pytest.approx(report.fidelity.frechet_distance)
    # the style probe balanced over painters: the mean of each painter's share, ours and the twin's
    balanced = compared["style_balanced"]
    for side in ("ours", "theirs"):
        shares = [m["style_kept"][side] for m in compared["per_artist"].values()]
        assert balanced[side] == pytest.approx(np.mean(shares))
    assert balanced["ours"] == pytest.approx(report.fidelity.style_reconstructions_balanced)
    assert balanced["interval"][0] <= balanced["difference"] <= balanced["interval"][1]
    # painter by painter: the same measures on each painter's paintings, which together are all of them
    per_artist = compared["per_artist"]
    assert set(per_artist) == set(run.artists)
    assert sum(m["psnr"]["paintings"] for m in per_artist.values()) == report.paintings["known"]
    weighted = sum(m["ssim"]["difference"] * m["ssim"]["paintings"] for m in per_artist.values())
    assert weighted / report.paintings["known"] == pytest.approx(measures["ssim"]["difference"])
    assert (out_dir / "plots" / "reconstructions_against_baseline.png").stat().st_size > 10_000
    # per-artist encoders: crossings measured for each painter; samples against each painter's paintings
    assert set(report.fidelity.crossings) == {*run.artists, "mean"}
    for shift in report.fidelity.crossings.values():
        assert 0 <= shift["crossings"] <= 1 and shift["shift"] == pytest.approx(shift["crossings"] - shift["own_reconstructions"])
    assert set(report.fidelity.samples_frechet) == set(run.artists)
    assert all(d["samples"] >= 0 and d["reconstructions"] >= 0 for d in report.fidelity.samples_frechet.values())
    print_evaluation(report, out_dir)
    out = capsys.readouterr().out
    assert "reconstructions against the baseline run (single encoders), same paintings, paired:" in out
    assert "by painter (paired on each painter's paintings): " in out
    assert "style probe balanced over painters" in out and "; balanced over painters: " in out
    assert "crossings: the style probe gives the encoder's painter" in out and "samples: Fréchet distance" in out


def _measured(run_dir: Path, data: Path) -> tuple[object, object, Reconstructions, LogisticRegression]:
    """A run, every painting of `data` reconstructed by it, and a probe on their Gram statistics."""
    run = open_run(run_dir, CPU)
    evaluation = encode_evaluation_set(run, ProcessedData.open(data), "all", False)
    reconstructions = Reconstructions(run, evaluation)
    probe = LogisticRegression(max_iter=2000).fit(reconstructions.stacked("target_gram").numpy(), reconstructions.labels)
    return run, evaluation, reconstructions, probe


def test_a_run_against_itself_is_level_on_every_measure(trunk_run: dict[str, Path], data64: Path) -> None:
    """The same paintings in the same order: every painting's difference is 0, so is the interval."""
    run, evaluation, reconstructions, probe = _measured(trunk_run["run"], data64)
    compared = compare_reconstructions(reconstructions, open_run(trunk_run["run"], CPU), evaluation, probe, seed=0)
    assert len(compared["measures"]) == 7
    for name, measured in compared["measures"].items():
        assert measured["interval"] == pytest.approx([0, 0], abs=1e-9), name
        assert measured["verdict"] == "level"
    assert compared["style_balanced"]["interval"] == pytest.approx([0, 0], abs=1e-9)
    assert compared["style_balanced"]["verdict"] == "level"
    assert set(compared["per_artist"]) == set(run.artists)
    for artist, measures in compared["per_artist"].items():
        assert len(measures) == 7 and all(m["difference"] == 0 and m["verdict"] == "level" for m in measures.values())


def test_the_single_encoder_run_has_no_crossings(twin: Path, data64: Path) -> None:
    run, evaluation, reconstructions, probe = _measured(twin, data64)
    assert crossing_shift(run, evaluation, reconstructions, probe) is None


def test_encoders_that_agree_cross_a_painting_into_its_own_reconstruction(trunk_run: dict[str, Path], data64: Path) -> None:
    """If every encoder hands the decoder the same z, a crossing is the reconstruction again and
    the probe cannot move towards the encoder's painter: the shift is 0 for every painter."""
    run, evaluation, reconstructions, probe = _measured(trunk_run["run"], data64)
    for encoder in run.model.encoders[1:]:
        encoder.load_state_dict(run.model.encoders[0].state_dict())
    evaluation = encode_evaluation_set(run, ProcessedData.open(data64), "all", False)  # z under the agreeing encoders
    reconstructions = Reconstructions(run, evaluation)
    shifts = crossing_shift(run, evaluation, reconstructions, probe)
    assert set(shifts) == {*run.artists, "mean"}
    for painter, shift in shifts.items():
        assert shift["shift"] == pytest.approx(0, abs=1e-3), painter


def test_a_run_in_bf16_is_measured_in_fp32(trunk_run: dict[str, Path], data64: Path) -> None:
    """A run that computes in bf16 (a GPU, a CPU with AVX-512 BF16) is still measured in fp32:
    evaluate reaches its numbers (NumPy has no bf16), and each painting's SSIM and PSNR are what
    fp32 gives for the reconstruction the bf16 model drew."""
    run = open_run(trunk_run["run"], CPU)
    run.config = dataclasses.replace(run.config, training=dataclasses.replace(run.config.training, precision="bf16"))
    assert run.inference.amp_dtype == torch.bfloat16
    evaluation = encode_evaluation_set(run, ProcessedData.open(data64), "all", False)
    reconstructions = Reconstructions(run, evaluation)
    measures = reconstructions.per_painting()
    assert all(values.dtype == np.float64 and np.isfinite(values).all() for values in measures.values())
    first = len(reconstructions.measures[0]["target"])  # the first painter's first paintings, kept for the grid
    target, drawn = reconstructions.measures[0]["target"], reconstructions.measures[0]["reconstruction"]
    assert drawn.dtype == torch.float32
    np.testing.assert_allclose(measures["ssim"][:first], ssim(drawn, target).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(measures["psnr"][:first], psnr(drawn, target).numpy(), rtol=1e-5)


def test_crossings_are_capped_in_all_and_spread_over_the_other_painters(trunk_run: dict[str, Path], data64: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from painterly_vae.evaluation import generation

    run, evaluation, reconstructions, probe = _measured(trunk_run["run"], data64)
    every = crossing_shift(run, evaluation, reconstructions, probe)
    crossed = []
    real = generation._crossing_grams

    def counted(run, codes, encoder):
        crossed.append(len(codes))
        return real(run, codes, encoder)

    monkeypatch.setattr(generation, "_crossing_grams", counted)
    monkeypatch.setattr(generation, "CROSSINGS", 2 * len(run.artists))  # two crossings an encoder
    capped = crossing_shift(run, evaluation, reconstructions, probe)
    assert sum(crossed) == 2 * len(run.artists)
    assert set(capped) == set(every)
    for painter in run.artists:  # a probability, measured on fewer paintings
        assert 0 <= capped[painter]["crossings"] <= 1 and 0 <= capped[painter]["own_reconstructions"] <= 1
