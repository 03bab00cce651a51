"""Runs of the same painters trained on different schedules, compared painter group by painter group.

    python experiments/schedule/compare_reports.py RUN [RUN ...] --data PREPARED [--small 200]

`--ratio auto` gives each painter's encoder steps in proportion to its training paintings, so in a
catalogue that differs 20 to 1 the smallest painters' encoders train on a few dozen steps of their
own after the shared start; `--ratio equal` gives every encoder as many. This reads each run's
`report.json` (`painterly-vae evaluate`) and prints each run's top-1 / balanced accuracy (its
chosen attribution, and z's own: `concat`, which only the encoders feed, or beyond 2,000 numbers
of z, where concat is not fitted, `concat+trunk`: z beside the network's style statistics), then for the painters
with fewer training paintings than `--small` and for the others, averaged over the group's
painters: recall under the run's attribution, the reconstructions' L1, SSIM and variety kept
(each painting through its painter's encoder, test paintings) and the Fréchet distance of samples
drawn for the painter to its test paintings.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from data_tools.processed import ProcessedData  # noqa: E402


def group_mean(per_painter: dict[str, float], painters: list[str]) -> float:
    return float(np.mean([per_painter[p] for p in painters]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--data", type=Path, required=True, help="the runs' prepared data (for the training counts)")
    parser.add_argument("--small", type=int, default=200, help="painters with fewer training paintings form the small group")
    args = parser.parse_args()
    data = ProcessedData.open(args.data)
    reports = {run: json.loads((run / "report.json").read_text()) for run in args.runs}
    artists = next(iter(reports.values()))["artists"]
    counts = {a: data.count(a, "train") for a in artists}
    small = [a for a in artists if counts[a] < args.small]
    large = [a for a in artists if counts[a] >= args.small]
    groups = {f"{len(small)} painters with {min(counts[a] for a in small)}-{max(counts[a] for a in small)} training paintings": small,
              f"{len(large)} painters with {min(counts[a] for a in large)}-{max(counts[a] for a in large)}": large}
    print("| run | top-1 / balanced (chosen) | z's own attribution | group | recall | L1 | SSIM | variety kept | samples' Fréchet |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run, report in reports.items():
        attribution, representations = report["attribution"], report["representations"]
        z_reads = "concat" if "concat" in representations else "concat+trunk"  # concat: not fitted beyond 2,000 numbers
        z_alone = representations[z_reads]
        recall = {a: v["recall"] for a, v in attribution["per_artist"].items()}
        reconstruction = report["reconstruction"]
        samples = {a: v["samples"] for a, v in report["fidelity"]["samples_frechet"].items()}
        for index, (group, painters) in enumerate(groups.items()):
            head = (f"| {run.name} | {100 * attribution['top1']:.1f} / {100 * attribution['balanced_accuracy']:.1f} "
                    f"({report['representation']}) | {100 * z_alone['top1']:.1f} / {100 * z_alone['balanced_accuracy']:.1f} ({z_reads}) "
                    if index == 0 else "| | | ")
            print(head + f"| {group} | {group_mean(recall, painters):.3f} "
                  f"| {group_mean({a: reconstruction[a]['l1'] for a in painters}, painters):.4f} "
                  f"| {group_mean({a: reconstruction[a]['ssim'] for a in painters}, painters):.3f} "
                  f"| {group_mean({a: reconstruction[a]['variety_kept'] for a in painters}, painters):.2f} "
                  f"| {group_mean(samples, painters):.0f} |")


if __name__ == "__main__":
    main()
