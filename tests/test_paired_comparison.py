"""The run's lead over a baseline: the interval a reader needs before saying one is ahead."""

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

from painterly_vae.evaluation import paired_comparison
from painterly_vae.evaluation.paired_comparison import paired_difference, paired_mean_difference


def _predictions(labels: np.ndarray, right: np.ndarray, classes: int) -> np.ndarray:
    """Predictions that are right where `right` says and name the next artist elsewhere."""
    return np.where(right, labels, (labels + 1) % classes)


def test_identical_attributions_are_level_with_a_zero_interval() -> None:
    labels = np.repeat(np.arange(3), 40)
    predicted = _predictions(labels, np.arange(len(labels)) % 4 != 0, 3)
    result = paired_difference(labels, predicted, predicted, 3)
    assert result["verdict"] == "level"
    for metric in ("top1", "balanced_accuracy"):
        assert result[metric]["difference"] == 0 and result[metric]["interval"] == [0.0, 0.0]


def test_a_clear_lead_is_ahead_and_the_same_lead_reversed_is_behind() -> None:
    labels = np.repeat(np.arange(4), 50)
    good = _predictions(labels, np.arange(len(labels)) % 10 != 0, 4)  # 90%
    poor = _predictions(labels, np.arange(len(labels)) % 2 == 0, 4)  # 50%
    ahead = paired_difference(labels, good, poor, 4)
    assert ahead["verdict"] == "ahead" and ahead["top1"]["difference"] == pytest.approx(0.4)
    low, high = ahead["top1"]["interval"]
    assert 0 < low < 0.4 < high
    assert paired_difference(labels, poor, good, 4)["verdict"] == "behind"


def test_a_lead_of_two_paintings_in_a_hundred_is_not_called_ahead() -> None:
    """What a small test split cannot tell: 52% against 50% is inside the noise."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 5, 100)
    right = rng.permutation(np.arange(100) < 50)
    theirs = _predictions(labels, right, 5)
    ours_right = right.copy()
    ours_right[np.flatnonzero(~right)[:2]] = True
    result = paired_difference(labels, _predictions(labels, ours_right, 5), theirs, 5)
    assert result["top1"]["difference"] == pytest.approx(0.02) and result["verdict"] == "level"


def test_balanced_difference_is_scikit_learns_on_the_whole_sample() -> None:
    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(5), [120, 80, 30, 20, 8])  # imbalanced, like the five painters
    ours, theirs = rng.integers(0, 5, len(labels)), np.where(rng.random(len(labels)) < 0.7, labels, 0)
    result = paired_difference(labels, ours, theirs, 5)
    expected = balanced_accuracy_score(labels, ours) - balanced_accuracy_score(labels, theirs)
    assert result["balanced_accuracy"]["difference"] == pytest.approx(expected)
    low, high = result["balanced_accuracy"]["interval"]
    assert low < expected < high


def test_scoring_in_chunks_gives_the_same_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    """A large evaluation resamples in chunks to keep memory flat; the answer must not change."""
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 90)
    ours, theirs = rng.integers(0, 3, 90), rng.integers(0, 3, 90)
    whole = paired_difference(labels, ours, theirs, 3)
    monkeypatch.setattr(paired_comparison, "CHUNK", 90 * 7)  # 7 resamples at a time, the last chunk shorter
    assert paired_difference(labels, ours, theirs, 3) == whole


def test_predictions_of_other_paintings_are_refused() -> None:
    with pytest.raises(ValueError, match="paired comparison of 3 and 2 predictions for 3 paintings"):
        paired_difference(np.zeros(3, int), np.zeros(3, int), np.zeros(2, int), 2)


def test_a_paired_difference_of_means_by_hand() -> None:
    rng = np.random.default_rng(0)
    theirs = rng.random(200)
    better = paired_mean_difference(theirs + 0.1, theirs)  # every painting 0.1 better: no doubt left
    assert better["difference"] == pytest.approx(0.1) and better["interval"] == pytest.approx([0.1, 0.1])
    assert better["verdict"] == "ahead" and better["ours"] == pytest.approx(theirs.mean() + 0.1)
    assert paired_mean_difference(theirs + 0.1, theirs, higher_is_better=False)["verdict"] == "behind"  # an error grew
    noise = paired_mean_difference(theirs + rng.normal(0, 0.3, 200), theirs)  # no real difference
    assert noise["verdict"] == "level" and noise["interval"][0] < 0 < noise["interval"][1]
    with pytest.raises(ValueError, match="paired comparison of 3 and 2"):
        paired_mean_difference(np.ones(3), np.ones(2))
