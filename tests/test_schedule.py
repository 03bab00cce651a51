"""The alternating schedule: 2:5, N-way ratios, auto, and clear errors."""

from __future__ import annotations

import pytest

from painterly_vae.errors import ConfigError
from painterly_vae.training.schedule import parse_ratio

TWO = ["monet", "renoir"]


def test_two_to_five() -> None:
    schedule = parse_ratio("2:5", TWO, [10, 10])
    assert [schedule.artist_at(s) for s in range(16)] == [0, 0, 1, 1, 1, 1, 1] * 2 + [0, 0]


def test_n_way_ratio() -> None:
    schedule = parse_ratio("1:3:2", ["a", "b", "c"], [5, 5, 5])
    assert [schedule.artist_at(s) for s in range(12)] == [0, 1, 1, 1, 2, 2] * 2


def test_equal_is_the_default_round_robin() -> None:
    schedule = parse_ratio("equal", ["a", "b", "c", "d"], [1, 2, 3, 4])
    assert [schedule.artist_at(s) for s in range(8)] == [0, 1, 2, 3] * 2


def test_auto_is_proportional_to_training_sizes_rounded() -> None:
    assert parse_ratio("auto", TWO, [300, 80]).steps_per_artist == (4, 1)  # 3.75 rounds to 4
    assert parse_ratio("auto", ["a", "b", "c"], [100, 100, 250]).steps_per_artist == (1, 1, 2)  # 2.5 -> 2 (banker's)


@pytest.mark.parametrize(
    ("ratio", "message"),
    [
        ("2:5:1", "3 number\\(s\\) but the data has 2 artists"),
        ("2", "1 number\\(s\\)"),
        ("0:5", "positive"),
        ("-1:5", "positive"),
        ("two:five", "not a list of integers"),
        ("2.5:1", "not a list of integers"),
        ("", "not a list of integers"),
    ],
)
def test_bad_ratios_are_clear_errors(ratio: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_ratio(ratio, TWO, [10, 10])
