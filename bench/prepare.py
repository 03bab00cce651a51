"""`prepare` throughput on realistic photographs: all cores against one, side by side.

    python bench/prepare.py [--quick] [--count 60] [--size 256]

Paints JPEGs of 1-2 megapixels (1,400 x 1,050 and 1,050 x 1,400, quality 90), then prepares
them twice into fresh folders: with one spawned worker per core and in-process. Both runs
do the whole job (hashing, decoding with JPEG draft mode, perceptual hashes, resizing,
splitting, writing the arrays). The last line is machine-readable. Target: >= 40 images/s
on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_tools.prepare import PrepareOptions, prepare  # noqa: E402
from data_tools.synthetic import paint, painter_style  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 paintings instead of 200")
    parser.add_argument("--count", type=int, help="paintings (split over 4 artists)")
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    count = args.count or (60 if args.quick else 200)
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw"
        for i in range(count):
            artist = i % 4
            folder = raw / f"artist-{artist}"
            folder.mkdir(parents=True, exist_ok=True)
            paint(painter_style(artist), 1050, seed=i).image.save(folder / f"painting-{i}.jpg", quality=90)
        megapixels = 1050 * 1400 / 1e6
        rates = {}
        cores = os.cpu_count() or 1
        for workers in (cores, 1):
            options = PrepareOptions(size=args.size, min_images=1, workers=workers)
            start = time.perf_counter()
            prepare(raw, Path(scratch) / f"out-{workers}", options, progress=False)
            rates[workers] = count / (time.perf_counter() - start)
    print(f"{count} JPEGs of {megapixels:.1f} megapixels -> {args.size} px")
    print(f"{cores} workers: {rates[cores]:6.1f} images/s (spawned processes)")
    print(f"1 worker:  {rates[1]:6.1f} images/s (in-process)")
    print(f"prepare count={count} size={args.size} megapixels={megapixels:.1f} parallel_img_s={rates[cores]:.1f} "
          f"serial_img_s={rates[1]:.1f} ratio={rates[cores] / rates[1]:.2f} workers={cores}")


if __name__ == "__main__":
    main()
