"""Deterministic, stratified train/val/test assignment by content hash.

Within each artist, paintings (near-duplicate groups, really) are ordered by the SHA-256 of
their group key, a content hash; the first share of that order goes to train, the next to
val, the rest to test, with counts rounded from the fractions (and at least one val and one
test painting when the artist has three or more and the fraction is not zero). So:

- the same painting lands in the same split on every run and machine (no RNG, no file order);
- every copy of a near-duplicate group lands in one split (they share the key);
- each artist gets its share of every split (stratified), even with 30 paintings;
- adding paintings later moves only the few that sit at a quota boundary of the hash order.
"""

from __future__ import annotations

import hashlib

from data_tools.processed import SPLITS


def assign_splits(keys: list[str], fractions: tuple[float, float, float]) -> dict[str, str]:
    """Split of each distinct key of one artist: {'key': 'train' | 'val' | 'test'}."""
    ordered = sorted(set(keys), key=lambda key: hashlib.sha256(key.encode("utf-8")).digest())
    count = len(ordered)
    _, val_fraction, test_fraction = fractions
    n_val, n_test = round(count * val_fraction), round(count * test_fraction)
    if count >= 3:
        n_val = max(n_val, 1) if val_fraction > 0 else 0
        n_test = max(n_test, 1) if test_fraction > 0 else 0
    n_train = max(count - n_val - n_test, 0)
    bounds = {"train": n_train, "val": n_train + n_val, "test": count}
    assignment, start = {}, 0
    for split in SPLITS:
        for key in ordered[start : bounds[split]]:
            assignment[key] = split
        start = bounds[split]
    return assignment
