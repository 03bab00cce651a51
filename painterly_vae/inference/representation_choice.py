"""`clustering.representation = "auto"`: the representation that attributes the validation paintings best.

Which numbers name the painter best is a property of the run and its painters, not of a name
in a config: on the five paper painters with a MobileNetV2 trunk, z beside the style
statistics and the Gram statistics each lead on some collections and trail on others
(experiments/record.md). So each candidate the run can use is fitted on the training paintings and
scored on the validation paintings (the mean of top-1 and balanced accuracy), and the run
records every candidate's numbers (`ArtistClusters.selection`: `attribute --verbose`,
`evaluate` and the page show them).

The rule is the one-standard-error rule of model selection (Breiman et al.'s CART, glmnet's
lambda.1se): a few hundred validation paintings cannot tell apart candidates a point apart
(one standard error of the difference is about a point on 308), so the run keeps, of the
candidates within one standard error of the best, the one that reads the most of the run
(`WITH_TRUNK`'s order: z beside both statistics first). An argmax over near-ties kept a
narrower candidate (the Gram regression alone, or concat+trunk) on seven earlier runs
where z beside both statistics was ahead on the test paintings; this rule changes six of those
choices (experiments/record.md, "Choosing among near-ties").

The candidates are those of `REPRESENTATIONS` the run can use, less `own` and `elbo` (weak by
design, experiments/record.md): concat for every run; with a trunk also concat+trunk+gram,
concat+trunk, gram and style (and concat only up to `representations.CONCAT_LIMIT` numbers of z a
painting, 20 painters at the default latent: beyond, its covariance costs minutes, and with a
trunk it was never the one chosen). Representations that fit the same arrays
(`Representation.shared_fit`: concat+trunk's two regressions serve gram and concat+trunk+gram)
are fitted once (`fit_representations`, which `evaluate` uses too).
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from painterly_vae.inference.latents import LatentViews
from painterly_vae.inference.representations import concat_affordable

AUTO = "auto"
NO_TRUNK = ("concat",)
# in the order the rule prefers them among near-ties: the more of the run a candidate reads, the
# earlier; of those reading one source, the trunk's statistics before z alone (which trailed them
# on every collection measured, experiments/record.md)
WITH_TRUNK = ("concat+trunk+gram", "concat+trunk", "gram", "style", "concat")
RULE = ("of the candidates within one standard error of the best mean of top-1 and balanced accuracy on the "
        "validation paintings, the one that reads the most")

# a representation's name -> an unfitted ArtistClusters of it (fit, predict; .scorer's shared_fit, arrays, load_arrays)
ClustersOf = Callable[[str], object]


def candidates(has_trunk: bool, concat_size: int = 0) -> tuple[str, ...]:
    """The representations `auto` chooses among; `concat_size`: the numbers of z a painting has
    under every encoder (painters x latent), beyond `CONCAT_LIMIT` of which a trunk run does not
    offer concat (z alone trailed the trunk's statistics on every collection measured, and its one
    covariance grows with the square of those numbers)."""
    return tuple(name for name in (WITH_TRUNK if has_trunk else NO_TRUNK)
                 if name != "concat" or offers_concat(has_trunk, concat_size))


def offers_concat(has_trunk: bool, concat_size: int) -> bool:
    """Whether `concat` is fitted beside the others (`candidates`, and `evaluate`'s comparison):
    always without a trunk (it is all there is), with one while `concat_affordable`."""
    return not has_trunk or concat_affordable(concat_size)


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


def merit_weights(labels: np.ndarray) -> np.ndarray:
    """Each painting's share of the merit (the mean of top-1 and balanced accuracy), which is a
    weighted count of the paintings named right: 1/n for top-1, 1/(painters x its painter's
    paintings) for balanced accuracy, halved."""
    painters, index, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return 0.5 / len(labels) + 0.5 / (len(painters) * counts[index])


def standard_error_of_difference(right_a: np.ndarray, right_b: np.ndarray, labels: np.ndarray) -> float:
    """The standard error of merit(a) - merit(b) measured on the same paintings (`right_*`: 1
    where that candidate named the painting's painter): the paired differences vary within each
    painter, the paintings of a painter sampled independently (a stratified sample's variance)."""
    difference, weights = right_a.astype(float) - right_b.astype(float), merit_weights(labels)
    variance = 0.0
    for painter in np.unique(labels):
        mine = labels == painter
        if mine.sum() > 1:
            variance += mine.sum() * weights[mine][0] ** 2 * difference[mine].var(ddof=1)
    return float(np.sqrt(variance))


def choose_representation(clusters_of: ClustersOf, has_trunk: bool, train_views: LatentViews,
                          train_labels: np.ndarray, val_views: LatentViews,
                          val_labels: np.ndarray) -> tuple[object, dict[str, object]]:
    """The chosen representation's clusters, fitted, and the record of the choice (`select`)."""
    fitted = fit_representations(candidates(has_trunk, train_views.concat_size), clusters_of, train_views,
                                 train_labels)
    selection = select({name: clusters.predict(val_views) for name, clusters in fitted.items()}, val_labels)
    return fitted[selection["chosen"]], selection


def select(predicted: dict[str, np.ndarray], labels: np.ndarray) -> dict[str, object]:
    """The rule (`RULE`) over each candidate's painters predicted for the validation paintings
    (`predicted` in the order of preference), and its record: the chosen one, every candidate's
    top-1 and balanced accuracy, the best of them and each one's standard error against it.
    Without validation paintings nothing can be measured: the first, which reads the most."""
    if not len(labels):
        first = next(iter(predicted))
        return {"chosen": first, "paintings": 0, "candidates": {}, "best": first, "standard_errors": {}, "rule": RULE}
    measured = {name: accuracy(predicted[name], labels) for name in predicted}
    best = max(measured, key=lambda name: _merit(measured[name]))  # max keeps the first of equals
    errors = {name: standard_error_of_difference(predicted[best] == labels, predicted[name] == labels, labels)
              for name in predicted}
    chosen = next(name for name in predicted if _merit(measured[best]) - _merit(measured[name]) <= errors[name])
    return {"chosen": chosen, "paintings": int(len(labels)), "candidates": measured, "best": best,
            "standard_errors": errors, "rule": RULE}


def describe_selection(selection: dict[str, object] | None) -> str | None:
    """'chosen on 308 validation paintings (top-1/balanced): concat+trunk+gram 89.9%/90.0% (within
    one standard error, 0.9 points, of gram; it reads more of the run), gram 90.6%/89.5%, ...' (None when the config named
    the representation). Runs chosen before the rule stored no `best`; theirs was the best."""
    if not selection:
        return None
    if not selection["paintings"]:
        return f"no validation paintings to choose on: {selection['chosen']}, the candidate that reads the most"
    measured, chosen = selection["candidates"], selection["chosen"]
    best = selection.get("best", chosen)
    ranked = [chosen] + sorted((name for name in measured if name != chosen), key=lambda name: -_merit(measured[name]))
    parts = [f"{name} {measured[name]['top1']:.1%}/{measured[name]['balanced_accuracy']:.1%}" for name in ranked]
    if best != chosen:
        error = 100 * selection["standard_errors"][chosen]
        parts[0] += f" (within one standard error, {error:.1f} points, of {best}; it reads more of the run)"
    return f"chosen on {selection['paintings']} validation paintings (top-1/balanced): {', '.join(parts)}"


def _merit(scores: dict[str, float]) -> float:
    return (scores["top1"] + scores["balanced_accuracy"]) / 2
