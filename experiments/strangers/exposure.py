"""Does a folder of other painters' paintings teach the familiarity what a stranger looks like?

    python experiments/strangers/exposure.py RUN --known PREPARED --strangers PREPARED \
        --others PREPARED [--others-within] [--cache FILE]

Outlier exposure: the Gram-statistics regression that gives a run its familiarity is fitted with
one more class, "someone else", made of the paintings in --others; the familiarity is then how
unlike "someone else" and how like the best known painter a painting is. Measured against the
run's own familiarity (the same regression without the extra class), on paintings no fit saw:

- strangers: fitted on the training paintings of --known's painters (and --others); known =
  their test paintings, strangers = every painting of --strangers' painters (never in --others);
- --others-within: the strangers' painters in turn: one of them is the exposure, the others
  the strangers (exposure from the same circle as the strangers, as a user's folder would be);
- left out: each painter of --known left out in turn (the others fitted, the left-out one the
  stranger), with --others as exposure: what a run can measure on its own data.

Only the network's Gram statistics are read (frozen: the same whatever the run trained), so
every collection is encoded once through RUN's trunk and cached.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from data_tools.processed import ProcessedData  # noqa: E402

SPLITS = ("train", "val", "test")


def encode_collections(collections: dict[str, Path], cache: Path,
                       features_of: Callable[[np.ndarray], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """For each collection (name -> prepared folder): every painting's features (`features_of`: a
    split's images -> feature name -> rows), painter index and split, cached in `cache`."""
    if cache.exists():
        return dict(np.load(cache))
    arrays: dict[str, list[np.ndarray]] = {}
    for name, root in collections.items():
        data = ProcessedData.open(root)
        for index, artist in enumerate(data.artists):
            for split_index, split in enumerate(SPLITS):
                images = data.array(artist, split)
                if not len(images):
                    continue
                for feature, rows in features_of(images).items():
                    arrays.setdefault(f"{name}_{feature}", []).append(rows.astype(np.float32))
                arrays.setdefault(f"{name}_label", []).append(np.full(len(images), index))
                arrays.setdefault(f"{name}_split", []).append(np.full(len(images), split_index))
        arrays[f"{name}_artists"] = [np.array(data.artists)]
    result = {key: np.concatenate(value) for key, value in arrays.items()}
    np.savez(cache, **result)
    return result


def encode(run_dir: Path, collections: dict[str, Path], cache: Path) -> dict[str, np.ndarray]:
    """gram, painter index and split of every painting of each collection (cached)."""
    if cache.exists():
        return dict(np.load(cache))
    import torch

    from painterly_vae.inference.latents import encode_views
    from painterly_vae.inference.trained_run import open_run

    run = open_run(run_dir, torch.device("cpu"))
    return encode_collections(collections, cache, lambda images: {
        "gram": encode_views(run.model, images, run.inference, reconstruct=False).gram})


def regression(features: np.ndarray, labels: np.ndarray):
    """The run's Gram regression: standardise, 256 exact principal components, balanced logistic
    regression at the run's strength."""
    from painterly_vae.inference.linear_probe import fit_standardised_logistic_regression
    from painterly_vae.inference.representations import GRAM_COMPONENTS, TRUNK_PROBE_STRENGTH

    return fit_standardised_logistic_regression(features, labels, TRUNK_PROBE_STRENGTH, components=GRAM_COMPONENTS)


def familiarities(known: np.ndarray, known_labels: np.ndarray, others: np.ndarray | None,
                  queries: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Each candidate's familiarity of every query set (higher = more familiar)."""
    from scipy.special import logsumexp

    out: dict[str, list[np.ndarray]] = {}
    plain = regression(known, known_labels)
    space = plain[:-1]
    train_space = space.transform(known)
    train_unit = train_space / np.linalg.norm(train_space, axis=1, keepdims=True)
    for q in queries:
        out.setdefault("score (the run's)", []).append(plain.predict_proba(q).max(1))
        mapped = space.transform(q)
        out.setdefault("nearest (the run's)", []).append((mapped / np.linalg.norm(mapped, axis=1, keepdims=True)
                                                          @ train_unit.T).max(1))
    if others is not None:
        extra = int(known_labels.max()) + 1
        exposed = regression(np.r_[known, others], np.r_[known_labels, np.full(len(others), extra)])
        space_e = exposed[:-1]
        known_unit = space_e.transform(known)
        known_unit /= np.linalg.norm(known_unit, axis=1, keepdims=True)
        other_unit = space_e.transform(others)
        other_unit /= np.linalg.norm(other_unit, axis=1, keepdims=True)
        for q in queries:
            logp = exposed.predict_log_proba(q)
            out.setdefault("exposed: best known painter", []).append(logp[:, :extra].max(1))
            out.setdefault("exposed: not someone else", []).append(logsumexp(logp[:, :extra], axis=1) - logp[:, extra])
            mapped = space_e.transform(q)
            mapped /= np.linalg.norm(mapped, axis=1, keepdims=True)
            near_known, near_other = (mapped @ known_unit.T).max(1), (mapped @ other_unit.T).max(1)
            out.setdefault("exposed: nearest known - nearest other", []).append(near_known - near_other)
    return out


def with_mixes(scores: dict[str, list[np.ndarray]]) -> dict[str, list[np.ndarray]]:
    """Means of two standardised scores (on query set 0, the known validation paintings)."""
    def mean_of(names: list[str]) -> list[np.ndarray]:
        ref = [(scores[n][0].mean(), scores[n][0].std() + 1e-12) for n in names]
        return [np.mean([(scores[n][q] - m) / s for n, (m, s) in zip(names, ref)], 0) for q in range(len(scores[names[0]]))]

    mixed = dict(scores)
    mixed["score + nearest (the run's mix)"] = mean_of(["score (the run's)", "nearest (the run's)"])
    if "exposed: not someone else" in scores:
        mixed["exposed: not someone else + nearest"] = mean_of(["exposed: not someone else", "nearest (the run's)"])
        mixed["exposed: best known + nearest"] = mean_of(["exposed: best known painter", "nearest (the run's)"])
        mixed["exposed: not someone else + nearest difference"] = mean_of(
            ["exposed: not someone else", "exposed: nearest known - nearest other"])
    return mixed


def measure(val: np.ndarray, test: np.ndarray, test_labels: np.ndarray, strangers: np.ndarray
            ) -> tuple[float, float, float, float]:
    """AUROC (known test vs strangers), strangers flagged and known falsely rejected at the
    threshold letting 90% of the known validation paintings through, and the worst painter's
    false rejections."""
    from sklearn.metrics import roc_auc_score

    threshold = np.quantile(val, 0.10)
    auroc = roc_auc_score(np.r_[np.zeros(len(test)), np.ones(len(strangers))], -np.r_[test, strangers])
    worst = max(float(np.mean(test[test_labels == a] < threshold)) for a in np.unique(test_labels))
    return float(auroc), float(np.mean(strangers < threshold)), float(np.mean(test < threshold)), worst


def measured(features: np.ndarray, label: np.ndarray, val: np.ndarray, test: np.ndarray, fit_rows: np.ndarray,
             exposure: np.ndarray | None, stranger_rows: np.ndarray, keep: np.ndarray
             ) -> dict[str, tuple[float, float, float, float]]:
    """Every candidate fitted on the paintings `fit_rows` (their painters numbered anew), measured
    (`measure`) on the known validation and test paintings in `keep` against `stranger_rows`."""
    labels = label[fit_rows]
    remap = {a: i for i, a in enumerate(np.unique(labels))}
    scores = with_mixes(familiarities(features[fit_rows], np.vectorize(remap.get)(labels), exposure,
                                      [features[val & keep], features[test & keep], stranger_rows]))
    return {name: measure(s[0], s[1], label[test & keep], s[2]) for name, s in scores.items()}


def report(title: str, rows: dict[str, list[tuple[float, float, float, float]]]) -> None:
    print(f"\n{title}")
    print(f"  {'familiarity':48s} {'AUROC':>6s} {'flagged':>8s} {'false rej':>9s} {'worst painter':>13s}")
    for name, values in sorted(rows.items(), key=lambda item: -np.mean([v[0] for v in item[1]])):
        auroc, flagged, false, worst = np.mean(values, 0)
        print(f"  {name:48s} {auroc:6.3f} {flagged:8.1%} {false:9.1%} {worst:13.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--known", type=Path, required=True)
    parser.add_argument("--strangers", type=Path, required=True)
    parser.add_argument("--others", type=Path, required=True)
    parser.add_argument("--others-within", action="store_true")
    parser.add_argument("--left-out", action="store_true", help="also leave each known painter out in turn")
    parser.add_argument("--others-share", type=float, default=1.0, help="use this share of --others' paintings")
    parser.add_argument("--cache", type=Path, default=Path("exposure-views.npz"))
    args = parser.parse_args()
    v = encode(args.run, {"known": args.known, "strangers": args.strangers, "others": args.others}, args.cache)
    gram, label, split = v["known_gram"].astype(np.float64), v["known_label"], v["known_split"]
    train, val, test = (split == 0), (split == 1), (split == 2)
    others = v["others_gram"].astype(np.float64)
    if args.others_share < 1:
        keep = np.random.default_rng(0).random(len(others)) < args.others_share
        others = others[keep]
    strangers, stranger_label = v["strangers_gram"].astype(np.float64), v["strangers_label"]

    def run(fit_rows: np.ndarray, exposure: np.ndarray | None, stranger_rows: np.ndarray, keep: np.ndarray
            ) -> dict[str, tuple[float, float, float, float]]:
        return measured(gram, label, val, test, fit_rows, exposure, stranger_rows, keep)

    everyone = np.ones(len(gram), bool)
    rows: dict[str, list] = {}
    for name, value in run(train, others, strangers, everyone).items():
        rows.setdefault(name, []).append(value)
    report(f"strangers ({', '.join(v['strangers_artists'])}), exposure: {len(others)} paintings of "
           f"{', '.join(v['others_artists'])}", rows)
    if args.others_within:
        rows = {}
        for held in np.unique(stranger_label):
            for name, value in run(train, strangers[stranger_label == held], strangers[stranger_label != held],
                                   everyone).items():
                rows.setdefault(name, []).append(value)
        report("strangers, each stranger painter in turn as the exposure, the others measured (mean)", rows)
    if args.left_out:
        rows = {}
        for held in np.unique(label):
            keep = label != held
            for name, value in run(train & keep, others, gram[label == held], keep).items():
                rows.setdefault(name, []).append(value)
        report("left out: each known painter in turn the stranger, --others the exposure (mean)", rows)


if __name__ == "__main__":
    main()
