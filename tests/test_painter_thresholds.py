"""A threshold per painter (`clustering.unknown_threshold = "per-painter"`): at most the configured
share of any painter's own paintings called unknown, even a painter with few calibration paintings
and one whose paintings are less alike than the others'; strangers still caught."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from painterly_vae.cli.cli import main
from painterly_vae.config import Config, LossConfig
from painterly_vae.errors import ConfigError
from painterly_vae.inference.clustering import ArtistClusters
from painterly_vae.inference.fit_progress import FitProgress
from painterly_vae.inference.latents import LatentViews
from painterly_vae.inference.painter_thresholds import conformal_threshold
from painterly_vae.inference.trained_run import calibrate_per_painter
from painterly_vae.runtime.checkpoint import load_checkpoint

ARTISTS = ["tight", "broad", "small"]
CENTRES = np.array([[0, 0, 10.0], [10, 0, 0], [0, 10, 0]])
SPREADS = np.array([1.0, 2.2, 1.0])  # the broad painter's paintings are less alike
STRANGER = np.array([-8.0, -8, -8])


def paintings(rng: np.random.Generator, counts: list[int]) -> tuple[LatentViews, np.ndarray]:
    labels = np.repeat(np.arange(len(counts)), counts)
    points = CENTRES[labels] + SPREADS[labels, None] * rng.normal(0, 1, (len(labels), 3))
    return as_views(points), labels


def as_views(points: np.ndarray) -> LatentViews:
    n = len(points)
    return LatentViews(points[:, None, :].astype(np.float32), np.zeros((n, 1)), np.zeros((n, 1)),
                       np.zeros((n, 0)), np.zeros((n, 0)))


def fitted(rng: np.random.Generator, per_painter: bool) -> ArtistClusters:
    """Three painters, 'small' with 6 validation paintings: too few to reject any at 10% alone."""
    (train, train_labels), (val, val_labels) = paintings(rng, [150, 150, 40]), paintings(rng, [60, 60, 6])

    def new() -> ArtistClusters:
        return ArtistClusters(ARTISTS, [0, 0, 0], LossConfig(), "concat", accept_share=0.9)

    clusters = new().fit(train, train_labels).calibrate(val, val_labels, "score")
    if per_painter:
        clusters.painter_thresholds, clusters.plausible = calibrate_per_painter(
            clusters, new, train, train_labels, val, val_labels, None, FitProgress(show=False))
    return clusters


def test_every_painter_keeps_its_own_paintings_and_strangers_are_still_caught() -> None:
    overall, each = fitted(np.random.default_rng(0), False), fitted(np.random.default_rng(0), True)
    fresh, fresh_labels = paintings(np.random.default_rng(9), [3000, 3000, 3000])
    strangers = as_views(STRANGER + np.random.default_rng(8).normal(0, 1, (500, 3)))

    def rejected(clusters: ArtistClusters) -> list[float]:
        unknown = clusters.is_unknown(fresh)
        return [float(unknown[fresh_labels == painter].mean()) for painter in range(3)]

    # one threshold: the broad painter pays for it
    tight, broad, _ = rejected(overall)
    assert broad > 0.15 and tight < 0.05
    # one per painter: none above the configured 10% (up to the sampling of ~200 calibration paintings
    # each: over four draws of them, 2% to 15%, 10% on average), the small one calibrated too
    assert max(rejected(each)) <= 0.13
    assert min(rejected(each)) >= 0.05
    assert np.isfinite(each.painter_thresholds.shares).all()
    assert each.painter_thresholds.calibration[2] > 6  # validation and the training paintings cross-fitted
    assert each.is_unknown(strangers).mean() > 0.95
    # the plausible painters: a painter's own painting names it (8 in 10 promised), a far stranger's set is empty
    sets = each.plausible_given(each.predict_proba(fresh), each.familiarity(fresh))
    assert min(float(sets[fresh_labels == painter, painter].mean()) for painter in range(3)) >= 0.8
    stranger_sets = each.plausible_given(each.predict_proba(strangers), each.familiarity(strangers))
    assert (~stranger_sets.any(axis=1)).mean() > 0.95
    # each painter's threshold as a familiarity (what --verbose and --json give) decides as the share does
    familiarity, named = each.familiarity(fresh), each.predict(fresh)
    thresholds = np.array([each.threshold_for(painter) for painter in range(3)])
    np.testing.assert_array_equal(familiarity < thresholds[named], each.is_unknown(fresh))


def test_with_too_few_calibration_paintings_nothing_is_rejected() -> None:
    likeness = np.linspace(0.01, 0.99, 19)
    assert conformal_threshold(likeness[:8], 0.1) == -np.inf  # floor(0.1 x 9) = 0
    assert conformal_threshold(likeness[:9], 0.1) == likeness[0]
    assert conformal_threshold(likeness, 0.1) == likeness[1]  # floor(0.1 x 20) = 2


def test_the_thresholds_reopen_from_the_checkpoint_and_older_runs_keep_one() -> None:
    clusters = fitted(np.random.default_rng(1), True)
    fresh, _ = paintings(np.random.default_rng(2), [50, 50, 50])
    again = ArtistClusters.from_state_dict(clusters.state_dict(), LossConfig())
    np.testing.assert_array_equal(again.is_unknown(fresh), clusters.is_unknown(fresh))
    assert "set painter by painter" in again.describe_threshold()
    np.testing.assert_array_equal(again.plausible.floors, clusters.plausible.floors)
    assert again.plausible.describe([]).startswith("none of the run's painters is plausible (8 in 10 or more")
    older = clusters.state_dict()
    del older["painter_thresholds"]
    reopened = ArtistClusters.from_state_dict(older, LossConfig())
    assert reopened.painter_thresholds is None
    np.testing.assert_array_equal(reopened.is_unknown(fresh), reopened.familiarity(fresh) < reopened.threshold)
    with pytest.raises(ConfigError, match="unknown_threshold"):
        Config.from_dict({"clustering": {"unknown_threshold": "per-artist"}})


def test_cluster_per_painter_stores_the_thresholds_and_attribute_answers(trunk_run: dict[str, Path],
                                                                        capsys: pytest.CaptureFixture) -> None:
    run = trunk_run["run"]
    assert main(["cluster", "--run", str(run), "--unknown-threshold", "per-painter", "--no-progress"]) == 0
    assert "set painter by painter" in capsys.readouterr().out
    assert main(["attribute", str(trunk_run["painting"]), "--run", str(run), "--json", "--no-progress"]) == 0
    answer = json.loads(capsys.readouterr().out)["paintings"][0]
    assert isinstance(answer["plausible"], list) and "of each painter's own paintings" in answer["plausible_sentence"]
    stored = load_checkpoint(run / "checkpoints" / "last.pt")["clusters"]["painter_thresholds"]
    assert stored["shares"].shape == (3,) and (stored["calibration"] > 0).all()
    assert main(["attribute", str(trunk_run["painting"]), "--run", str(run), "--no-progress"]) == 0
    assert "painter-" in capsys.readouterr().out
