"""The run's reconstructions beside another run's on the same paintings, paired.

The report this project follows claims that per-artist encoders reconstruct better than one
shared encoder ("no mode collapse"). `evaluate --baseline TWIN` answers it by measurement: the
twin's decoder reconstructs the same paintings, both at the same size, and every per-painting
measure (is the painting retrieved, does the network's style probe still name its painter,
PSNR, SSIM, sharpness, colour) is compared by a paired bootstrap over the paintings: the
difference, its 95% interval, and "ahead", "behind" or "level". The style probe's share is
also compared balanced over painters (`style_balanced`: the same bootstrap, each resample scored
as the mean of each painter's share, as the attribution's balanced accuracy is). The Fréchet
distance is a measure of the whole set, so it is given for both without an interval.

The same comparison is made painter by painter (`per_artist`): each per-artist encoder learns from
its painter's paintings alone and takes its steps in proportion to them, so where the twin leads,
whether it leads for the painters with few paintings or for all of them is the first clue to why.
"""

from __future__ import annotations

from typing import Any

from sklearn.metrics import balanced_accuracy_score

from painterly_vae.evaluation.evaluation_set import EvaluationSet
from painterly_vae.evaluation.paired_comparison import paired_difference, paired_mean_difference, verdict_of
from painterly_vae.evaluation.reconstructions import Reconstructions
from painterly_vae.inference.trained_run import TrainedRun

HIGHER_IS_BETTER = {"retrieved": True, "style_kept": True, "psnr": True, "ssim": True, "sharpness": True,
                    "channel_mean_error": False, "colour_histogram_distance": False}


def compare_reconstructions(ours: Reconstructions, other: TrainedRun, evaluation: EvaluationSet,
                            probe, seed: int) -> dict[str, Any] | None:
    """Every measure of `HIGHER_IS_BETTER`, ours against the other run's on the same paintings
    (`paired_mean_difference`), and both Fréchet distances; None when the other run paints
    another size (its pixels are not comparable) and the reason is then unmeasurable."""
    if other.config.model.image_size != ours.run.config.model.image_size:
        return None
    theirs = Reconstructions(other, evaluation, observer=ours.run.model)  # read by the same network as ours
    our_measures, their_measures = ours.per_painting(probe), theirs.per_painting(probe)
    compared: dict[str, Any] = {"run": str(other.run_dir), "encoders": other.config.model.encoders,
                                "measures": _paired(our_measures, their_measures, slice(None), seed)}
    labels = ours.labels  # both runs measure the same paintings in the same order, painter by painter
    compared["per_artist"] = {artist: _paired(our_measures, their_measures, labels == index, seed)
                              for index, artist in enumerate(ours.run.artists) if artist in ours.artists}
    if "style_predicted" in our_measures and "style_predicted" in their_measures:
        compared["style_balanced"] = _balanced(labels, our_measures["style_predicted"], their_measures["style_predicted"],
                                               len(ours.run.artists), seed)
    if probe is not None:
        compared["frechet_distance"] = {"ours": ours.frechet(), "theirs": theirs.frechet()}
    return compared


def _paired(our_measures: dict, their_measures: dict, paintings, seed: int) -> dict[str, dict]:
    """Every measure of `HIGHER_IS_BETTER` both runs have, ours against theirs on the selected
    paintings (an index or mask into the per-painting measures)."""
    return {name: paired_mean_difference(our_measures[name][paintings], their_measures[name][paintings], higher, seed)
            for name, higher in HIGHER_IS_BETTER.items() if name in our_measures and name in their_measures}


def _balanced(labels, our_predicted, their_predicted, classes: int, seed: int) -> dict[str, Any]:
    """The style probe's balanced accuracy on our reconstructions and on theirs, the difference with
    its paired interval and the verdict read from that interval."""
    difference = paired_difference(labels, our_predicted, their_predicted, classes, seed)["balanced_accuracy"]
    low, high = difference["interval"]
    return {"ours": float(balanced_accuracy_score(labels, our_predicted)),
            "theirs": float(balanced_accuracy_score(labels, their_predicted)),
            "difference": difference["difference"], "interval": [low, high],
            "verdict": verdict_of(low, high)}
