"""Which familiarity tells a stranger's painting from a known painter's? Candidate scores side by side.

    python experiments/strangers/familiarity_scores.py RUN --data PREPARED --strangers PREPARED [--cache FILE]

Encodes every painting of the run's painters (train, val, test of --data) and every painting of
the painters in --strangers that the run does not know, once (cached in --cache as .npz), then
scores each candidate familiarity two ways, both on paintings no fit has seen:

- left-out painters: each of the run's painters left out in turn, the score fitted on the others'
  training paintings; known = the others' validation paintings, strangers = the left-out
  painter's validation and test paintings (what a run can measure on its own data: the choice);
- strangers: fitted on all the run's training paintings; known = the test paintings, strangers =
  every painting of --strangers' other painters (the measurement; never used to choose).

For each: AUROC, and the share of strangers flagged at the threshold that lets 90% of the known
validation paintings through, with the known test paintings falsely rejected at it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from data_tools.processed import ProcessedData  # noqa: E402


def encode(run_dir: Path, data: Path, strangers: Path, cache: Path) -> dict[str, np.ndarray]:
    if cache.exists():
        return dict(np.load(cache))
    import torch

    from painterly_vae.inference.latents import encode_views
    from painterly_vae.inference.trained_run import open_run

    run = open_run(run_dir, torch.device("cpu"))
    known = ProcessedData.open(data)
    others = ProcessedData.open(strangers)
    arrays: dict[str, list[np.ndarray]] = {}

    def add(prefix: str, images: np.ndarray, label: int) -> None:
        views = encode_views(run.model, images, run.inference, reconstruct=False)
        for name, value in (("z", views.concatenated_mu()), ("style", views.style), ("gram", views.gram),
                            ("label", np.full(len(views), label))):
            arrays.setdefault(f"{prefix}_{name}", []).append(np.asarray(value, np.float32))

    for index, artist in enumerate(run.artists):
        for split in ("train", "val", "test"):
            add(split, known.array(artist, split), index)
    for index, artist in enumerate(a for a in others.artists if a not in run.artists):
        for split in ("train", "val", "test"):
            add("stranger", others.array(artist, split), index)
    result = {key: np.concatenate(value) for key, value in arrays.items()}
    np.savez(cache, **result)
    return result


def normalised(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class Features:
    """A block of features standardised and reduced on the fitting paintings, rows then unit length."""

    def __init__(self, train: np.ndarray, components: int = 128) -> None:
        from sklearn.decomposition import PCA
        self.mean, self.std = train.mean(0), train.std(0) + 1e-6
        standard = (train - self.mean) / self.std
        self.pca = PCA(min(components, *standard.shape), svd_solver="randomized", random_state=0).fit(standard)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return normalised(self.pca.transform((x - self.mean) / self.std))


def mahalanobis_scores(train: np.ndarray, labels: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(familiarity by class-conditional Mahalanobis with a shared covariance, the same relative to a
    background Gaussian of every training painting): higher = more familiar."""
    from sklearn.covariance import LedoitWolf
    classes = np.unique(labels)
    means = np.stack([train[labels == c].mean(0) for c in classes])
    centred = np.concatenate([train[labels == c] - means[i] for i, c in enumerate(classes)])
    precision = LedoitWolf().fit(centred).precision_
    background = LedoitWolf().fit(train)
    distance = np.stack([np.einsum("ij,jk,ik->i", query - m, precision, query - m) for m in means], 1)
    back = np.einsum("ij,jk,ik->i", query - background.location_, background.precision_, query - background.location_)
    return -distance.min(1), -(distance - back[:, None]).min(1)


def knn_similarity(train: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    similarity = query @ train.T
    return -np.sort(-similarity, axis=1)[:, k - 1]


def candidate_scores(fit: dict[str, np.ndarray], fit_labels: np.ndarray, queries: list[dict[str, np.ndarray]]
                     ) -> dict[str, list[np.ndarray]]:
    """Every candidate's familiarity of each query set, fitted on `fit` (blocks z, style, gram)."""
    blocks = {name: Features(fit[name]) for name in ("z", "style", "gram")}
    space = {name: blocks[name](fit[name]) for name in blocks}
    combos = {"z": ["z"], "style": ["style"], "gram": ["gram"], "style+gram": ["style", "gram"],
              "z+style+gram": ["z", "style", "gram"]}
    out: dict[str, list[np.ndarray]] = {}
    for combo, names in combos.items():
        train = normalised(np.concatenate([space[n] for n in names], 1))
        mapped = [normalised(np.concatenate([blocks[n](q[n]) for n in names], 1)) for q in queries]
        for q in mapped:
            maha, relative = mahalanobis_scores(train, fit_labels, q)
            out.setdefault(f"mahalanobis {combo}", []).append(maha)
            out.setdefault(f"relative mahalanobis {combo}", []).append(relative)
            for k in (1, 10):
                out.setdefault(f"knn{k} {combo}", []).append(knn_similarity(train, q, k))
    return out


def standardised_mean(scores: list[list[np.ndarray]], reference: int) -> list[np.ndarray]:
    """The mean of several scores, each standardised on query set `reference` (the known validation)."""
    result = []
    for q in range(len(scores[0])):
        parts = [(s[q] - s[reference].mean()) / (s[reference].std() + 1e-12) for s in scores]
        result.append(np.mean(parts, 0))
    return result


def evaluate(known_val: np.ndarray, known_test: np.ndarray, strangers: np.ndarray) -> tuple[float, float, float]:
    from sklearn.metrics import roc_auc_score
    threshold = np.quantile(known_val, 0.10)
    auroc = roc_auc_score(np.r_[np.zeros(len(known_test)), np.ones(len(strangers))], -np.r_[known_test, strangers])
    return float(auroc), float(np.mean(strangers < threshold)), float(np.mean(known_test < threshold))


def with_fusions(scores: dict[str, list[np.ndarray]]) -> dict[str, list[np.ndarray]]:
    fused = dict(scores)
    for name in ("z+style+gram", "style+gram"):
        fused[f"fusion rel-maha + knn10 {name}"] = standardised_mean(
            [scores[f"relative mahalanobis {name}"], scores[f"knn10 {name}"]], 0)
    return fused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--strangers", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=Path("familiarity-views.npz"))
    args = parser.parse_args()
    v = encode(args.run, args.data, args.strangers, args.cache)
    part = lambda split, rows=slice(None): {n: v[f"{split}_{n}"][rows] for n in ("z", "style", "gram")}  # noqa: E731

    # left-out painters: the choice
    painters = np.unique(v["train_label"])
    lopo: dict[str, list[tuple[float, float, float]]] = {}
    for held in painters:
        keep_train, keep_val = v["train_label"] != held, v["val_label"] != held
        out_val, out_test = v["val_label"] == held, v["test_label"] == held
        fit = part("train", keep_train)
        queries = [part("val", keep_val), part("test", v["test_label"] != held),
                   {n: np.r_[v[f"val_{n}"][out_val], v[f"test_{n}"][out_test]] for n in ("z", "style", "gram")}]
        scores = with_fusions(candidate_scores(fit, v["train_label"][keep_train], queries))
        for name, (val, test, strange) in scores.items():
            lopo.setdefault(name, []).append(evaluate(val, test, strange))
    # strangers never seen: the measurement
    queries = [part("val"), part("test"), part("stranger")]
    scores = with_fusions(candidate_scores(part("train"), v["train_label"], queries))
    print(f"{'familiarity':44s} {'left-out AUROC':>14s} {'flagged':>8s} {'false rej':>9s} | "
          f"{'strangers AUROC':>15s} {'flagged':>8s} {'false rej':>9s}  per stranger AUROC")
    from sklearn.metrics import roc_auc_score
    for name in sorted(scores, key=lambda n: -np.mean([r[0] for r in lopo[n]])):
        left = np.mean(lopo[name], 0)
        auroc, flagged, false = evaluate(*scores[name])
        val, test, strange = scores[name]
        per = [roc_auc_score(np.r_[np.zeros(len(test)), np.ones(int(np.sum(v["stranger_label"] == s)))],
                             -np.r_[test, strange[v["stranger_label"] == s]]) for s in np.unique(v["stranger_label"])]
        print(f"{name:44s} {left[0]:14.3f} {left[1]:8.1%} {left[2]:9.1%} | {auroc:15.3f} {flagged:8.1%} {false:9.1%}  "
              + " ".join(f"{p:.2f}" for p in per))


if __name__ == "__main__":
    main()
