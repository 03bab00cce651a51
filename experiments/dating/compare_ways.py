"""Dating by the attribution's probabilities instead of its one painter: does it come nearer each painter's median?

    python experiments/dating/by_probabilities.py RUN --data PREPARED

A run dates a painting by the ridge regression from the painting or, where the validation
paintings show it better, by the median training year of the painter it names. Naming the wrong
painter of another century costs decades, so this measures, on the validation and test
paintings, two ways that hedge over the painters the attribution hesitates between: the median
of the painters' median years weighted by the run's probabilities (the year with the least
expected absolute error if each painter's works sat at its median) and their weighted mean;
beside the regression, the named painter's median and the true painter's median (the floor
`evaluate` reports).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from painterly_vae.inference.dating import median_years, split_years  # noqa: E402
from painterly_vae.inference.run_data import open_run_data  # noqa: E402
from painterly_vae.inference.trained_run import open_run, split_views  # noqa: E402
from painterly_vae.runtime.batched import InferenceSettings  # noqa: E402


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(N,) for each row of `weights` (N, K), the smallest of `values` (K,) holding half its weight."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[:, order], 1)
    return values[order][(cumulative >= 0.5 * cumulative[:, -1:]).argmax(1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    run = open_run(args.run, torch.device("cpu"))
    data, settings = open_run_data(run, args.data), InferenceSettings.of(run.config, run.device)
    if run.dating is None or run.clusters is None:
        raise SystemExit(f"{args.run} has no fitted attribution and dating")
    _, train_labels = split_views(run.model, data, "train", settings, reconstruct=False)
    medians = median_years(split_years(data, run.artists, "train"), train_labels, len(run.artists))
    dated_painters = ~np.isnan(medians)
    for split in ("val", "test"):
        views, labels = split_views(run.model, data, split, settings, reconstruct=False)
        years = split_years(data, run.artists, split)
        dated = ~np.isnan(years)
        probabilities = run.clusters.predict_proba(views)[:, dated_painters]
        ways = {
            "the regression": run.dating.predict(views),
            "the named painter's median": medians[run.clusters.predict(views)],
            "probability-weighted median": weighted_median(medians[dated_painters], probabilities),
            "probability-weighted mean": probabilities @ medians[dated_painters] / probabilities.sum(1),
            "the true painter's median": medians[labels],
        }
        errors = ", ".join(f"{name} {np.nanmean(np.abs(years - way)[dated]):.1f}" for name, way in ways.items())
        print(f"{split} ({int(dated.sum())} dated paintings), mean absolute error in years: {errors}")


if __name__ == "__main__":
    main()
