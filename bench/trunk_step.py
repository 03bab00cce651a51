"""Trunk encoders' training step beside the from-scratch one, and what the trunk cache buys.

    python bench/trunk_step.py [--quick] [--size 64] [--trunk-size 224] [--batch 32] [--device auto]
                               [--pixels-scale 8]

All three are `Trainer.train_step` on `Trainer.next_inputs` (what `painterly-vae train` runs),
in the default precision, on random paintings, with a MobileNetV2 of random weights (speed
does not depend on the weights):

    from scratch   the paper's encoders read pixels at --size
    trunk, cached  encoders read MobileNetV2 block13 maps of the painting at --trunk-size,
                   computed once per painting (training.trunk_cache = true, the default)
    trunk, live    the same, the trunk run on every batch (training.trunk_cache = false)

With --pixels-scale N two more, both cached: the encoders read the painting's pixels beside the
maps at the maps' size (model.encoder_pixels) and at N times it, each patch folded into channels
(model.encoder_pixels_scale = N); the ratio of the two is what the finer pixels cost.

Each step also gets the DFC loss on MobileNetV2 (weight 1), as the measured configuration
does, when --dfc is given. Repetitions are interleaved so drift on a shared machine hits all
three; medians are reported, then one machine-readable line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torchvision.models import mobilenet_v2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.train_step import timed  # noqa: E402
from data_tools.processed import ProcessedData, write_processed  # noqa: E402
from painterly_vae.config import Config  # noqa: E402
from painterly_vae.runtime.device import resolve_device  # noqa: E402
from painterly_vae.training.trainer import Trainer  # noqa: E402

ARTISTS = 2


def trainer(root: Path, name: str, size: int, values: dict[str, object], device: torch.device, batch: int,
            base: Config | None = None) -> Trainer:
    """A Trainer of `base` (default: the built-in config) with `values`, on random paintings at `size` px."""
    rng = np.random.default_rng(0)
    arrays = {f"artist-{a}": {"train": rng.integers(0, 256, (batch * 4, 3, size, size), dtype=np.uint8)} for a in range(ARTISTS)}
    rows = {a: {"train": [{}] * (batch * 4)} for a in arrays}
    data = root / f"data-{size}"
    if not (data / "index.json").exists():
        write_processed(data, arrays, rows, {"benchmark": True})
    config = (base or Config()).with_values({"training.batch_size": batch, "training.device": str(device), "training.steps": 10,
                                   **values})
    built = Trainer(config, ProcessedData.open(data), root / name, device)
    built.build_trunk_cache(progress=False)
    return built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (under a minute on 2 cores)")
    parser.add_argument("--size", type=int, default=64, help="the size the decoder paints (and pixel encoders read)")
    parser.add_argument("--trunk-size", type=int, default=224, help="the size the trunk reads")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--dfc", action="store_true", help="add the DFC loss on MobileNetV2 to every step")
    parser.add_argument("--pixels-scale", type=int, default=0,
                        help="also time the pixels beside the maps at 1 and at this many times the maps' side")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    repeats = 3 if args.quick else 9
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        weights = root / "mobilenet_v2-random.pth"
        torch.save(mobilenet_v2().state_dict(), weights)
        shared = {"model.image_size": args.size, "networks.mobilenet_v2.weights": str(weights)}
        if args.dfc:
            shared.update({"loss.perceptual_weight": 1.0, "loss.perceptual_network": "mobilenet_v2"})
        trunk = {**shared, "model.trunk": "mobilenet_v2", "model.trunk_image_size": args.trunk_size}
        steps = {
            "from scratch": trainer(root, "scratch", args.size, shared, device, args.batch),
            "trunk, cached": trainer(root, "cached", args.trunk_size, {**trunk, "training.trunk_cache": True}, device, args.batch),
            "trunk, live": trainer(root, "live", args.trunk_size, {**trunk, "training.trunk_cache": False}, device, args.batch),
        }
        if args.pixels_scale:
            for scale in (1, args.pixels_scale):
                values = {**trunk, "model.encoder_pixels": True, "model.encoder_pixels_scale": scale}
                steps[f"pixels x{scale}"] = trainer(root, f"pixels{scale}", args.trunk_size, values, device, args.batch)
        print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, "
              f"decoder {args.size} px, trunk reads {args.trunk_size} px, DFC loss {'on' if args.dfc else 'off'}, "
              f"median of {repeats} interleaved repetitions")
        times: dict[str, list[float]] = {name: [] for name in steps}
        for name, step in steps.items():  # warm up
            step.train_step(0, step.next_inputs(0))
        for _ in range(repeats):
            for name, step in steps.items():
                times[name].append(timed(lambda: step.train_step(0, step.next_inputs(0)), device))
        rate = {name: args.batch / statistics.median(t) for name, t in times.items()}
        for name in steps:
            print(f"  {name:14s} {rate[name]:7.1f} img/s")
        started = time.perf_counter()
        steps["trunk, cached"].trunk_cache = None
        steps["trunk, cached"].build_trunk_cache(progress=False)  # reads the stored maps back
        reopen = time.perf_counter() - started
    scratch_ratio = rate["trunk, cached"] / rate["from scratch"]
    cache_ratio = rate["trunk, cached"] / rate["trunk, live"]
    print(f"trunk (cached) / from scratch: {scratch_ratio:.2f}; cached / live trunk: {cache_ratio:.2f}; "
          f"reopening the stored maps of {ARTISTS * args.batch * 4} paintings: {reopen:.2f} s")
    if args.pixels_scale:
        pixels_ratio = rate[f"pixels x{args.pixels_scale}"] / rate["pixels x1"]
        print(f"pixels at {args.pixels_scale}x the maps' side / at their side: {pixels_ratio:.2f} "
              f"(pixels_scale={args.pixels_scale} img_s={rate[f'pixels x{args.pixels_scale}']:.1f} vs {rate['pixels x1']:.1f})")
    print(f"trunk_step size={args.size} trunk_size={args.trunk_size} batch={args.batch} dfc={int(args.dfc)} "
          f"scratch_img_s={rate['from scratch']:.1f} cached_img_s={rate['trunk, cached']:.1f} "
          f"live_img_s={rate['trunk, live']:.1f} trunk_vs_scratch={scratch_ratio:.2f} cache_speedup={cache_ratio:.2f}")


if __name__ == "__main__":
    main()
