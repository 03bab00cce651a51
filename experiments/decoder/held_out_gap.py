"""Where the per-artist encoders lose to one shared encoder: on paintings they did not train on.

Each per-artist encoder learns from its painter's paintings alone (Manet: 63), the single-encoder
twin from all of them (2,471). If the twin's lead came from fitting, the per-artist run's L1 on
its training paintings would trail the twin's; if it comes from generalising, the training L1 is
level or better and the validation L1 trails, the more so the fewer paintings the painter has.
This measures both on each run's final model as evaluate does (the decoder's statistics
recomputed at the end of training, eval mode, z = mu, the painting's own painter's encoder): the
mean L1 of each painter's training paintings (the first `--paintings`) and of its validation
paintings, beside its number of training paintings; prints the table and draws the held-out gap
(validation minus training L1) against the paintings.

    python experiments/decoder/held_out_gap.py runs/ref128 runs/twin128 --data data/p5-224 --out gap.png \
        [--weights mobilenet_v2=FILE]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from frontier import save_figure  # noqa: E402

from data_tools.processed import ProcessedData  # noqa: E402
from painterly_vae.inference.trained_run import TrainedRun, open_run  # noqa: E402
from painterly_vae.runtime.batched import run_batched  # noqa: E402

PAINTINGS = 200  # training paintings measured per painter (the first ones), by default


@dataclass
class PainterLosses:
    training_paintings: int
    train_l1: float
    val_l1: float

    @property
    def gap(self) -> float:
        return self.val_l1 - self.train_l1


def painter_losses(run: TrainedRun, data: ProcessedData, paintings: int = PAINTINGS) -> dict[str, PainterLosses]:
    """Each painter's mean L1 on its training and validation paintings (see the module docstring)."""
    run.model.eval()

    def mean_l1(artist: int, split: str, limit: int | None) -> float:
        def errors(batch: torch.Tensor) -> torch.Tensor:
            output = run.model(batch, artist)  # eval mode: z = mu
            return (output.reconstruction.float().clamp(0, 1) - output.target.float()).abs().flatten(1).mean(1)

        images = data.array(data.artists[artist], split)
        with torch.no_grad():
            return float(torch.cat(run_batched(images[:limit], errors, run.inference)).mean())

    return {name: PainterLosses(data.count(name, "train"), mean_l1(artist, "train", paintings),
                                mean_l1(artist, "val", None))
            for artist, name in enumerate(data.artists)}


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
    parser.add_argument("--paintings", type=int, default=PAINTINGS, help="training paintings per painter, at most")
    parser.add_argument("--weights", action="append", default=[], help="NETWORK=FILE, as for evaluate")
    parser.add_argument("--out", type=Path, help="save the picture here (PNG)")
    args = parser.parse_args()
    data = ProcessedData.open(args.data)
    weights = dict(w.split("=", 1) for w in args.weights)
    runs, kinds = {}, {}
    for run_dir in args.runs:
        run = open_run(run_dir, torch.device("cpu"), weights=weights)
        runs[run_dir.name], kinds[run_dir.name] = painter_losses(run, data, args.paintings), run.config.model.encoders
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
