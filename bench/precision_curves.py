"""Does the default precision learn what fp32 learns? Loss curves of both, side by side.

    python bench/precision_curves.py [--quick] [--out docs/precision_curves.png]

Paints four synthetic painters, prepares them at 64 px, and trains the same configuration
twice from the same seed: `training.precision = fp32` and the default (`auto`: bf16 where
the CPU or GPU has it). Plots the per-step training L1 and KL of both runs (read back from
their TensorBoard event files) into one PNG and prints the mean of the last fifth of each
curve and the speed of each run. The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_tools.prepare import PrepareOptions, prepare  # noqa: E402
from data_tools.synthetic import write_synthetic_raw  # noqa: E402
from painterly_vae.cli.train_command import TrainRequest, run_training  # noqa: E402
from painterly_vae.evaluation import plots  # noqa: E402


def curves(run_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0}).Reload()
    return {tag: (np.array([e.step for e in events.Scalars(tag)]), np.array([e.value for e in events.Scalars(tag)]))
            for tag in ("train/l1", "train/kl")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 steps instead of 1,000")
    parser.add_argument("--out", type=Path, default=Path("docs/precision_curves.png"))
    args = parser.parse_args()
    steps = 300 if args.quick else 1000
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        raw = write_synthetic_raw(root / "raw", artists=4, per_artist=80, size=96, seed=0)
        data = prepare(raw, root / "processed", PrepareOptions(size=64, min_size=64, workers=1), progress=False).out
        results = {}
        for precision in ("fp32", "auto"):
            values = {"model.image_size": 64, "training.precision": precision, "training.steps": steps,
                      "training.log_every": 5, "training.eval_every": steps, "training.image_every": steps,
                      "training.checkpoint_every": steps, "training.runs_dir": str(root / "runs")}
            summary = run_training(TrainRequest(data=data, name=precision, values=values, progress=False))
            results[precision] = (curves(summary.run_dir), summary.images_per_second)
    tail = lambda series: float(series[1][-max(1, len(series[1]) // 5):].mean())  # noqa: E731
    plots.curves_png({p: c for p, (c, _) in results.items()}, args.out,
                     f"fp32 and the default precision, same seed, {steps} steps at 64 px")
    (fp32, fp32_speed), (auto, auto_speed) = results["fp32"], results["auto"]
    for name, (series, speed) in results.items():
        print(f"{name:>5}: final L1 {tail(series['train/l1']):.4f}, KL {tail(series['train/kl']):.4f}, {speed:.0f} img/s")
    print(f"plot: {args.out}")
    print(f"precision_curves steps={steps} l1_fp32={tail(fp32['train/l1']):.4f} l1_default={tail(auto['train/l1']):.4f} "
          f"l1_ratio={tail(auto['train/l1']) / tail(fp32['train/l1']):.3f} speed_ratio={auto_speed / fp32_speed:.2f}")


if __name__ == "__main__":
    main()
