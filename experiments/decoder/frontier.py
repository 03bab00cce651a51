"""Every evaluated run on one plane: SSIM against sharpness, with issue #21's target corner.

    python experiments/decoder/frontier.py RUN [RUN ...] --reference RUN --out PNG

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
from typing import NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from painterly_vae.evaluation.report import EvaluationReport  # noqa: E402

SHARPNESS_TARGET = 0.8


class RunPoint(NamedTuple):
    """An evaluated run's test reconstructions: its decoder's size and their means over painters."""

    size: int
    sharpness: float
    ssim: float
    psnr: float


def reconstruction_means(run: Path) -> RunPoint | None:
    """The run's `RunPoint`, or None when it has no report (not evaluated)."""
    report_file = run / "report.json"
    if not report_file.is_file():
        return None
    report = EvaluationReport.from_json(json.loads(report_file.read_text("utf-8")))
    means = report.reconstruction["mean"]
    return RunPoint(report.image_size, means.sharpness, means.ssim, means.psnr)


def evaluated_reference(run: Path) -> RunPoint:
    """The reference run's `RunPoint`; exits with a one-line error when it is not evaluated."""
    point = reconstruction_means(run)
    if point is None:
        sys.exit(f"error: {run} has no report.json (run `painterly-vae evaluate` on it first)")
    return point


def runs_at_size(runs: list[Path], size: int) -> dict[str, RunPoint]:
    """Each evaluated run whose decoder paints `size` px, by name; the others named on stderr."""
    measured = {run.name: reconstruction_means(run) for run in runs}
    points = {name: point for name, point in measured.items() if point is not None and point.size == size}
    for why, names in (("not evaluated", [n for n, p in measured.items() if p is None]),
                       (f"not {size} px", [n for n, p in measured.items() if p is not None and p.size != size])):
        if names:
            print(f"left out ({why}): {', '.join(names)}", file=sys.stderr)
    return points


def draw_runs(axes, points: dict[str, RunPoint], **style) -> None:
    """Each run at (sharpness, SSIM), named."""
    axes.scatter([p.sharpness for p in points.values()], [p.ssim for p in points.values()], **style)
    for rank, (name, point) in enumerate(sorted(points.items(), key=lambda item: item[1].sharpness)):
        offset = (4, 3) if rank % 2 == 0 else (4, -10)  # neighbours' names above and below, apart
        axes.annotate(name, (point.sharpness, point.ssim), fontsize=7, xytext=offset, textcoords="offset points")


def draw_target(axes, reference_name: str, reference_ssim: float, right: float, top: float) -> None:
    """The target corner (sharpness >= 0.8, SSIM no worse than the reference run's), shaded, and
    the plane's axes named."""
    axes.set_xlim(right=right)
    axes.set_ylim(top=top)
    axes.axvline(SHARPNESS_TARGET, color="grey", linestyle="--", linewidth=1)
    axes.axhline(reference_ssim, color="grey", linestyle="--", linewidth=1)
    axes.fill_between([SHARPNESS_TARGET, right], reference_ssim, top, color="green", alpha=0.08)
    axes.text(SHARPNESS_TARGET + 0.01, top - 0.004, "target: sharpness >= 0.8 and SSIM no worse than\n"
              f"{reference_name} ({reference_ssim:.3f}, today's decoder)", fontsize=8, va="top")
    axes.set_xlabel("sharpness of the reconstructions (mean gradient, over the input's)")
    axes.set_ylabel("SSIM of the reconstructions (test paintings, mean over painters)")
    axes.grid(alpha=0.3)


def save_figure(figure, out: Path) -> None:
    """The plane as a PNG at `out` (its folder made)."""
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories (evaluated)")
    parser.add_argument("--reference", type=Path, required=True,
                        help="today's decoder: its SSIM is the level the target asks not to fall below")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    reference = evaluated_reference(args.reference)
    size = reference.size
    points = runs_at_size(args.runs, size)
    figure, axes = plt.subplots(figsize=(8, 6))
    draw_runs(axes, points, s=40)
    right = max(1.0, max(p.sharpness for p in points.values()) + 0.05)
    top = max(reference.ssim, max(p.ssim for p in points.values())) + 0.03
    draw_target(axes, args.reference.name, reference.ssim, right, top)
    axes.set_title(f"Each run's test reconstructions at {size} px: sharpness against SSIM")
    save_figure(figure, args.out)
    print(f"{len(points)} runs plotted: {args.out}")


if __name__ == "__main__":
    main()
