"""The alternating schedule: which artist's encoder trains at each global step.

`--ratio 2:5` means 2 consecutive steps on artist 1's encoder, then 5 on artist 2's, then
again from the start. The schedule is a pure function of the step number, so resuming a run
only needs the step count, and every distributed rank computes the same artist.

`training.interleave` keeps each artist's share of a cycle but spreads its steps through it
(2:5 becomes B A B B B A B instead of A A B B B B B): with `--ratio auto` on five painters an
encoder otherwise waits up to 24 steps while the shared decoder trains with the others, and its
validation L1 rises and falls with how long ago its block ended (experiments/record.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

from painterly_vae.errors import ConfigError


@dataclass(frozen=True)
class AlternatingSchedule:
    """Consecutive steps per artist, in the dataset's artist order, repeated forever."""

    steps_per_artist: tuple[int, ...]
    interleaved: bool = False  # each artist's steps spread evenly through the cycle instead of in one block

    def __post_init__(self) -> None:
        if not self.steps_per_artist or any(n <= 0 for n in self.steps_per_artist):
            raise ConfigError(f"ratio needs one positive integer per artist, got {self.steps_per_artist}")

    @property
    def cycle_length(self) -> int:
        return sum(self.steps_per_artist)

    @cached_property
    def cycle(self) -> tuple[int, ...]:
        """The artist of each step of one cycle. Interleaved: artist a's k-th step sits at
        (k + 1/2) / n_a of the cycle, ties in artist order, so no artist waits much longer than
        its share says."""
        if not self.interleaved:
            return tuple(a for a, n in enumerate(self.steps_per_artist) for _ in range(n))
        places = [((k + 0.5) / n, a) for a, n in enumerate(self.steps_per_artist) for k in range(n)]
        return tuple(a for _, a in sorted(places))

    def artist_at(self, step: int) -> int:
        """Index of the artist whose encoder trains at global step `step` (0-based)."""
        return self.cycle[step % self.cycle_length]

    def describe(self, artists: list[str]) -> str:
        shares = ", ".join(f"{n} x {artist}" for n, artist in zip(self.steps_per_artist, artists))
        return shares + (" per cycle, interleaved" if self.interleaved else "")


def parse_ratio(text: str, artists: list[str], train_counts: list[int], interleaved: bool = False
                ) -> AlternatingSchedule:
    """Build the schedule from `2:5`, `auto`, `sqrt` or `equal` (`interleaved`: see the module's docstring).

    `auto` makes the steps proportional to each artist's training-set size: each count is
    divided by the smallest and rounded to the nearest integer (at least 1), so 300 and 80
    paintings give 4:1. Rounding to small integers keeps the blocks short, so the shared
    decoder never spends hundreds of steps on one artist in a row. `sqrt` does the same with
    the square roots of the sizes (300 and 80 give 2:1): in a catalogue that differs 20 to 1,
    `auto` leaves the smallest painters' encoders a few dozen steps of their own, `equal` gives
    the largest painters' as few as the smallest's (experiments/record.md, "The schedule at 23 to 1").
    """
    text = text.strip()
    count = len(artists)
    if text == "equal":
        return AlternatingSchedule((1,) * count, interleaved)
    if text in ("auto", "sqrt"):
        if len(train_counts) != count or min(train_counts, default=0) <= 0:
            raise ConfigError(f"--ratio {text} needs at least one training image for every artist")
        sizes = [math.sqrt(n) for n in train_counts] if text == "sqrt" else list(train_counts)
        smallest = min(sizes)
        return AlternatingSchedule(tuple(max(1, round(n / smallest)) for n in sizes), interleaved)
    parts = text.split(":")
    try:
        numbers = tuple(int(part) for part in parts)
    except ValueError:
        raise ConfigError(
            f"--ratio '{text}' is not a list of integers like 2:5, nor 'auto', 'sqrt' or 'equal'"
        ) from None
    if len(numbers) != count:
        raise ConfigError(
            f"--ratio '{text}' has {len(numbers)} number(s) but the data has {count} artists "
            f"({', '.join(artists)}): give one per artist, in that order"
        )
    if any(n <= 0 for n in numbers):
        raise ConfigError(f"--ratio '{text}': every number must be a positive integer")
    return AlternatingSchedule(numbers, interleaved)
