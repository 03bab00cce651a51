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
concat+trunk+gram. The last three and concat+trunk share one fit (the two regressions), made once.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from painterly_vae.inference.latents import LatentViews

AUTO = "auto"
NO_TRUNK = ("concat",)
WITH_TRUNK = ("concat+trunk", "concat", "style", "gram", "concat+trunk+gram")
SHARED_FIT = ("concat+trunk", "gram", "concat+trunk+gram")  # one set of fitted arrays serves them all

# a representation's name -> an unfitted ArtistClusters of it (fit, arrays via .scorer, predict)
ClustersOf = Callable[[str], object]


def candidates(has_trunk: bool) -> tuple[str, ...]:
    return WITH_TRUNK if has_trunk else NO_TRUNK


def choose_representation(clusters_of: ClustersOf, has_trunk: bool, train_views: LatentViews,
                          train_labels: np.ndarray, val_views: LatentViews,
                          val_labels: np.ndarray) -> tuple[str, dict[str, object]]:
    """The chosen name and the record of the choice: every candidate's top-1 and balanced
    accuracy on the validation paintings, and the rule."""
    measured: dict[str, dict[str, float]] = {}
    shared = None
    for name in candidates(has_trunk):
        clusters = clusters_of(name)
        if name in SHARED_FIT and shared is not None:
            clusters.scorer.load_arrays(shared)
        else:
            clusters.fit(train_views, train_labels)
            if name in SHARED_FIT:
                shared = clusters.scorer.arrays()
        predicted = clusters.predict(val_views)
        recalls = [np.mean(predicted[val_labels == a] == a) for a in np.unique(val_labels)]
        measured[name] = {"top1": float(np.mean(predicted == val_labels)), "balanced_accuracy": float(np.mean(recalls))}
    chosen = max(measured, key=lambda name: _merit(measured[name]))  # max keeps the first of equals
    return chosen, {"chosen": chosen, "paintings": int(len(val_labels)), "candidates": measured,
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
