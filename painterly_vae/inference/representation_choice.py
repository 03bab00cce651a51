"""`clustering.representation = "auto"`: the representation that attributes the validation paintings best.

Which numbers name the painter best is a property of the run and its painters, not of a name
in a config: on the five paper painters with a MobileNetV2 trunk, z beside the style
statistics and the Gram statistics each lead on some collections and trail on others
(docs/results.md). So each candidate the run can use is fitted on the training paintings and
scored on the validation paintings; the run keeps the one with the best mean of top-1 and
balanced accuracy (ties go to the earlier candidate), and records every candidate's numbers
(`ArtistClusters.selection`: `attribute --verbose`, `evaluate` and the page show them).

The candidates are those of `REPRESENTATIONS` the run can use, less `own` and `elbo` (weak by
design, docs/results.md): concat for every run; with a trunk also concat+trunk, style, gram and
concat+trunk+gram. Representations that fit the same arrays (`Representation.shared_fit`:
concat+trunk's two regressions serve gram and concat+trunk+gram) are fitted once
(`fit_representations`, which `evaluate` uses too).
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from painterly_vae.inference.latents import LatentViews

AUTO = "auto"
NO_TRUNK = ("concat",)
WITH_TRUNK = ("concat+trunk", "concat", "style", "gram", "concat+trunk+gram")

# a representation's name -> an unfitted ArtistClusters of it (fit, predict; .scorer's shared_fit, arrays, load_arrays)
ClustersOf = Callable[[str], object]


def candidates(has_trunk: bool) -> tuple[str, ...]:
    return WITH_TRUNK if has_trunk else NO_TRUNK


def fit_representations(names: Iterable[str], clusters_of: ClustersOf, train_views: LatentViews,
                        train_labels: np.ndarray) -> dict[str, object]:
    """Each named representation's clusters fitted on the training paintings; those that share a
    fit (`Representation.shared_fit`) take the arrays of the first of them fitted."""
    fitted, shared = {}, {}
    for name in names:
        clusters = clusters_of(name)
        key = clusters.scorer.shared_fit
        if key is not None and key in shared:
            clusters.scorer.load_arrays(shared[key])
        else:
            clusters.fit(train_views, train_labels)
            if key is not None:
                shared[key] = clusters.scorer.arrays()
        fitted[name] = clusters
    return fitted


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Top-1 and balanced accuracy (the mean recall over the painters present) of predicted painters."""
    recalls = [np.mean(predicted[labels == a] == a) for a in np.unique(labels)]
    return {"top1": float(np.mean(predicted == labels)), "balanced_accuracy": float(np.mean(recalls))}


def choose_representation(clusters_of: ClustersOf, has_trunk: bool, train_views: LatentViews,
                          train_labels: np.ndarray, val_views: LatentViews,
                          val_labels: np.ndarray) -> tuple[object, dict[str, object]]:
    """The chosen representation's clusters, fitted, and the record of the choice: every
    candidate's top-1 and balanced accuracy on the validation paintings, and the rule."""
    fitted = fit_representations(candidates(has_trunk), clusters_of, train_views, train_labels)
    measured = {name: accuracy(clusters.predict(val_views), val_labels) for name, clusters in fitted.items()}
    chosen = max(measured, key=lambda name: _merit(measured[name]))  # max keeps the first of equals
    return fitted[chosen], {"chosen": chosen, "paintings": int(len(val_labels)), "candidates": measured,
                            "rule": "the best mean of top-1 and balanced accuracy on the validation paintings"}


def describe_selection(selection: dict[str, object] | None) -> str | None:
    """'chosen on 308 validation paintings over concat+trunk 89.0/91.4%, gram ...' (None when the
    config named the representation)."""
    if not selection:
        return None
    measured = selection["candidates"]
    ranked = sorted(measured, key=lambda name: -_merit(measured[name]))
    parts = ", ".join(f"{name} {measured[name]['top1']:.1%}/{measured[name]['balanced_accuracy']:.1%}" for name in ranked)
    return f"chosen on {selection['paintings']} validation paintings (top-1/balanced): {parts}"


def _merit(scores: dict[str, float]) -> float:
    return (scores["top1"] + scores["balanced_accuracy"]) / 2
