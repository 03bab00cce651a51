"""Today's training step beside the decoder configurations measured for sharper reconstructions, as ratios.

    python bench/decoder_step.py [--quick] [--batch 32] [--device auto] [--no-256]

Each variant is `Trainer.train_step` on `Trainer.next_inputs` (what `painterly-vae train` runs)
of a shipped config file, in the default precision, on random paintings with a MobileNetV2 of
random weights (speed does not depend on the weights); the trunk's maps are cached as in a
real run:

    64 px, DFC only         configs/pretrained.toml without its texture loss and structural term
                            (its earlier configuration): the step every ratio is taken against
    64 px, texture          the texture loss on (loss.texture_weight = 0.3: the Gram matrices of the
                            DFC loss's activations, read in the same pass)
    64 px, texture, decoder the same term compared in 4 x 4 cells and kept from the encoders
                            (loss.texture_grid = 4, loss.texture_to_encoders = false: one more
                            backward pass, through the feature network and the decoder, stopping at z)
    64 px (today)           configs/pretrained.toml as shipped: the texture loss with the structural term
                            beside it (loss.ssim_weight = 100: 1 - SSIM of reconstruction and painting)
    128 px                  configs/pretrained-128.toml as shipped: the same decoder paints 128 px
    128 px, GroupNorm       the same with model.decoder_norm = "group" (a painting's own statistics)
    128 px, wide decoder    the same with the decoder twice as wide at every scale (512-256-128-64)
    128 px, residual        the same with the residual decoder, two blocks per scale (256-128-64-32)
    64 px, residual + adv.  today's config with the residual decoder (256-128-64-32) and the
                            adversarial term on from the first step (its discriminator's step included)
    256 px                  configs/pretrained-256.toml (data at 256 px; skipped with --no-256)

Repetitions are interleaved so drift on a shared machine hits every variant alike; medians are
reported with each one's ratio to the DFC-only step and what 20 epochs of the five painters (2,471
training paintings) would take at that rate; then one machine-readable line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import torch
from torchvision.models import mobilenet_v2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.train_step import timed  # noqa: E402
from bench.trunk_step import trainer  # noqa: E402
from painterly_vae.config import load_config  # noqa: E402
from painterly_vae.runtime.device import resolve_device  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
FIVE_PAINTERS_TRAINING = 2471
EPOCHS = 20
DFC_ONLY = {"loss.texture_weight": 0.0, "loss.ssim_weight": 0.0}
RESIDUAL_ADVERSARIAL = {"model.decoder": "residual", "model.decoder_channels": [256, 128, 64, 32],
                        "loss.adversarial_weight": 0.5, "loss.adversarial_start_step": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a few minutes on 2 cores)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-256", dest="with_256", action="store_false", help="leave out the 256 px config")
    args = parser.parse_args()
    device = resolve_device(args.device)
    repeats = 3 if args.quick else 7
    variants = {"64 px, DFC only": ("pretrained.toml", DFC_ONLY),
                "64 px, texture": ("pretrained.toml", {**DFC_ONLY, "loss.texture_weight": 0.3}),
                "64 px, texture, decoder": ("pretrained.toml", {**DFC_ONLY, "loss.texture_weight": 0.3,
                                                                "loss.texture_grid": 4, "loss.texture_to_encoders": False}),
                "64 px (today)": ("pretrained.toml", {}),
                "128 px": ("pretrained-128.toml", {}),
                "128 px, GroupNorm": ("pretrained-128.toml", {"model.decoder_norm": "group"}),
                "128 px, wide decoder": ("pretrained-128.toml", {"model.decoder_channels": [512, 256, 128, 64]}),
                "128 px, residual": ("pretrained-128.toml", {"model.decoder": "residual", "model.decoder_blocks": 2,
                                                             "model.decoder_channels": [256, 128, 64, 32]}),
                "64 px, residual + adv.": ("pretrained.toml", RESIDUAL_ADVERSARIAL)}
    if args.with_256:
        variants["256 px"] = ("pretrained-256.toml", {})
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        weights = root / "mobilenet_v2-random.pth"
        torch.save(mobilenet_v2().state_dict(), weights)
        steps = {}
        for number, (name, (file, values)) in enumerate(variants.items()):
            base = load_config(CONFIGS / file)
            steps[name] = trainer(root, f"run-{number}", base.model.input_size,
                                  {"networks.mobilenet_v2.weights": str(weights), **values}, device, args.batch, base)
        print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, "
              f"trunk maps cached, DFC loss on, median of {repeats} interleaved repetitions")
        times: dict[str, list[float]] = {name: [] for name in steps}
        for step in steps.values():  # warm up
            step.train_step(0, step.next_inputs(0))
        for _ in range(repeats):
            for name, step in steps.items():
                times[name].append(timed(lambda: step.train_step(0, step.next_inputs(0)), device))
    seconds = {name: statistics.median(t) for name, t in times.items()}
    reference = seconds["64 px, DFC only"]
    steps_per_run = EPOCHS * -(-FIVE_PAINTERS_TRAINING // args.batch)
    for name, step_seconds in seconds.items():
        print(f"  {name:24s} {step_seconds:6.2f} s a step, {args.batch / step_seconds:6.1f} img/s, "
              f"{step_seconds / reference:5.2f}x DFC only; {EPOCHS} epochs of the five painters: "
              f"{steps_per_run * step_seconds / 60:5.1f} min")
    keys = {"64 px, DFC only": "dfc_only", "64 px, texture": "texture", "64 px, texture, decoder": "texture_decoder",
            "64 px (today)": "today",
            "128 px": "px128", "128 px, GroupNorm": "px128_group", "128 px, wide decoder": "px128_wide",
            "128 px, residual": "px128_residual",
            "64 px, residual + adv.": "residual_adv", "256 px": "px256"}
    print("decoder_step " + f"batch={args.batch} " + " ".join(
        f"{keys[name]}_s={s:.3f} {keys[name]}_ratio={s / reference:.2f}" for name, s in seconds.items()))


if __name__ == "__main__":
    main()
