"""Two shortcuts for the attribution's fit, measured on a trained run's own paintings.

    python experiments/fit/fold_shortcuts.py RUN --data PREPARED [--cache FILE]

1. The solver of its regressions: L-BFGS (scikit-learn's default) against Newton's method with
   conjugate gradients, on z beside the style statistics (concat+trunk) and on the Gram
   statistics' 256 principal components: time, iterations, the objective each reached, the
   validation paintings' top-1 and the largest difference of any probability.
2. Leaving each painter out with principal components of the Gram statistics fitted once, on all
   the training paintings, instead of in each fold: what the fold costs, and what it does to the
   measurement (the familiarity's AUROC between the left-out painter's validation paintings and
   the others'). The left-out painter's training paintings are then among those the components
   were fitted on, though the regression never sees their names.

The training and validation paintings are encoded once through RUN (without reconstructions) and
cached in FILE (default: /tmp/<run>-views.pkl).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from painterly_vae.inference.linear_probe import (  # noqa: E402
    ExactPCA,
    regression_objective,
    standardised_logistic_regression,
)
from painterly_vae.inference.representations import (  # noqa: E402
    GRAM_COMPONENTS,
    TRUNK_PROBE_STRENGTH,
    _with_trunk,
    fit_probe,
    probe_log_proba,
)
from painterly_vae.inference.run_data import open_run_data  # noqa: E402
from painterly_vae.inference.trained_run import open_run, split_views  # noqa: E402
from painterly_vae.runtime.batched import InferenceSettings  # noqa: E402


def encoded(run_dir: Path, data: Path, cache: Path) -> dict:
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    run = open_run(run_dir, torch.device("cpu"))
    prepared, settings = open_run_data(run, data), InferenceSettings.of(run.config, run.device)
    views = {}
    for split in ("train", "val"):
        views[split], views[f"{split}_labels"] = split_views(run.model, prepared, split, settings, reconstruct=False)
    cache.write_bytes(pickle.dumps(views))
    return views


def solvers(views: dict) -> None:
    train, labels, val, val_labels = views["train"], views["train_labels"], views["val"], views["val_labels"]
    for name, features, val_features, components in (
            ("concat+trunk", _with_trunk(train), _with_trunk(val), None),
            ("gram", train.gram.astype(np.float64), val.gram.astype(np.float64), GRAM_COMPONENTS)):
        print(f"{name}: {len(labels)} paintings x {features.shape[1]} numbers"
              + (f", {components} principal components" if components else ""))
        answers = {}
        for solver in ("lbfgs", "newton-cg"):
            pipeline = standardised_logistic_regression(TRUNK_PROBE_STRENGTH, components=components)
            pipeline[-1].set_params(solver=solver)
            started = time.perf_counter()
            pipeline.fit(features, labels)
            seconds = time.perf_counter() - started
            answers[solver] = pipeline.predict_proba(val_features)
            top1 = np.mean(answers[solver].argmax(1) == val_labels)
            print(f"  {solver:9s} {seconds:6.2f} s  {pipeline[-1].n_iter_[0]:4d} iterations  objective "
                  f"{regression_objective(pipeline, features, labels):.6f}  validation top-1 {top1:.1%}")
        print(f"  largest probability difference {np.abs(answers['lbfgs'] - answers['newton-cg']).max():.4f}")


def shared_components(views: dict, at_most: int = 20) -> None:
    train, labels, val, val_labels = views["train"], views["train_labels"], views["val"], views["val_labels"]
    gram, val_gram = train.gram.astype(np.float64), val.gram.astype(np.float64)
    painters = int(labels.max()) + 1
    whole = fit_probe(gram, labels, painters, GRAM_COMPONENTS)
    left_out = np.unique(np.linspace(0, painters - 1, min(at_most, painters)).round().astype(int))
    aurocs, seconds = {"refitted": [], "shared": []}, {"refitted": 0.0, "shared": 0.0}
    for held in left_out:
        kept, known = labels != held, val_labels != held
        relabel = np.cumsum(np.arange(painters) != held) - 1
        for way in aurocs:
            started = time.perf_counter()
            if way == "refitted":
                probe = fit_probe(gram[kept], relabel[labels[kept]], painters - 1, GRAM_COMPONENTS)
                familiarity = probe_log_proba(probe, val_gram).max(1)
            else:  # the whole run's standardisation and components, the fold's regression on them
                reduce = lambda x: ExactPCA.transform(pca, (x - whole["mean"]) / whole["scale"])  # noqa: E731
                pca = ExactPCA(GRAM_COMPONENTS)
                pca.mean_, pca.components_ = whole["pca_mean"], whole["pca_components"]
                regression = standardised_logistic_regression(TRUNK_PROBE_STRENGTH).fit(reduce(gram[kept]),
                                                                                        relabel[labels[kept]])
                familiarity = regression.predict_log_proba(reduce(val_gram)).max(1)
            seconds[way] += time.perf_counter() - started
            aurocs[way].append(roc_auc_score(~known, -familiarity))
    for way in aurocs:
        print(f"left out in turn, components {way}: familiarity AUROC {np.mean(aurocs[way]):.3f} over "
              f"{len(left_out)} painters, {seconds[way] / len(left_out):.2f} s a fold")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--cache", type=Path)
    args = parser.parse_args()
    views = encoded(args.run, args.data, args.cache or Path(f"/tmp/{args.run.name}-views.pkl"))
    solvers(views)
    shared_components(views)


if __name__ == "__main__":
    main()
