"""Near-duplicate paintings: a perceptual hash and grouping by Hamming distance.

Collections scraped from the web hold the same painting several times: re-encoded, resized,
slightly recropped, or filed under two artists. The 64-bit DCT hash (pHash, after Zauner,
"Implementation and Benchmarking of Perceptual Image Hash Functions", 2010) of a 32x32
greyscale thumbnail changes little under those edits; two paintings whose hashes differ in at
most `max_distance` bits are treated as the same work.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy.fft import dctn

HASH_SIDE = 32
KEPT_FREQUENCIES = 8
DEFAULT_MAX_DISTANCE = 6  # bits of 64; measured on ../shared/paintings (see README)


def perceptual_hash(image: Image.Image) -> int:
    """64-bit pHash: signs of the lowest 8x8 DCT frequencies of a 32x32 greyscale thumbnail
    relative to their median (the DC term excluded from the median)."""
    grey = np.asarray(image.convert("L").resize((HASH_SIDE, HASH_SIDE), Image.Resampling.LANCZOS), dtype=np.float64)
    low = dctn(grey, norm="ortho")[:KEPT_FREQUENCIES, :KEPT_FREQUENCIES].flatten()
    bits = low > np.median(low[1:])
    return int(np.packbits(bits).view(">u8")[0])


def group_near_duplicates(hashes: list[int], max_distance: int = DEFAULT_MAX_DISTANCE) -> list[int]:
    """Group index of each hash: hashes within `max_distance` bits are in one group
    (transitively, by union-find). Groups are numbered by their first member."""
    count = len(hashes)
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    values = np.array(hashes, dtype=np.uint64)
    for i in range(count - 1):
        distances = np.bitwise_count(values[i + 1 :] ^ values[i])
        for j in np.nonzero(distances <= max_distance)[0] + i + 1:
            a, b = root(i), root(int(j))
            if a != b:
                parent[max(a, b)] = min(a, b)
    return [root(i) for i in range(count)]


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()
