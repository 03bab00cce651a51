"""What a decoder that knows only a thumbnail of the painting can score: SSIM against sharpness.

    python experiments/decoder/information_frontier.py --data data/p5-224 --reference runs/ref128 \
        [RUN ...] --out experiments/decoder-128/texture-information/information-frontier-128.png

Issue #21 asks for reconstructions as sharp as 0.8 of the input's with SSIM no worse than today's.
Every trained decoder so far sits on one frontier: each term that sharpens (texture, adversarial)
costs SSIM. This script asks whether that is the decoders' fault or the information's, with no
network at all. For each test painting at the decoder's size it builds two kinds of "oracle
reconstruction" from what a decoder could know:

- the painting shrunk to a thumbnail of s px and enlarged again (area down, bilinear up, as the
  pipeline resizes): everything a decoder that knew the painting only to s px could place for
  sure. It is blurred: its sharpness is low, its SSIM as high as that knowledge allows;
- that thumbnail plus `a` times the fine detail (the painting minus its own thumbnail) of
  another test painting by the same painter: the painter's real brushwork at its real strength
  (a = 1), but where the decoder cannot know it is. This is what a perfect texture term adds.

Along `a` from 0 to 1.25 each thumbnail size traces a line on the sharpness-SSIM plane; the
trained runs (their report.json) are drawn on the same plane with the target corner, and for
each the thumbnail size whose line passes through it is printed: the run scores as a decoder
that knew that much of each painting and added the rest unplaced. It is an illustration of the
perception-distortion trade-off (Blau & Michaeli, CVPR 2018), not a bound: a decoder might place
some detail right that a thumbnail does not hold.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from frontier import SHARPNESS_TARGET, draw_runs, draw_target, evaluated_reference, runs_at_size, save_figure  # noqa: E402

from data_tools.processed import ProcessedData  # noqa: E402
from painterly_vae.model.image_quality import psnr, sharpness_ratio, ssim  # noqa: E402
from painterly_vae.model.model import resize  # noqa: E402
from painterly_vae.runtime.batches import to_device_images  # noqa: E402

THUMBNAIL_SIZES = (4, 6, 8, 12, 16, 24, 32)
DETAIL_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25)
MEASURES = ("psnr", "ssim", "sharpness")


def oracle_measures(targets: torch.Tensor, thumbnail: int, strength: float) -> dict[str, float]:
    """Mean PSNR, SSIM and sharpness of one painter's oracle reconstructions: each painting's
    `thumbnail` px version enlarged, plus `strength` x the fine detail of the next painting."""
    size = targets.shape[-1]
    coarse = resize(resize(targets, thumbnail), size)
    detail = targets - coarse
    oracle = (coarse + strength * torch.roll(detail, 1, dims=0)).clamp(0, 1)
    return {"psnr": float(psnr(oracle, targets).mean()), "ssim": float(ssim(oracle, targets).mean()),
            "sharpness": float(sharpness_ratio(oracle, targets).mean())}


def oracle_table(painters: list[torch.Tensor]) -> dict[tuple[int, float], dict[str, float]]:
    """(thumbnail, strength) -> each measure's mean over painters (as `evaluate` averages)."""
    table = {}
    for thumbnail in THUMBNAIL_SIZES:
        for strength in DETAIL_STRENGTHS:
            per_painter = [oracle_measures(targets, thumbnail, strength) for targets in painters]
            table[thumbnail, strength] = {m: float(np.mean([p[m] for p in per_painter])) for m in MEASURES}
    return table


def ssim_at_sharpness(table, thumbnail: int, sharpness: float) -> float | None:
    """SSIM of the thumbnail's line where it reaches `sharpness` (linear between strengths), or None."""
    line = [table[thumbnail, a] for a in DETAIL_STRENGTHS]
    for low, high in zip(line, line[1:]):
        if low["sharpness"] <= sharpness <= high["sharpness"]:
            t = (sharpness - low["sharpness"]) / (high["sharpness"] - low["sharpness"])
            return low["ssim"] + t * (high["ssim"] - low["ssim"])
    return None


def thumbnail_equivalent(table, sharpness: float, ssim_value: float) -> float | None:
    """The thumbnail size (px, between the measured ones on a log scale) whose line passes through
    (sharpness, SSIM): a decoder at that point scores as one that knew that thumbnail of each
    painting and added unplaced detail. None outside the measured sizes or sharpnesses."""
    levels = [(thumbnail, ssim_at_sharpness(table, thumbnail, sharpness)) for thumbnail in THUMBNAIL_SIZES]
    for (small, low), (large, high) in zip(levels, levels[1:]):
        if low is not None and high is not None and low <= ssim_value <= high:
            t = (ssim_value - low) / (high - low)
            return float(np.exp(np.log(small) + t * (np.log(large) - np.log(small))))
    return None


def line_through(table, sharpness: float, ssim_value: float) -> str:
    """`thumbnail_equivalent` of a point, in words."""
    known = thumbnail_equivalent(table, sharpness, ssim_value)
    if known is None:
        return f"on the line of a thumbnail outside {THUMBNAIL_SIZES[0]}-{THUMBNAIL_SIZES[-1]} px"
    return f"on the line of a {known:.1f} px thumbnail"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", type=Path, help="evaluated runs to draw beside the oracles")
    parser.add_argument("--data", type=Path, required=True, help="prepared data (its test split is measured)")
    parser.add_argument("--reference", type=Path, required=True,
                        help="today's decoder: its size and its SSIM (the target's line)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    reference = evaluated_reference(args.reference)
    size, reference_ssim = reference.size, reference.ssim
    data = ProcessedData.open(args.data)
    painters = []
    for artist in data.artists:
        images = np.asarray(data.array(artist, "test"))
        if len(images) < 2:
            sys.exit(f"error: {artist} has {len(images)} test painting(s); the oracle borrows detail from another")
        painters.append(resize(to_device_images(images, torch.device("cpu")), size))
    table = oracle_table(painters)

    print(f"{sum(len(p) for p in painters)} test paintings at {size} px, means over {len(painters)} painters")
    print("thumbnail | thumbnail alone: PSNR  SSIM  sharpness | + the detail of another painting: SSIM  sharpness"
          f" | SSIM where sharpness reaches {SHARPNESS_TARGET}")
    for thumbnail in THUMBNAIL_SIZES:
        alone, full = table[thumbnail, 0.0], table[thumbnail, 1.0]
        at_target = ssim_at_sharpness(table, thumbnail, SHARPNESS_TARGET)
        print(f"{thumbnail:5d} px | {alone['psnr']:6.2f} dB {alone['ssim']:.3f} {alone['sharpness']:.3f} | "
              f"{full['ssim']:.3f} {full['sharpness']:.3f} | " + ("-" if at_target is None else f"{at_target:.3f}"))
    points = runs_at_size(args.runs, size)
    for name, point in points.items():
        print(f"{name}: sharpness {point.sharpness:.3f}, SSIM {point.ssim:.3f}, PSNR {point.psnr:.2f} dB: "
              + line_through(table, point.sharpness, point.ssim))
    print(f"the target's corner (sharpness {SHARPNESS_TARGET}, SSIM {reference_ssim:.3f}): "
          + line_through(table, SHARPNESS_TARGET, reference_ssim))

    figure, axes = plt.subplots(figsize=(9, 6.5))
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(THUMBNAIL_SIZES)))
    for thumbnail, colour in zip(THUMBNAIL_SIZES, colours):
        line = [table[thumbnail, a] for a in DETAIL_STRENGTHS]
        axes.plot([p["sharpness"] for p in line], [p["ssim"] for p in line], "-o", color=colour, markersize=3,
                  linewidth=1, label=f"{thumbnail} px thumbnail + 0 to 1.25 x another painting's detail")
    if points:
        draw_runs(axes, points, color="crimson", s=30, zorder=3, label="trained runs")
    top = max(p["ssim"] for p in table.values()) + 0.03
    right = max(p["sharpness"] for p in table.values()) + 0.05
    draw_target(axes, args.reference.name, reference_ssim, right, top)
    axes.set_ylim(bottom=0)
    axes.set_title(f"What a decoder that knows a thumbnail can score ({size} px test paintings)")
    axes.legend(fontsize=7, loc="lower left")
    save_figure(figure, args.out)
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
