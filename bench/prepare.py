"""`prepare` on generated collections: throughput (all cores against one) or peak memory.

    python bench/prepare.py [--quick] [--count 60] [--size 256]
    python bench/prepare.py --memory [--count 20000] [--size 256]

Throughput: paints JPEGs of 1-2 megapixels (1,400 x 1,050 and 1,050 x 1,400, quality 90), then
prepares them twice into fresh folders: with one spawned worker per core and in-process. Both
runs do the whole job (hashing, decoding with JPEG draft mode, perceptual hashes, resizing,
splitting, writing the arrays). Target: >= 40 images/s on 2 cores.

Memory: writes `--count` small distinct JPEGs (smooth random colour fields, 320 x 240, so
20,000 take about a minute to make), then prepares all of them and a tenth of them, each in a
fresh process, and reports each run's peak resident memory (the main process, and the largest
decoding worker) beside what the kept squares weigh. The ratio of the two peaks says whether
memory follows the collection's size (about 10) or stays flat (about 1). Target: under 1 GB
for 20,000 paintings at 256 px.

The last line of either is machine-readable.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_tools.prepare import PrepareOptions, prepare  # noqa: E402
from data_tools.synthetic import paint, painter_style  # noqa: E402

# Run in a fresh interpreter so its peak resident set is prepare's alone.
_MEASURE = """
import json, resource, sys
sys.path.insert(0, {root!r})
from data_tools.prepare import PrepareOptions, prepare
prepare({raw!r}, {out!r}, PrepareOptions(size={size}, min_images=1), progress=False)
print(json.dumps({{"main_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   "worker_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 paintings instead of 200")
    parser.add_argument("--count", type=int, help="paintings (split over 4 artists)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--memory", action="store_true", help="peak memory instead of throughput")
    args = parser.parse_args()
    if args.memory:
        measure_memory(args.count or (2000 if args.quick else 20000), args.size)
        return
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


def measure_memory(count: int, size: int) -> None:
    import numpy as np
    from PIL import Image

    small = max(count // 10, 4)
    with tempfile.TemporaryDirectory() as scratch:
        raws = {count: Path(scratch) / "raw", small: Path(scratch) / "raw-small"}
        rng = np.random.default_rng(0)
        started = time.perf_counter()
        for i in range(count):
            field = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
            image = Image.fromarray(field).resize((320, 240), Image.Resampling.BICUBIC)
            for n, raw in raws.items():
                if i < n:
                    folder = raw / f"artist-{i % 4}"
                    folder.mkdir(parents=True, exist_ok=True)
                    image.save(folder / f"painting-{i}.jpg", quality=85)
        print(f"made {count} JPEGs in {time.perf_counter() - started:.0f} s")
        peaks = {}
        for n, raw in sorted(raws.items()):
            started = time.perf_counter()
            code = _MEASURE.format(root=str(Path(__file__).resolve().parents[1]), raw=str(raw),
                                   out=str(Path(scratch) / f"out-{n}"), size=size)
            result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
            peaks[n] = json.loads(result.stdout.strip().splitlines()[-1])
            squares_mb = n * 3 * size * size / 1e6
            print(f"{n:6d} paintings at {size} px: peak {peaks[n]['main_kb'] / 1e3:7.0f} MB (main), "
                  f"{peaks[n]['worker_kb'] / 1e3:5.0f} MB (largest worker); the squares weigh {squares_mb:6.1f} MB; "
                  f"{time.perf_counter() - started:.0f} s")
    ratio = peaks[count]["main_kb"] / peaks[small]["main_kb"]
    print(f"prepare-memory count={count} size={size} peak_mb={peaks[count]['main_kb'] / 1e3:.0f} "
          f"worker_peak_mb={peaks[count]['worker_kb'] / 1e3:.0f} small_count={small} "
          f"small_peak_mb={peaks[small]['main_kb'] / 1e3:.0f} ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
