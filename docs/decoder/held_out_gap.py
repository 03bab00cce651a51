"""Where the per-artist encoders lose to one shared encoder: on paintings they did not train on.

Each per-artist encoder learns from its painter's paintings alone (Manet: 63), the single-encoder
twin from all of them (2,471). If the twin's lead came from fitting, the per-artist run's
training L1 would trail the twin's; if it comes from generalising, the training L1 is level and
the validation L1 trails, the more so the fewer paintings the painter has. This reads both from
each run's TensorBoard events (training L1 per painter: the mean of its logged values over the
last fifth of the steps, with dropout on and z drawn; validation L1 per painter: the last
validation, dropout off, z = mu) beside each painter's number of training paintings, prints the
table and draws the held-out gap (validation minus training L1) against the paintings.

Training and validation L1 are not measured alike (dropout, drawn z), so the gap of one run is not
an overfitting measure by itself; two runs of the same config, per-artist and single, are measured
alike and their gaps compare.

    python docs/decoder/held_out_gap.py runs/ref128 runs/twin128 --data data/p5-224 --out gap.png
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from frontier import save_figure  # noqa: E402

LAST_SHARE = 0.2  # the training L1 is averaged over this last share of the run's steps


@dataclass
class PainterLosses:
    training_paintings: int
    train_l1: float
    val_l1: float

    @property
    def gap(self) -> float:
        return self.val_l1 - self.train_l1


def painter_losses(run_dir: Path, training_paintings: dict[str, int]) -> dict[str, PainterLosses]:
    """Each painter's training and validation L1 from the run's events (see the module docstring)."""
    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0}).Reload()
    tags = set(events.Tags()["scalars"])
    last_step = max(e.step for e in events.Scalars("train/l1"))
    losses = {}
    for painter, count in training_paintings.items():
        train_tag, val_tag = f"train/{painter}/l1", f"val/{painter}/l1"
        if train_tag not in tags or val_tag not in tags:
            raise SystemExit(f"{run_dir}: no per-painter L1 for {painter} in its TensorBoard events")
        late = [e.value for e in events.Scalars(train_tag) if e.step >= (1 - LAST_SHARE) * last_step]
        losses[painter] = PainterLosses(count, float(np.mean(late)), events.Scalars(val_tag)[-1].value)
    return losses


def encoders_of(run_dir: Path) -> str:
    """"per-artist" or "single", from the run's saved config."""
    for line in (run_dir / "config.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("encoders"):
            return line.split("=", 1)[1].strip().strip('"')
    return "per-artist"


def draw(runs: dict[str, dict[str, PainterLosses]], kinds: dict[str, str], out: Path) -> None:
    figure, axes = plt.subplots(figsize=(7.5, 4.8))
    palette = plt.get_cmap("tab10")
    for index, (name, losses) in enumerate(runs.items()):
        painters = sorted(losses, key=lambda p: losses[p].training_paintings)
        x = [losses[p].training_paintings for p in painters]
        y = [losses[p].gap for p in painters]
        single = kinds[name] == "single"
        axes.plot(x, y, "s--" if single else "o-", color=palette(index), label=f"{name} ({kinds[name]})")
        if index == 0:
            for p, xi, yi in zip(painters, x, y):
                axes.annotate(p.split("-")[-1], (xi, yi), textcoords="offset points", xytext=(4, 6), fontsize=8)
    axes.axhline(0, color="#444444", linewidth=0.8)
    axes.set_xscale("log")
    axes.set_xlabel("the painter's training paintings")
    axes.set_ylabel("validation L1 minus training L1")
    axes.set_title("The held-out gap, painter by painter: per-artist encoders (solid) and one shared encoder (dashed)",
                   fontsize=9)
    axes.legend(fontsize=8)
    save_figure(figure, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, required=True, help="the prepared data the runs trained on")
    parser.add_argument("--out", type=Path, help="save the picture here (PNG)")
    args = parser.parse_args()
    counts = json.loads((args.data / "index.json").read_text(encoding="utf-8"))["counts"]
    training_paintings = {painter: split["train"] for painter, split in counts.items()}
    runs = {run.name: painter_losses(run, training_paintings) for run in args.runs}
    kinds = {run.name: encoders_of(run) for run in args.runs}
    print(f"{'run':<16}{'painter':<24}{'train paintings':>16}{'train L1':>10}{'val L1':>10}{'gap':>9}")
    for name, losses in runs.items():
        for painter, loss in losses.items():
            print(f"{name:<16}{painter:<24}{loss.training_paintings:>16}{loss.train_l1:>10.4f}{loss.val_l1:>10.4f}"
                  f"{loss.gap:>+9.4f}")
    if args.out:
        draw(runs, kinds, args.out)
        print(f"picture: {args.out}")


if __name__ == "__main__":
    main()
