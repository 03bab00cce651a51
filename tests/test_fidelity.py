"""The measures of what a viewer sees of a reconstruction, each against a case worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from painterly_vae.evaluation.fidelity import (
    channel_mean_error,
    colour_histogram_distance,
    frechet_distance,
    retrieves_own_original,
    variety_kept,
)
from painterly_vae.model.image_quality import ssim


def test_an_identical_reconstruction_retrieves_itself_and_scores_ssim_1() -> None:
    torch.manual_seed(0)
    originals = torch.rand(6, 3, 32, 32)
    assert retrieves_own_original(originals.clone(), originals).all()
    torch.testing.assert_close(ssim(originals.clone(), originals), torch.ones(6))
    assert float(channel_mean_error(originals, originals).max()) == 0.0
    assert float(colour_histogram_distance(originals, originals).max()) == 0.0


def test_the_average_painting_retrieves_one_original_at_most() -> None:
    torch.manual_seed(1)
    originals = torch.rand(8, 3, 32, 32)
    average = originals.mean(0, keepdim=True).expand_as(originals)  # the same field for every painting
    assert retrieves_own_original(average, originals).sum() <= 1
    swapped = originals[[1, 0, 2, 3, 4, 5, 6, 7]]  # paintings 0 and 1 given back as each other
    assert retrieves_own_original(swapped, originals).tolist() == [False, False] + [True] * 6


def test_colour_measures_by_hand() -> None:
    red = torch.zeros(1, 3, 4, 4)
    red[:, 0] = 1.0
    grey = torch.full((1, 3, 4, 4), 0.5)
    assert float(channel_mean_error(grey, red)[0]) == pytest.approx((0.5 + 0.5 + 0.5) / 3 * 255)
    assert float(colour_histogram_distance(grey, red)[0]) == pytest.approx(1.0)  # no pixel in the same cell
    half = red.clone()
    half[..., :2, :] = 0.5  # half the pixels turn grey
    assert float(colour_histogram_distance(half, red)[0]) == pytest.approx(0.5)


def test_frechet_distance_by_hand() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(4000, 3))
    assert frechet_distance(points, points) == pytest.approx(0.0, abs=1e-6)
    shifted = points + np.array([3.0, 0.0, 0.0])  # same covariance, means 3 apart: the distance is 9
    assert frechet_distance(shifted, points) == pytest.approx(9.0, rel=1e-6)
    wider = points * 2.0  # covariance 4I against I: trace(4I + I - 2 * 2I) = 3
    assert frechet_distance(wider, points) == pytest.approx(3.0, rel=0.05)


def test_frechet_distance_of_few_paintings_against_many_features_is_the_matrix_square_roots() -> None:
    """Ten paintings against 384 statistics take the small product's singular values: the same
    distance as the full covariances' matrix square root."""
    from scipy import linalg

    rng = np.random.default_rng(1)
    mixing = rng.normal(size=(384, 384)) * 0.1
    few, others = rng.normal(size=(10, 384)) @ mixing, rng.normal(size=(12, 384)) @ mixing + 0.3
    cov_a, cov_b = np.cov(few, rowvar=False), np.cov(others, rowvar=False)
    by_square_root = (np.sum((few.mean(0) - others.mean(0)) ** 2) + np.trace(cov_a) + np.trace(cov_b)
                      - 2 * np.trace(np.real(linalg.sqrtm(cov_a @ cov_b))))
    assert frechet_distance(few, others) == pytest.approx(by_square_root, rel=1e-6)
    assert frechet_distance(few, few) == pytest.approx(0.0, abs=1e-6)


def test_variety_kept_by_hand() -> None:
    """1 for a painter's paintings given back, 0 for one picture given back for all of them (the
    ghost), and the share of the spread kept when the reconstructions shrink towards their mean."""
    torch.manual_seed(2)
    originals = torch.rand(5, 3, 16, 16)
    assert variety_kept(originals.clone(), originals) == pytest.approx(1.0)
    ghost = originals.mean(0, keepdim=True).expand_as(originals)
    assert variety_kept(ghost, originals) == pytest.approx(0.0, abs=1e-6)
    halfway = ghost + 0.5 * (originals - ghost)
    assert variety_kept(halfway, originals) == pytest.approx(0.5)
    assert variety_kept(halfway + 0.2, originals) == pytest.approx(0.5)  # a tint moves nothing apart
    with pytest.raises(ValueError):
        variety_kept(originals[:1], originals[:1])
