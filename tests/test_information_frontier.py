"""experiments/decoder/information_frontier.py: the oracle reconstructions whose numbers experiments/record.md
quotes (what a decoder that knows only a thumbnail of each painting can score)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import load_experiment_script

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "decoder" / "information_frontier.py"


@pytest.fixture(scope="module")
def frontier():
    return load_experiment_script(SCRIPT)


def _paintings(count: int = 6, size: int = 32) -> torch.Tensor:
    """Smooth colour fields with fine strokes on top: coarse layout and detail both present."""
    generator = torch.Generator().manual_seed(0)
    coarse = torch.nn.functional.interpolate(torch.rand(count, 3, 4, 4, generator=generator), size=(size, size),
                                             mode="bilinear", align_corners=False)
    return (0.8 * coarse + 0.2 * torch.rand(count, 3, size, size, generator=generator)).clamp(0, 1)


def test_knowing_the_whole_painting_gives_it_back(frontier) -> None:
    paintings = _paintings()
    measured = frontier.oracle_measures(paintings, thumbnail=32, strength=0.0)
    assert measured["ssim"] == pytest.approx(1.0, abs=1e-6)
    assert measured["sharpness"] == pytest.approx(1.0, abs=1e-6)


def test_a_thumbnail_is_blurred_and_borrowed_detail_sharpens_it_at_ssims_cost(frontier) -> None:
    paintings = _paintings()
    alone = frontier.oracle_measures(paintings, thumbnail=4, strength=0.0)
    textured = frontier.oracle_measures(paintings, thumbnail=4, strength=1.0)
    assert alone["sharpness"] < 0.5  # the strokes are gone
    assert textured["sharpness"] == pytest.approx(1.0, abs=0.15)  # another painting's strokes, as strong
    assert textured["ssim"] < alone["ssim"]  # but not where this painting has them
    assert frontier.oracle_measures(paintings, thumbnail=16, strength=0.0)["ssim"] > alone["ssim"]  # more known


def test_the_ssim_where_a_line_reaches_a_sharpness_is_read_between_its_points(frontier, monkeypatch) -> None:
    monkeypatch.setattr(frontier, "DETAIL_STRENGTHS", (0.0, 1.0))
    table = {(8, 0.0): {"ssim": 0.5, "sharpness": 0.2}, (8, 1.0): {"ssim": 0.3, "sharpness": 1.0}}
    assert frontier.ssim_at_sharpness(table, 8, 0.6) == pytest.approx(0.4)
    assert frontier.ssim_at_sharpness(table, 8, 1.2) is None  # never that sharp


def test_a_run_on_a_thumbnails_line_is_given_that_thumbnails_size(frontier, monkeypatch) -> None:
    monkeypatch.setattr(frontier, "DETAIL_STRENGTHS", (0.0, 1.0))
    monkeypatch.setattr(frontier, "THUMBNAIL_SIZES", (4, 16))
    table = {(4, 0.0): {"ssim": 0.4, "sharpness": 0.1}, (4, 1.0): {"ssim": 0.2, "sharpness": 1.1},
             (16, 0.0): {"ssim": 0.6, "sharpness": 0.1}, (16, 1.0): {"ssim": 0.4, "sharpness": 1.1}}
    assert frontier.thumbnail_equivalent(table, 0.6, 0.35) == pytest.approx(4 * 2 ** 0.5)  # a quarter of the way
    assert frontier.thumbnail_equivalent(table, 0.6, 0.4) == pytest.approx(8.0)  # halfway, on a log scale
    assert frontier.thumbnail_equivalent(table, 0.6, 0.55) is None  # knows more than the largest
