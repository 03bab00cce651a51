"""The attribution's regressions: principal components by a full SVD against `ExactPCA`, and the
solver (L-BFGS against Newton's method).

    python bench/probe_fit.py [--quick] [--paintings 2471] [--features 7456] [--painters 5]
        [--solver-paintings 1507] [--solver-features 2384] [--solver-painters 20]

The attribution's fit reduces the network's Gram statistics of every training painting (2,471
paintings x 7,456 statistics for the five painters) to 256 principal components before its
regression, once for the run and once more for each painter left out to measure strangers. This
times that fit both ways on the same features (painters' means apart, a few strong directions of
shared variation, noise: the shape of real statistics), alternating the two, and checks that they
answer alike (the largest difference of any probability). Then the regression of z beside the
style statistics (twenty painters: 1,507 paintings x 2,384 numbers, no components) with each
solver, alternating: its time, the objective each reached and the largest difference of any
probability. The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from painterly_vae.inference.linear_probe import (  # noqa: E402
    SOLVER,
    fit_standardised_logistic_regression,
    regression_objective,
    standardised_logistic_regression,
)
from painterly_vae.inference.representations import GRAM_COMPONENTS, TRUNK_PROBE_STRENGTH  # noqa: E402


def statistics_like(paintings: int, features: int, painters: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, painters, paintings)
    shared = rng.normal(size=(paintings, 40)) @ rng.normal(size=(40, features))  # strong common directions
    means = rng.normal(scale=0.5, size=(painters, features))
    return shared + means[labels] + rng.normal(size=(paintings, features)), labels


def full_svd_fit(features: np.ndarray, labels: np.ndarray):
    """The same pipeline with scikit-learn's exact decomposition (a full SVD) in ExactPCA's place."""
    pipeline = standardised_logistic_regression(TRUNK_PROBE_STRENGTH, components=GRAM_COMPONENTS)
    pipeline.steps[1] = ("pca", PCA(GRAM_COMPONENTS, svd_solver="full"))
    return pipeline.fit(features, labels)


def solver_fit(solver: str, features: np.ndarray, labels: np.ndarray):
    pipeline = standardised_logistic_regression(TRUNK_PROBE_STRENGTH)
    pipeline[-1].set_params(solver=solver)
    return pipeline.fit(features, labels)


def compare_solvers(paintings: int, features_count: int, painters: int, repeat: int) -> dict[str, float]:
    features, labels = statistics_like(paintings, features_count, painters, seed=1)
    times: dict[str, list[float]] = {"lbfgs": [], SOLVER: []}
    fitted = {}
    for _ in range(repeat):
        for solver in times:
            started = time.perf_counter()
            fitted[solver] = solver_fit(solver, features, labels)
            times[solver].append(time.perf_counter() - started)
    lbfgs, newton = statistics.median(times["lbfgs"]), statistics.median(times[SOLVER])
    difference = float(np.abs(fitted["lbfgs"].predict_proba(features) - fitted[SOLVER].predict_proba(features)).max())
    objectives = {solver: regression_objective(fitted[solver], features, labels) for solver in times}
    print(f"{paintings} paintings x {features_count} features, {painters} painters, no components, median of {repeat}:")
    print(f"  L-BFGS     {lbfgs:6.2f} s   {fitted['lbfgs'][-1].n_iter_[0]:4d} iterations, objective {objectives['lbfgs']:.6f}")
    print(f"  {SOLVER:9s}  {newton:6.2f} s   {fitted[SOLVER][-1].n_iter_[0]:4d} iterations, objective {objectives[SOLVER]:.6f}"
          f"   {lbfgs / newton:.1f}x faster; largest probability difference {difference:.2e}")
    return {"lbfgs_s": lbfgs, "newton_s": newton, "solver_ratio": lbfgs / newton,
            "solver_max_probability_difference": difference, "lbfgs_objective": objectives["lbfgs"],
            "newton_objective": objectives[SOLVER]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,200 paintings x 3,000 features, 2 repetitions")
    parser.add_argument("--paintings", type=int, default=2471)
    parser.add_argument("--features", type=int, default=7456)
    parser.add_argument("--painters", type=int, default=5)
    parser.add_argument("--solver-paintings", type=int, default=1507)
    parser.add_argument("--solver-features", type=int, default=2384)
    parser.add_argument("--solver-painters", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        args.paintings, args.features, args.repeat = 1200, 3000, 2
        args.solver_paintings, args.solver_features = 600, 800
    features, labels = statistics_like(args.paintings, args.features, args.painters)
    times: dict[str, list[float]] = {"full SVD": [], "ExactPCA": []}
    fitted = {}
    for _ in range(args.repeat):  # alternating, so both meet the same machine
        for name, fit in (("full SVD", full_svd_fit), ("ExactPCA", lambda x, y: fit_standardised_logistic_regression(
                x, y, TRUNK_PROBE_STRENGTH, components=GRAM_COMPONENTS))):
            started = time.perf_counter()
            fitted[name] = fit(features, labels)
            times[name].append(time.perf_counter() - started)
    difference = float(np.abs(fitted["full SVD"].predict_proba(features) - fitted["ExactPCA"].predict_proba(features)).max())
    full, exact = statistics.median(times["full SVD"]), statistics.median(times["ExactPCA"])
    print(f"{args.paintings} paintings x {args.features} features, {args.painters} painters, {GRAM_COMPONENTS} components, "
          f"median of {args.repeat}:")
    print(f"  full SVD  {full:6.2f} s")
    print(f"  ExactPCA  {exact:6.2f} s   {full / exact:.1f}x faster; largest probability difference {difference:.2e}")
    solvers = compare_solvers(args.solver_paintings, args.solver_features, args.solver_painters, args.repeat)
    print(json.dumps({"full_svd_s": full, "exact_pca_s": exact, "ratio": full / exact, "max_probability_difference": difference,
                      **solvers}))


if __name__ == "__main__":
    main()
