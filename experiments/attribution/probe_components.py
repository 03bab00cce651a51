"""Does z beside the network's statistics name more painters when its regression reads fewer numbers?

    python experiments/attribution/probe_components.py RUN --data PREPARED [--components 1024 512 256 128]

concat+trunk's regression reads every encoder's z and the trunk's style statistics side by side
(2,384 numbers a painting at 20 painters), and beyond `representations.CONCAT_LIMIT` 512 principal
components of them. On collection-b the run's validation paintings chose the Gram statistics alone
over z beside them (concat+trunk+gram). This refits concat+trunk's regression on the run's
training paintings with all the numbers and with each count of principal components, and prints
top-1 / balanced accuracy on the validation and test paintings of concat+trunk alone and of
concat+trunk+gram (its probabilities multiplied by the Gram regression's, as the run scores it),
beside the Gram regression alone, with each fit's seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from painterly_vae.inference.representations import (  # noqa: E402
    GRAM_COMPONENTS, _with_trunk, fit_probe, probe_log_proba,
)
from painterly_vae.inference.run_data import open_run_data  # noqa: E402
from painterly_vae.inference.trained_run import open_run, split_views  # noqa: E402
from painterly_vae.runtime.batched import InferenceSettings  # noqa: E402


def accuracy(log_proba: np.ndarray, labels: np.ndarray) -> str:
    named = log_proba.argmax(1)
    return f"{100 * np.mean(named == labels):.1f} / {100 * balanced_accuracy_score(labels, named):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--components", type=int, nargs="+", default=[1024, 512, 256, 128])
    args = parser.parse_args()
    run = open_run(args.run, torch.device("cpu"))
    data, settings = open_run_data(run, args.data), InferenceSettings.of(run.config, run.device)
    views = {split: split_views(run.model, data, split, settings, reconstruct=False) for split in ("train", "val", "test")}
    train, labels = views["train"]
    painters = len(run.artists)
    gram = fit_probe(train.gram, labels, painters, GRAM_COMPONENTS)
    gram_scores = {split: probe_log_proba(gram, views[split][0].gram.astype(np.float64)) for split in ("val", "test")}
    print(f"{len(labels)} training paintings, {_with_trunk(train).shape[1]} numbers of z and style statistics each")
    print("| reads | fit (s) | concat+trunk: validation | test | concat+trunk+gram: validation | test |")
    print("|---|---|---|---|---|---|")
    print(f"| Gram statistics alone | | | | {accuracy(gram_scores['val'], views['val'][1])} "
          f"| {accuracy(gram_scores['test'], views['test'][1])} |")
    for components in [None, *args.components]:
        start = time.perf_counter()
        probe = fit_probe(_with_trunk(train, np.float32), labels, painters, components)
        seconds = time.perf_counter() - start
        alone, both = [], []
        for split in ("val", "test"):
            paintings, split_labels = views[split]
            scores = probe_log_proba(probe, _with_trunk(paintings))
            alone.append(accuracy(scores, split_labels))
            both.append(accuracy(scores + gram_scores[split], split_labels))
        reads = "every number" if components is None else f"{components} principal components"
        print(f"| {reads} | {seconds:.1f} | {alone[0]} | {alone[1]} | {both[0]} | {both[1]} |")


if __name__ == "__main__":
    main()
