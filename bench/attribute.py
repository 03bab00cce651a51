"""Attribution latency: warm (model loaded) at batch 1 and 32, and cold (the whole CLI).

    python bench/attribute.py [--quick] [--artists 6] [--size 256]

Builds a run with `--artists` encoders at `--size` px (weights from one training step: the
latency does not depend on how well it is trained), paints realistic JPEGs (1,200 x 900),
and times `attribute_files` on one painting and on 32 (per painting), then the
`painterly-vae attribute` process from start to exit. Warm batch-1 and batch-32 latencies are
measured side by side; the last line is machine-readable. Targets: warm batch 1 <= 100 ms,
cold <= 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_tools.processed import ProcessedData, write_processed  # noqa: E402
from data_tools.synthetic import paint, painter_style  # noqa: E402
from painterly_vae.cli.train_command import train_and_fit_clusters  # noqa: E402
from painterly_vae.config import Config  # noqa: E402
from painterly_vae.inference.answers import attribute_files  # noqa: E402
from painterly_vae.inference.trained_run import open_run  # noqa: E402
from painterly_vae.training.trainer import Trainer  # noqa: E402


def build_run(root: Path, artists: int, size: int) -> Path:
    rng = np.random.default_rng(0)
    arrays = {f"artist-{a}": {split: rng.integers(0, 256, (4, 3, size, size), dtype=np.uint8) for split in ("train", "val")}
              for a in range(artists)}
    rows = {a: {split: [{}] * 4 for split in ("train", "val")} for a in arrays}
    data = write_processed(root / "data", arrays, rows, {"options": {"size": size, "fit": "crop"}})
    config = Config().with_values({"model.image_size": size, "training.batch_size": 4, "training.steps": 1,
                                   "training.device": "cpu", "training.runs_dir": str(root / "runs")})
    trainer = Trainer(config, ProcessedData.open(data), root / "runs" / "bench", torch.device("cpu"))
    train_and_fit_clusters(trainer, progress=False)
    return trainer.run_dir


def paintings(root: Path, count: int) -> list[Path]:
    files = []
    for i in range(count):
        image = paint(painter_style(i % 4), 900, seed=i).image  # 1,200 x 900 or 900 x 1,200
        files.append(root / f"painting-{i}.jpg")
        image.save(files[-1], quality=90)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--artists", type=int, default=6)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        run_dir = build_run(root, args.artists, args.size)
        files = paintings(root, 32)
        run = open_run(run_dir, torch.device("cpu"))
        attribute_files(run, files[:2])  # warm up
        single, batched = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            attribute_files(run, files[:1])
            single.append(time.perf_counter() - start)
            start = time.perf_counter()
            attribute_files(run, files)
            batched.append((time.perf_counter() - start) / len(files))
        cold = []
        for _ in range(max(2, repeats // 2)):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "painterly_vae", "attribute", str(files[0]), "--run", str(run_dir)],
                           check=True, capture_output=True)
            cold.append(time.perf_counter() - start)
    warm_1, warm_32, cold_s = (statistics.median(t) for t in (single, batched, cold))
    print(f"{args.artists} artists at {args.size} px, 1,200 x 900 JPEGs, median of {repeats}")
    print(f"warm, batch 1:   {warm_1 * 1000:7.1f} ms per painting")
    print(f"warm, batch 32:  {warm_32 * 1000:7.1f} ms per painting ({warm_1 / warm_32:.1f}x faster than one by one)")
    print(f"cold CLI:        {cold_s:7.2f} s for one painting (start, load, attribute, exit)")
    print(f"attribute artists={args.artists} size={args.size} warm_batch1_ms={warm_1 * 1000:.1f} "
          f"warm_batch32_ms={warm_32 * 1000:.1f} batching_ratio={warm_1 / warm_32:.2f} cold_s={cold_s:.2f}")


if __name__ == "__main__":
    main()
