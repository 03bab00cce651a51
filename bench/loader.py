"""Data pipeline throughput against the training step that consumes it, in one run.

    python bench/loader.py [--quick] [--size 256] [--batch 16] [--device auto]

The loader is `TrainingBatches.batch`, what the Trainer calls every step: indices from the
per-artist sampler, a read from the memory-mapped uint8 arrays, flips, the copy to the device
and the conversion to float. The training step is `Trainer.train_step` at the same size and
batch. The loader must never be what the trainer waits for: the ratio should be well above 1
(target 5x). The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.train_step import build_trainer, timed  # noqa: E402
from painterly_vae.runtime.device import resolve_device  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    repeats = 5 if args.quick else 15
    with tempfile.TemporaryDirectory() as scratch:
        trainer = build_trainer(args.size, args.batch, device, "auto", True, Path(scratch))
        trainer.batches.batch(0)
        trainer.train_step(0, trainer.batches.batch(0))  # warm up both
        loader_times, step_times = [], []
        images = trainer.batches.batch(0)
        for _ in range(repeats):
            loader_times.append(timed(lambda: trainer.batches.batch(0), device))
            step_times.append(timed(lambda: trainer.train_step(0, images), device))
    loader_img_s = args.batch / statistics.median(loader_times)
    step_img_s = args.batch / statistics.median(step_times)
    print(f"device {device}, {args.size} px, batch {args.batch}, median of {repeats} interleaved repetitions")
    print(f"loader (memory map -> {device} float, flips) {loader_img_s:9.1f} img/s")
    print(f"train step                                 {step_img_s:9.1f} img/s")
    print(f"loader size={args.size} batch={args.batch} loader_img_s={loader_img_s:.1f} "
          f"train_step_img_s={step_img_s:.1f} ratio={loader_img_s / step_img_s:.1f}")


if __name__ == "__main__":
    main()
