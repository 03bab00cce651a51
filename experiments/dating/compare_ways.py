"""Ways of dating a painting beside the run's own: do any come nearer each painter's median year?

    python experiments/dating/compare_ways.py RUN --data PREPARED [--neighbours 9]

A run dates a painting by the ridge regression from the painting or, where the validation
paintings show it better, by the median training year of the painter it names. Naming the wrong
painter of another century costs decades, so this measures, on the validation and test
paintings, two ways that hedge over the painters the attribution hesitates between: the median
of the painters' median years weighted by the run's probabilities (the year with the least
expected absolute error if each painter's works sat at its median) and their weighted mean. And
two that read the painting's place within a career: the median year of its nearest dated
training paintings by the painter it names, and of its nearest of any painter (the network's
Gram statistics, standardised, 256 principal components, Euclidean). Beside them the regression,
the named painter's median and the true painter's median (the floor `evaluate` reports).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

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


def nearest_years(train: np.ndarray, train_years: np.ndarray, train_labels: np.ndarray, paintings: np.ndarray,
                  painters: np.ndarray | None, neighbours: int) -> np.ndarray:
    """(N,) the median year of each painting's `neighbours` nearest dated training paintings, among
    those of the painter in `painters` (None: of any painter); NaN where that painter has none."""
    dated = ~np.isnan(train_years)
    train, train_years, train_labels = train[dated], train_years[dated], train_labels[dated]
    distances = (paintings ** 2).sum(1)[:, None] - 2 * paintings @ train.T + (train ** 2).sum(1)[None]
    years = np.full(len(paintings), np.nan)
    for row, order in enumerate(np.argsort(distances, 1)):
        if painters is not None:
            order = order[train_labels[order] == painters[row]]
        if len(order):
            years[row] = np.median(train_years[order[:neighbours]])
    return years


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--neighbours", type=int, default=9, help="nearest dated training paintings a year is read from")
    args = parser.parse_args()
    run = open_run(args.run, torch.device("cpu"))
    data, settings = open_run_data(run, args.data), InferenceSettings.of(run.config, run.device)
    if run.dating is None or run.clusters is None:
        raise SystemExit(f"{args.run} has no fitted attribution and dating")
    train_views, train_labels = split_views(run.model, data, "train", settings, reconstruct=False)
    train_years = split_years(data, run.artists, "train")
    medians = median_years(train_years, train_labels, len(run.artists))
    scaler = StandardScaler().fit(train_views.gram)
    projection = PCA(n_components=min(256, *train_views.gram.shape), random_state=0).fit(scaler.transform(train_views.gram))
    place = lambda views: projection.transform(scaler.transform(views.gram))  # noqa: E731
    train_places = place(train_views)
    dated_painters = ~np.isnan(medians)
    for split in ("val", "test"):
        views, labels = split_views(run.model, data, split, settings, reconstruct=False)
        years = split_years(data, run.artists, split)
        dated = ~np.isnan(years)
        probabilities = run.clusters.predict_proba(views)[:, dated_painters]
        named = run.clusters.predict(views)
        places = place(views)
        near_named = nearest_years(train_places, train_years, train_labels, places, named, args.neighbours)
        ways = {
            "the regression": run.dating.predict(views),
            "the named painter's median": medians[named],
            "probability-weighted median": weighted_median(medians[dated_painters], probabilities),
            "probability-weighted mean": probabilities @ medians[dated_painters] / probabilities.sum(1),
            f"the named painter's {args.neighbours} nearest": np.where(np.isnan(near_named), medians[named], near_named),
            f"the {args.neighbours} nearest of any painter": nearest_years(train_places, train_years, train_labels,
                                                                      places, None, args.neighbours),
            "the true painter's median": medians[labels],
        }
        errors = ", ".join(f"{name} {np.nanmean(np.abs(years - way)[dated]):.1f}" for name, way in ways.items())
        print(f"{split} ({int(dated.sum())} dated paintings), mean absolute error in years: {errors}")


if __name__ == "__main__":
    main()
