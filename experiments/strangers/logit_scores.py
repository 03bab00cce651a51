"""Familiarities from the Gram regression's logits (max logit, energy) beside its probabilities.

    python experiments/strangers/logit_scores.py --cache layers-views.npz

Reads the Gram statistics that experiments/strangers/layers.py cached (run it first, with
--others), on the product's blocks 6, 10 and 13. Each candidate is measured as exposure.py
measures: strangers = every painting of the --strangers painters against the known painters'
test paintings; left out = each known painter in turn (mean); threshold at 90% of the known
validation paintings. "+ nearest": the mean of the standardised score and the cosine similarity to
the nearest training painting in the regression's space (the product's mix).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.special import logsumexp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from exposure import measure, regression  # noqa: E402

BLOCKS = ("block6", "block10", "block13")


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def candidates(known: np.ndarray, labels: np.ndarray, exposure: np.ndarray, queries: list[np.ndarray]
               ) -> dict[str, list[np.ndarray]]:
    """Each candidate familiarity of each query set (higher = more familiar)."""
    plain = regression(known, labels)
    space = plain[:-1]
    train = unit(space.transform(known))
    out: dict[str, list[np.ndarray]] = {}
    for q in queries:
        logits = plain.decision_function(q)
        similarity = unit(space.transform(q)) @ train.T
        out.setdefault("softmax", []).append(plain.predict_proba(q).max(1))
        out.setdefault("max logit", []).append(logits.max(1))
        out.setdefault("energy", []).append(logsumexp(logits, axis=1))
        out.setdefault("nearest", []).append(similarity.max(1))
        out.setdefault("5th nearest", []).append(np.sort(similarity, axis=1)[:, -5])
    extra = int(labels.max()) + 1
    exposed = regression(np.r_[known, exposure], np.r_[labels, np.full(len(exposure), extra)])
    for q in queries:
        logits = exposed.decision_function(q)
        out.setdefault("exposed: best known", []).append(exposed.predict_log_proba(q)[:, :extra].max(1))
        out.setdefault("exposed: max logit", []).append(logits[:, :extra].max(1))
    mixed = dict(out)
    for name in out:
        if name != "nearest":
            reference = [(out[n][0].mean(), out[n][0].std() + 1e-12) for n in (name, "nearest")]
            mixed[f"{name} + nearest"] = [np.mean([(out[n][i] - m) / s for n, (m, s) in zip((name, "nearest"), reference)], 0)
                                          for i in range(len(queries))]
    return mixed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("layers-views.npz"))
    args = parser.parse_args()
    v = dict(np.load(args.cache))

    def stack(prefix: str) -> np.ndarray:
        return np.concatenate([v[f"{prefix}_{block}"] for block in BLOCKS], 1).astype(np.float64)

    known, strangers, others = stack("known"), stack("strangers"), stack("others")
    label, split = v["known_label"], v["known_split"]
    train, val, test = split == 0, split == 1, split == 2

    def run(fit: np.ndarray, keep: np.ndarray, stranger_rows: np.ndarray) -> dict[str, tuple]:
        labels = label[fit]
        relabel = np.vectorize({a: i for i, a in enumerate(np.unique(labels))}.get)(labels)
        scores = candidates(known[fit], relabel, others, [known[val & keep], known[test & keep], stranger_rows])
        return {name: measure(s[0], s[1], label[test & keep], s[2]) for name, s in scores.items()}

    everyone = np.ones(len(known), bool)
    against_strangers = run(train, everyone, strangers)
    left_out: dict[str, list] = {}
    for held in np.unique(label):
        for name, value in run(train & (label != held), label != held, known[label == held]).items():
            left_out.setdefault(name, []).append(value)
    print(f"{'familiarity':32s} {'strangers: AUROC':>16s} {'flagged':>8s} {'false rej':>9s}   {'left out: AUROC':>15s} {'flagged':>8s}")
    for name in sorted(against_strangers, key=lambda n: -against_strangers[n][0]):
        auroc, flagged, false, _ = against_strangers[name]
        out_auroc, out_flagged, _, _ = np.mean(left_out[name], 0)
        print(f"{name:32s} {auroc:16.3f} {flagged:8.1%} {false:9.1%}   {out_auroc:15.3f} {out_flagged:8.1%}")


if __name__ == "__main__":
    main()
