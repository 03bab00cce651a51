"""Clustering, attribute and evaluate on a short training run over synthetic painters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from images import truncated_jpeg

from data_tools.prepare import PrepareOptions, prepare
from data_tools.processed import ProcessedData
from data_tools.synthetic import write_synthetic_raw
from painterly_vae.cli.evaluation_summary import print_evaluation
from painterly_vae.cli.train_command import TrainRequest, run_training
from painterly_vae.config import Config, load_config
from painterly_vae.errors import UsageError
from painterly_vae.evaluation.classification import expected_calibration_error
from painterly_vae.evaluation.evaluate import evaluate_run
from painterly_vae.inference.clustering import ArtistClusters
from painterly_vae.inference.latents import LatentViews
from painterly_vae.inference.trained_run import open_run, split_views
from painterly_vae.runtime.checkpoint import load_checkpoint

CPU = torch.device("cpu")
KNOWN = ["painter-1", "painter-2", "painter-3"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three synthetic painters trained briefly at 32 px; a fourth kept out of training."""
    root = tmp_path_factory.mktemp("attribution")
    everyone = write_synthetic_raw(root / "everyone", artists=4, per_artist=60, size=40, seed=3)
    known = root / "known"
    known.mkdir()
    for name in KNOWN:
        (known / name).symlink_to(everyone / name, target_is_directory=True)
    processed = prepare(known, root / "processed", PrepareOptions(size=32, min_size=32, workers=1), progress=False).out
    values = {
        "model.image_size": 32, "model.channels": [16, 32, 64], "model.latent_dim": 16,
        "training.batch_size": 16, "training.steps": 240, "training.eval_every": 120, "training.image_every": 240,
        "training.checkpoint_every": 240, "training.runs_dir": str(root / "runs"), "training.device": "cpu",
    }
    run_training(TrainRequest(data=processed, name="multi", values=values, progress=False))
    return {"root": root, "everyone": everyone, "processed": processed, "run": root / "runs" / "multi"}


def test_attribution_beats_chance_by_a_wide_margin(trained: dict[str, Path]) -> None:
    run = open_run(trained["run"], CPU)
    data = ProcessedData.open(trained["processed"])
    held_out = [split_views(run.model, data, split, run.inference) for split in ("val", "test")]
    views = LatentViews.concatenate([v for v, _ in held_out])
    labels = np.concatenate([l for _, l in held_out])
    assert run.clusters is not None and run.clusters.representation == "concat"
    assert len(labels) == 36
    assert run.clusters.score(views, labels) >= 0.6  # chance is 1/3


def test_probabilities_are_distributions_and_calibrated_on_val(trained: dict[str, Path]) -> None:
    run = open_run(trained["run"], CPU)
    views, _ = split_views(run.model, ProcessedData.open(trained["processed"]), "test", run.inference)
    probabilities = run.clusters.predict_proba(views)
    assert probabilities.shape == (len(views), 3)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, rtol=1e-9)
    assert run.clusters.temperature != 1.0  # fitted on the validation split
    validation = run.clusters.validation  # what train and cluster print, kept in the checkpoint
    val_views, val_labels = split_views(run.model, ProcessedData.open(trained["processed"]), "val", run.inference)
    assert validation["paintings"] == len(val_labels)
    assert abs(validation["top1"] - run.clusters.score(val_views, val_labels)) <= 1 / len(val_labels)  # bf16: one painting


def test_clusters_round_trip_through_the_checkpoint_without_pickle(trained: dict[str, Path]) -> None:
    state = load_checkpoint(trained["run"] / "checkpoints" / "last.pt")  # weights_only=True inside
    run = open_run(trained["run"], CPU)
    restored = ArtistClusters.from_state_dict(state["clusters"], run.config.loss)
    views, _ = split_views(run.model, ProcessedData.open(trained["processed"]), "val", run.inference)
    np.testing.assert_array_equal(restored.predict_proba(views), run.clusters.predict_proba(views))
    assert restored.threshold == run.clusters.threshold
    assert state["preprocessing"]["size"] == 32 and state["preprocessing"]["fit"] == "crop"


@pytest.mark.parametrize("representation", ["own", "concat", "elbo"])  # concat+trunk: tests/test_trunk.py
def test_every_representation_fits_and_predicts(trained: dict[str, Path], representation: str) -> None:
    run = open_run(trained["run"], CPU)
    data = ProcessedData.open(trained["processed"])
    train_views, train_labels = split_views(run.model, data, "train", run.inference)
    clusters = ArtistClusters(run.artists, [0, 1, 2], run.config.loss, representation).fit(train_views, train_labels)
    test_views, test_labels = split_views(run.model, data, "test", run.inference)
    assert 0 <= clusters.score(test_views, test_labels) <= 1
    assert clusters.predict(test_views).shape == test_labels.shape
    with pytest.raises(ValueError, match="no training paintings for painter-3"):
        ArtistClusters(run.artists, [0, 1, 2], run.config.loss, representation).fit(train_views, np.minimum(train_labels, 1))


def test_an_artist_held_out_of_training_is_flagged_unknown_more_often(trained: dict[str, Path]) -> None:
    run = open_run(trained["run"], CPU)
    files_known = sorted((trained["everyone"] / "painter-1").glob("*.jpg"))[:20]
    files_outsider = sorted((trained["everyone"] / "painter-4").glob("*.jpg"))[:20]
    from painterly_vae.inference.answers import attribute_files

    known_rate = np.mean([r.unknown for r in attribute_files(run, files_known)])
    outsider_rate = np.mean([r.unknown for r in attribute_files(run, files_outsider)])
    assert outsider_rate > known_rate


def test_attribute_reports_bad_files_one_by_one(trained: dict[str, Path], tmp_path: Path) -> None:
    good = sorted((trained["everyone"] / "painter-2").glob("*.jpg"))[0]
    (tmp_path / "notes.jpg").write_text("not a painting")
    truncated_jpeg(tmp_path / "cut.jpg")
    command = [sys.executable, "-m", "painterly_vae", "attribute", str(good), str(tmp_path / "notes.jpg"),
               str(tmp_path / "cut.jpg"), str(tmp_path / "missing.jpg"), "--run", str(trained["run"]), "--json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    answers = {Path(p["path"]).name: p for p in json.loads(result.stdout)["paintings"]}
    assert answers[good.name]["error"] is None and len(answers[good.name]["ranking"]) == 3
    assert abs(sum(r["probability"] for r in answers[good.name]["ranking"]) - 1) < 1e-6
    assert answers["notes.jpg"]["error"].startswith("not-an-image")
    assert answers["cut.jpg"]["error"].startswith("truncated")
    assert answers["missing.jpg"]["error"] == "no such file"
    assert "3 of 4 file(s) refused" in result.stderr

    text = subprocess.run(command[:-1] + ["--top", "2"], capture_output=True, text=True, timeout=300)
    assert f"{good}: painter-" in text.stdout and "notes.jpg: refused: not-an-image" in text.stdout


def test_attribute_without_a_run_is_one_clear_sentence(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "painterly_vae", "attribute", "x.jpg"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_evaluate_writes_the_report_and_every_plot(trained: dict[str, Path]) -> None:
    run = open_run(trained["run"], CPU)
    report, out_dir = evaluate_run(run, trained["everyone"], "test")  # a raw folder with an artist the run does not know
    assert (out_dir / "report.json").is_file()
    assert json.loads((out_dir / "report.json").read_text())["split"] == "test"
    for name in ("confusion.png", "reliability.png", "latent_map.png", "reconstructions.png", "baselines.png"):
        assert (out_dir / "plots" / name).stat().st_size > 1000
    assert report.unknown_artists == ["painter-4"]
    assert 0.0 <= report.unknown.auroc <= 1.0 and 0 <= report.unknown.detection_rate <= 1
    held_out = report.unknown.per_artist["painter-4"]  # the only unknown artist: its AUROC is the whole one
    assert held_out["paintings"] == report.paintings["unknown_artists"] and held_out["auroc"] == report.unknown.auroc
    rejected = report.unknown.false_rejections_per_artist  # painter by painter, their mean weighted by paintings
    counts = np.array(report.attribution.confusion).sum(1)  # each known painter's paintings
    assert list(rejected) == KNOWN and all(0 <= share <= 1 for share in rejected.values())
    assert np.dot(counts, list(rejected.values())) / counts.sum() == pytest.approx(report.unknown.false_rejection_rate)
    assert report.attribution.top1 >= 0.6 and report.attribution.top3 == 1.0
    assert set(report.representations) == {"own", "concat", "elbo"}
    colours = report.baseline("colour_histogram")
    assert 0 <= colours.top1 <= 1
    assert 0 <= colours.unknown_auroc <= 1  # its confidence against painter-4
    lead = colours.run_minus_baseline  # on the same known paintings
    assert lead.paintings == report.paintings["known"] and lead.verdict in {"ahead", "level", "behind"}
    assert lead.top1.difference == pytest.approx(report.attribution.top1 - colours.top1)
    assert report.reconstruction["mean"].ssim > 0
    fidelity = report.fidelity  # without a trunk: recognisability and colour, no network to ask
    assert 0 <= fidelity.retrieval_top1 <= 1 and fidelity.channel_mean_error >= 0 and fidelity.style_probe is None
    assert 0 <= report.reconstruction["mean"].colour_histogram_distance <= 1
    varieties = [q.variety_kept for artist, q in report.reconstruction.items() if artist != "mean"]
    assert all(v is not None and v >= 0 for v in varieties)  # each painter's, read on its own
    assert report.reconstruction["mean"].variety_kept == pytest.approx(float(np.mean(varieties)))
    assert set(report.clustering) == {"kmeans", "gaussian_mixture", "silhouette_of_true_artists"}
    stored = json.loads((out_dir / "report.json").read_text())  # what is written is what the report holds
    assert stored == report.to_json() and stored["baselines"]["colour_histogram"]["top1"] == colours.top1
    assert stored["unknown"]["per_artist"]["painter-4"] == held_out

    default, default_dir = evaluate_run(run)  # the run's own test split
    assert default_dir == trained["run"] and (trained["run"] / "report.json").is_file()
    assert default.paintings["unknown_artists"] == 0 and default.unknown.auroc is None
    assert "auroc" not in json.loads((default_dir / "report.json").read_text())["unknown"]


def test_evaluate_beyond_the_elbo_limit_leaves_out_the_reconstructions_and_nothing_else(
        trained: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Many encoders: evaluate skips the decoder pass per encoder that only `elbo` reads; every
    other figure is the one it gives with them."""
    from painterly_vae.evaluation import evaluate

    run = open_run(trained["run"], CPU)
    with_elbo, _ = evaluate_run(run, progress=False)
    monkeypatch.setattr(evaluate, "ELBO_COMPARED_ENCODERS", 2)  # the run has three encoders
    without, _ = evaluate_run(run, progress=False)
    assert set(with_elbo.representations) == {"own", "concat", "elbo"} and set(without.representations) == {"own", "concat"}
    for name in ("own", "concat"):
        assert without.representations[name] == with_elbo.representations[name]
    assert without.attribution.top1 == with_elbo.attribution.top1
    assert without.attribution.confusion == with_elbo.attribution.confusion
    assert without.unknown.false_rejection_rate == with_elbo.unknown.false_rejection_rate
    assert without.reconstruction["mean"].ssim == pytest.approx(with_elbo.reconstruction["mean"].ssim)


def test_evaluate_can_take_every_painting_of_the_unknown_artists(trained: dict[str, Path],
                                                                   capsys: pytest.CaptureFixture) -> None:
    """The run never saw painter-4: all its paintings are strangers, not only its test split's."""
    run = open_run(trained["run"], CPU)
    test_only, _ = evaluate_run(run, trained["everyone"], "test", progress=False)
    widened, out_dir = evaluate_run(run, trained["everyone"], "test", progress=False, unknown_split="all")
    prepared = ProcessedData.open(Path(widened.prepared_data))
    assert widened.paintings["known"] == test_only.paintings["known"]  # the known painters: still their test split
    assert widened.paintings["unknown_artists"] == sum(prepared.count("painter-4", s) for s in ("train", "val", "test"))
    assert widened.paintings["unknown_artists"] > test_only.paintings["unknown_artists"]
    assert out_dir.name.endswith("-test-unknown-all") and widened.unknown_split == "all"
    assert widened.unknown.per_artist["painter-4"]["paintings"] == widened.paintings["unknown_artists"]
    print_evaluation(widened, out_dir)
    assert "by artists it does not know (theirs from every split)" in capsys.readouterr().out


def test_supervised_baseline_is_reported_beside_the_vae(trained: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    run = open_run(trained["run"], CPU)
    report, out_dir = evaluate_run(run, supervised_epochs=15, progress=False)
    supervised = report.baseline("supervised_encoder")
    assert supervised.top1 >= 0.5  # chance is 1/3 (18 test paintings; measured 0.56-0.78 over seeds)
    details = supervised.details
    assert details["epochs"] == 15 and 1 <= details["best_epoch"] <= 15 and details["val_top1"] > 0.5
    assert json.loads((out_dir / "report.json").read_text())["baselines"]["supervised_encoder"] == supervised.to_json()
    print_evaluation(report, out_dir)
    printed = capsys.readouterr().out
    assert f"supervised encoder (epoch {details['best_epoch']} of 15, by val)" in printed
    lead = supervised.run_minus_baseline.top1  # the run's lead over it, with its interval, in points
    assert "run's lead: top-1" in printed and f"{lead.difference * 100:+.1f} [{lead.interval[0] * 100:+.1f}," in printed


def test_a_baseline_run_is_compared_on_the_same_paintings(trained: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    """`evaluate --baseline RUN` (e.g. the single-encoder twin): the run against itself is level."""
    run = open_run(trained["run"], CPU)
    report, out_dir = evaluate_run(run, trained["everyone"], "test", baseline=open_run(trained["run"], CPU), progress=False)
    other = report.baseline("run")
    assert other.top1 == report.attribution.top1 and other.details["encoders"] == "per-artist"
    lead = other.run_minus_baseline
    assert lead.verdict == "level" and lead.top1.to_json() == {"difference": 0.0, "interval": [0.0, 0.0]}
    print_evaluation(report, out_dir)
    printed = capsys.readouterr().out
    assert "baseline run (per-artist)" in printed and "an interval that holds 0 is a tie" in printed
    # the painter whose reconstructions vary least is named
    assert "variety kept: " in printed and "(mean over painters; least: painter-" in printed


def test_supervised_baseline_without_the_training_data_is_a_usage_error(trained: dict[str, Path], tmp_path: Path) -> None:
    run = open_run(trained["run"], CPU)
    run.config = run.config.with_values({"data.path": str(tmp_path / "moved")})
    with pytest.raises(UsageError, match="--supervised-baseline trains on the run's prepared data"):
        evaluate_run(run, trained["processed"], supervised_epochs=2, progress=False)


def test_expected_calibration_error() -> None:
    assert expected_calibration_error(np.array([1.0, 1.0]), np.array([True, True])) == 0.0
    assert expected_calibration_error(np.array([0.9, 0.9]), np.array([False, False])) == pytest.approx(0.9)


@pytest.mark.parametrize("artists", [2, 4])
def test_concat_trunk_scores_as_scikit_learn_would_for_two_artists_and_more(artists: int) -> None:
    """The regression is stored as arrays and scored without scikit-learn; two artists are
    scikit-learn's one-logit special case."""
    from painterly_vae.inference.linear_probe import standardised_logistic_regression
    from painterly_vae.inference.representations import GRAM_COMPONENTS, TRUNK_PROBE_STRENGTH

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(artists), 30)
    style = rng.normal(size=(len(labels), 12)) + labels[:, None] * 0.8  # the statistics tell the artists apart
    gram = rng.normal(size=(len(labels), 80)) + labels[:, None] * 0.3
    mu = rng.normal(size=(len(labels), artists, 4)).astype(np.float32)
    views = LatentViews(mu, np.zeros((len(labels), artists)), np.zeros((len(labels), artists)), style, gram)
    names = [f"painter-{i}" for i in range(artists)]
    config = load_config()
    clusters = ArtistClusters(names, list(range(artists)), config.loss, "concat+trunk").fit(views, labels)
    reference = standardised_logistic_regression(TRUNK_PROBE_STRENGTH).fit(np.hstack([mu.reshape(len(labels), -1), style]), labels)
    expected = reference.predict_proba(np.hstack([mu.reshape(len(labels), -1), style]))
    assert clusters.temperature == 1.0  # not calibrated: the regression's own probabilities
    np.testing.assert_allclose(clusters.predict_proba(views), expected, rtol=1e-6, atol=1e-9)
    assert clusters.score(views, labels) > 0.8
    # familiarity: the Gram statistics' own regression, on as many principal components as the paintings allow
    novelty = standardised_logistic_regression(TRUNK_PROBE_STRENGTH, components=min(GRAM_COMPONENTS, *gram.shape)).fit(gram, labels)
    np.testing.assert_allclose(clusters.familiarity(views), novelty.predict_log_proba(gram).max(1), rtol=1e-6, atol=1e-8)
    without_style = LatentViews(mu, views.l1, views.kl, np.zeros((len(labels), 0)), np.zeros((len(labels), 0)))
    with pytest.raises(ValueError, match="needs a run with a trunk"):
        clusters.decision_scores(without_style)


def test_every_representation_named_in_the_config_is_one_class_of_the_registry() -> None:
    """`clustering.representation` (config, CLI choices) and the registry name the same set, and
    each class fits, scores and stores itself under the checkpoint keys runs have always had."""
    from painterly_vae.config import REPRESENTATIONS as NAMES
    from painterly_vae.inference.representations import REPRESENTATIONS, STORED_KEYS

    assert tuple(REPRESENTATIONS) == NAMES
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 20)
    mu = rng.normal(size=(60, 3, 4)) + labels[:, None, None]  # each artist shifted along every encoder
    views = LatentViews(mu.astype(np.float32), rng.random((60, 3)), rng.random((60, 3)) + 1,
                        rng.normal(size=(60, 6)) + 2 * labels[:, None], rng.normal(size=(60, 10)) + 2 * labels[:, None])
    config = Config()
    for name in NAMES:
        clusters = ArtistClusters(["a", "b", "c"], [0, 1, 2], config.loss, name).fit(views, labels).calibrate(views, labels)
        state = clusters.state_dict()
        assert set(STORED_KEYS) <= set(state)
        reopened = ArtistClusters.from_state_dict(state, config.loss)
        np.testing.assert_allclose(reopened.predict_proba(views), clusters.predict_proba(views))
        np.testing.assert_allclose(reopened.familiarity(views), clusters.familiarity(views))
        # the latents separate the artists (own sees one encoder's block only); elbo's losses here are noise
        assert clusters.score(views, labels) >= {"own": 0.6, "concat": 0.9, "elbo": 0.0}.get(name, 0.9)
