"""The alternating schedule: 2:5, N-way ratios, auto, sqrt, and clear errors."""

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


def test_sqrt_gives_a_catalogue_of_23_to_1_a_ratio_of_5_to_1() -> None:
    assert parse_ratio("sqrt", TWO, [300, 80]).steps_per_artist == (2, 1)  # sqrt(3.75) = 1.94
    # Renoir's 968 training paintings beside Signac's 43: auto gives Signac's encoder 1 step in 24
    assert parse_ratio("auto", ["renoir", "signac"], [968, 43]).steps_per_artist == (23, 1)
    assert parse_ratio("sqrt", ["renoir", "signac"], [968, 43]).steps_per_artist == (5, 1)  # sqrt(22.5) = 4.74
    with pytest.raises(ConfigError, match="--ratio sqrt needs at least one training image"):
        parse_ratio("sqrt", TWO, [300, 0])


def test_interleaved_keeps_the_shares_and_spreads_each_artists_steps() -> None:
    assert parse_ratio("2:5", TWO, [10, 10], interleaved=True).cycle == (1, 0, 1, 1, 1, 0, 1)
    painters = ["sisley", "monet", "manet", "boudin", "renoir"]
    counts = [241, 923, 63, 276, 968]  # the five painters' training paintings: auto gives 4:15:1:4:15
    blocks = parse_ratio("auto", painters, counts)
    spread = parse_ratio("auto", painters, counts, interleaved=True)
    assert spread.steps_per_artist == blocks.steps_per_artist == (4, 15, 1, 4, 15)
    cycle = [spread.artist_at(s) for s in range(spread.cycle_length)]
    assert [cycle.count(a) for a in range(5)] == [4, 15, 1, 4, 15]

    def longest_wait(schedule, artist: int) -> int:  # steps between two of the artist's, across cycles
        steps = [s for s in range(2 * schedule.cycle_length) if schedule.artist_at(s) == artist]
        return max(b - a for a, b in zip(steps, steps[1:]))

    assert [longest_wait(blocks, a) for a in (1, 4)] == [25, 25]  # Monet's and Renoir's blocks of 15
    assert [longest_wait(spread, a) for a in (1, 4)] == [4, 4]
    assert "interleaved" in spread.describe(painters) and "interleaved" not in blocks.describe(painters)


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
