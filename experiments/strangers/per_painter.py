"""One "unknown artist" threshold for every painter, or one per painter with a guarantee?

    python experiments/strangers/per_painter.py RUN --data PREPARED --strangers PREPARED [--others PREPARED] [--cache FILE]

The run's threshold lets 90% of all validation paintings through; a painter whose paintings sit
lower in familiarity pays more (Monet 16%, Manet 3 of 8). Split-conformal calibration per painter
(Mondrian) lets at most that share of each painter's own paintings be rejected, by construction,
if each painter has enough calibration paintings: with n of them, the threshold is the
floor(alpha (n + 1))-th lowest, and below 1/alpha - 1 paintings nothing can be rejected (Manet's 8
validation paintings). So calibration paintings are added by cross-fitting: the training
paintings in K folds, each fold's familiarity from an attribution fitted on the other folds,
expressed on the scale every answer uses (the share of the validation paintings it is at least
as familiar as), which makes folds and the whole run comparable.

Rules compared on the test paintings of the run's painters and every painting of --strangers:
- global: the run's own threshold (one quantile of all validation paintings);
- per painter, validation only: painter k's validation paintings, applied by the painter named;
- per painter, validation + cross-fitted training paintings.
Per known painter: the share of its test paintings rejected; strangers flagged overall and each.
With --others (a run fitted with a folder of other painters' paintings), every fit is shown them too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from data_tools.processed import ProcessedData  # noqa: E402

FOLDS = 5


def encode(run, data: ProcessedData, strangers: ProcessedData, others: ProcessedData | None, cache: Path):
    from painterly_vae.inference.latents import LatentViews, encode_views
    from painterly_vae.inference.trained_run import split_views

    if cache.exists():
        stored = np.load(cache)
        views = {}
        for part in ("train", "val", "test", "strangers", "others"):
            if f"{part}_mu" not in stored:
                continue
            views[part] = LatentViews(*(stored[f"{part}_{n}"] for n in ("mu", "l1", "kl", "style", "gram")))
            views[f"{part}_labels"] = stored[f"{part}_labels"]
        return views
    views = {}
    for split in ("train", "val", "test"):
        views[split], views[f"{split}_labels"] = split_views(run.model, data, split, run.inference)
    for name, collection in (("strangers", strangers), ("others", others)):
        if collection is None:
            continue
        parts, labels = [], []
        for index, artist in enumerate(collection.artists):
            for split in ("train", "val", "test"):
                part = encode_views(run.model, collection.array(artist, split), run.inference, reconstruct=False)
                parts.append(part)
                labels.append(np.full(len(part), index))
        views[name], views[f"{name}_labels"] = LatentViews.concatenate(parts), np.concatenate(labels)
    parts = [p for p in ("train", "val", "test", "strangers", "others") if p in views]
    np.savez(cache, **{f"{part}_{n}": getattr(views[part], n) for part in parts for n in ("mu", "l1", "kl", "style", "gram")},
             **{f"{part}_labels": views[f"{part}_labels"] for part in parts})
    return views


def likeness(clusters, views) -> np.ndarray:
    """The share of the validation paintings each painting is at least as familiar as."""
    reference = clusters.familiarity_reference
    return np.searchsorted(reference, clusters.familiarity(views), side="right") / len(reference)


def conformal_threshold(scores: np.ndarray, alpha: float) -> float:
    """Reject below the floor(alpha (n + 1))-th lowest score (none when that is 0): at most alpha of
    an exchangeable painting's scores fall there."""
    rank = int(np.floor(alpha * (len(scores) + 1)))
    return -np.inf if rank < 1 else float(np.sort(scores)[rank - 1]) + 1e-12


def main() -> None:
    import torch

    from painterly_vae.inference.clustering import ArtistClusters
    from painterly_vae.inference.trained_run import open_run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--strangers", type=Path, required=True)
    parser.add_argument("--others", type=Path, help="prepared paintings of other painters the run was shown")
    parser.add_argument("--cache", type=Path, default=Path("per-painter-views.npz"))
    args = parser.parse_args()
    run = open_run(args.run, torch.device("cpu"))
    stored = run.require_clusters()
    strangers_data = ProcessedData.open(args.strangers)
    v = encode(run, ProcessedData.open(args.data), strangers_data,
               ProcessedData.open(args.others) if args.others else None, args.cache)
    artists, alpha = run.artists, 1 - stored.accept_share
    mix = stored.familiarity_mix.mix

    def fitted(train_rows: np.ndarray) -> ArtistClusters:
        clusters = ArtistClusters(artists, stored.encoder_of_artist, run.config.loss, stored.representation,
                                  stored.accept_share)
        clusters.fit_fold(v["train"].select(train_rows), v["train_labels"][train_rows])
        clusters.fit_exposure(v["train"].select(train_rows), v["train_labels"][train_rows], v.get("others"))
        return clusters.calibrate(v["val"], v["val_labels"], mix)

    whole = fitted(np.ones(len(v["train_labels"]), bool))
    folds = np.random.default_rng(0).integers(0, FOLDS, len(v["train_labels"]))
    cross = np.zeros(len(folds))
    for fold in range(FOLDS):
        held = folds == fold
        cross[held] = likeness(fitted(~held), v["train"].select(held))
    val_like, test_like, stranger_like = (likeness(whole, v[p]) for p in ("val", "test", "strangers"))
    named_test, named_strangers = whole.predict(v["test"]), whole.predict(v["strangers"])
    rules = {"global (the run's)": np.full(len(artists), np.quantile(val_like, alpha))}
    for name, with_cross in (("per painter, validation", False), ("per painter, validation + cross-fitted", True)):
        thresholds = []
        for a in range(len(artists)):
            scores = val_like[v["val_labels"] == a]
            if with_cross:
                scores = np.r_[scores, cross[v["train_labels"] == a]]
            thresholds.append(conformal_threshold(scores, alpha))
        rules[name] = np.array(thresholds)
    print(f"familiarity {mix}; alpha {alpha:.2f}; calibration paintings per painter: validation "
          + ", ".join(f"{a} {np.sum(v['val_labels'] == i)}" for i, a in enumerate(artists))
          + f"; cross-fitted training +{len(folds)} in all")
    for name, thresholds in rules.items():
        rejected = test_like < thresholds[named_test]
        flagged = stranger_like < thresholds[named_strangers]
        per = {a: rejected[v["test_labels"] == i].mean() for i, a in enumerate(artists)}
        each = {s: flagged[v["strangers_labels"] == i].mean() for i, s in enumerate(strangers_data.artists)}
        print(f"{name:42s} false rejections {rejected.mean():5.1%} (worst {max(per.values()):5.1%}: "
              + ", ".join(f"{a.split('-')[-1]} {p:.0%}" for a, p in per.items())
              + f") strangers flagged {flagged.mean():5.1%} (" + ", ".join(f"{s.split('-')[-1]} {p:.0%}" for s, p in each.items()) + ")")
        print(f"{'':42s} thresholds (likeness share) " + ", ".join(f"{t:.3f}" for t in thresholds))


if __name__ == "__main__":
    main()
