"""Every evaluated run on one plane: SSIM against sharpness, with issue #21's target corner.

    python docs/decoder/frontier.py RUN [RUN ...] --reference RUN --out PNG

Reads each run's report.json (`painterly-vae evaluate` writes it; the mean over painters of its
test reconstructions, as the summary's "reconstruction (own encoder)" line prints them) and puts
the run at (sharpness of the input's, SSIM). The target asks for sharpness >= 0.8 with SSIM no
worse than today's decoder at the same size: the dashed lines are 0.8 and the `--reference`
run's SSIM, so the target is the upper-right corner they cut. Only runs whose decoder paints the
reference's size are drawn; a run of another size, or not evaluated (no report.json), is named
and left out rather than guessed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from painterly_vae.evaluation.report import EvaluationReport  # noqa: E402

SHARPNESS_TARGET = 0.8


def reconstruction_means(run: Path) -> tuple[int, float, float] | None:
    """(decoder size, sharpness, SSIM) of an evaluated run, or None when it has no report."""
    report_file = run / "report.json"
    if not report_file.is_file():
        return None
    report = EvaluationReport.from_json(json.loads(report_file.read_text("utf-8")))
    means = report.reconstruction["mean"]
    return report.image_size, means.sharpness, means.ssim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories (evaluated)")
    parser.add_argument("--reference", type=Path, required=True,
                        help="today's decoder: its SSIM is the level the target asks not to fall below")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    reference = reconstruction_means(args.reference)
    if reference is None:
        sys.exit(f"error: {args.reference} has no report.json (run `painterly-vae evaluate` on it first)")
    size = reference[0]
    measured = {run.name: reconstruction_means(run) for run in args.runs}
    points = {name: point for name, point in measured.items() if point is not None and point[0] == size}
    for why, names in (("not evaluated", [n for n, p in measured.items() if p is None]),
                       (f"not {size} px", [n for n, p in measured.items() if p is not None and p[0] != size])):
        if names:
            print(f"left out ({why}): {', '.join(names)}", file=sys.stderr)

    figure, axes = plt.subplots(figsize=(8, 6))
    axes.scatter([p[1] for p in points.values()], [p[2] for p in points.values()], s=40)
    for name, (_, sharpness, ssim_value) in points.items():
        axes.annotate(name, (sharpness, ssim_value), fontsize=7, xytext=(4, 3), textcoords="offset points")
    right = max(1.0, max(p[1] for p in points.values()) + 0.05)
    top = max(reference[2], max(p[2] for p in points.values())) + 0.03
    axes.set_xlim(right=right)
    axes.set_ylim(top=top)
    axes.axvline(SHARPNESS_TARGET, color="grey", linestyle="--", linewidth=1)
    axes.axhline(reference[2], color="grey", linestyle="--", linewidth=1)
    axes.fill_between([SHARPNESS_TARGET, right], reference[2], top, color="green", alpha=0.08)
    axes.text(SHARPNESS_TARGET + 0.01, top - 0.004, "target: sharpness >= 0.8 and SSIM no worse than\n"
              f"{args.reference.name} ({reference[2]:.3f}, today's decoder)", fontsize=8, va="top")
    axes.set_xlabel("sharpness of the reconstructions (mean gradient, over the input's)")
    axes.set_ylabel("SSIM of the reconstructions (test paintings, mean over painters)")
    axes.set_title(f"Each run's test reconstructions at {size} px: sharpness against SSIM")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=110)
    print(f"{len(points)} runs plotted: {args.out}")


if __name__ == "__main__":
    main()
