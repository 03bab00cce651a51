"""The picture of reconstructions with and without the DFC loss in the README.

    python experiments/deep-features/compare_reconstructions.py RUN [RUN ...] --data DIR --out PNG [--labels L ...]

Two test paintings of each artist of the prepared data DIR (at the largest size any run
reads), each through its own artist's encoder of every RUN (z = mu) and the shared decoder,
one row per run under a row of the inputs. Uses only the package's public pieces.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from data_tools.processed import ProcessedData  # noqa: E402
from painterly_vae.evaluation import plots  # noqa: E402
from painterly_vae.inference import explore  # noqa: E402
from painterly_vae.inference.trained_run import open_run  # noqa: E402
from painterly_vae.model.model import resize  # noqa: E402
from painterly_vae.runtime.batches import to_device_images  # noqa: E402

PER_ARTIST = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run directories")
    parser.add_argument("--data", type=Path, required=True, help="prepared data at the largest size a run reads")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--labels", nargs="+", help="one row label per run (default: the run names)")
    args = parser.parse_args()
    cpu = torch.device("cpu")
    data = ProcessedData.open(args.data)
    paintings = [(index, np.asarray(data.array(artist, "test")[:PER_ARTIST])) for index, artist in enumerate(data.artists)]
    shown_size = min(open_run(Path(r), cpu).config.model.image_size for r in args.runs)
    inputs = np.concatenate([resize(to_device_images(images, cpu), shown_size).numpy() for _, images in paintings])
    rows = [("input", inputs)]
    labels = args.labels or [Path(r).name for r in args.runs]
    if len(labels) != len(args.runs):
        parser.error("give one label per run")
    for run_dir, label in zip(args.runs, labels):
        run = open_run(Path(run_dir), cpu)
        own = []
        for artist, images in paintings:
            batch = resize(to_device_images(images, cpu), run.config.model.input_size)
            own.append(resize(explore.reconstruct(run.model, batch, artist), shown_size).numpy())
        rows.append((label, np.concatenate(own)))
    titles = [artist.split("-")[-1] for artist in data.artists for _ in range(PER_ARTIST)]
    plots.picture_rows_png(rows, args.out, "test paintings through their own artist's encoder", column_titles=titles)
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
