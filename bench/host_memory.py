"""A CPU training step with freed memory kept in the process, beside the C library's default.

    python bench/host_memory.py [--quick] [--config pretrained-128.toml] [--steps 6] [--batch 32]

`painterly-vae train` on the CPU asks glibc to keep the memory each step frees
(`painterly_vae.runtime.host_memory`). The setting holds for a whole process, so each variant runs
in a child process of its own, the two alternating (system, kept, system, kept, ...) so drift on a
shared machine hits both alike. Each child builds the shipped config's trainer on random paintings
(a MobileNetV2 of random weights, the trunk's maps cached, as a real run), takes two warm-up steps
and one validation pass (batch 64, as a real run every 250 steps: after it the default allocator
trims and re-faults the heap on every step), then times `--steps` steps of `Trainer.train_step`
on `Trainer.next_inputs`, with the system time and page faults the process spent on them, and
then one more validation pass (what `painterly-vae evaluate` does to every painting, batch after
batch, and which it runs with the same setting), and the child's peak resident memory (what the
kept memory costs).

Prints each variant's median step, system seconds and minor page faults per step, the ratio
system / kept, and one machine-readable line. On a C library other than glibc both variants are
the default allocator and the ratio is about 1.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torchvision.models import mobilenet_v2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.trunk_step import trainer  # noqa: E402
from painterly_vae.config import load_config  # noqa: E402
from painterly_vae.runtime.host_memory import keep_freed_memory  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
VARIANTS = ("system", "kept")


def child(variant: str, config_file: str, steps: int, batch: int) -> None:
    """One variant's measurement, printed as one JSON line."""
    if variant == "kept":
        keep_freed_memory()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        weights = root / "mobilenet_v2-random.pth"
        torch.save(mobilenet_v2().state_dict(), weights)
        base = load_config(CONFIGS / config_file)
        built = trainer(root, "run", base.model.input_size, {"networks.mobilenet_v2.weights": str(weights)},
                        torch.device("cpu"), batch, base)
        for _ in range(2):
            built.train_step(0, built.next_inputs(0))
        built.validate("train")
        seconds = []
        before = resource.getrusage(resource.RUSAGE_SELF)
        for _ in range(steps):
            started = time.perf_counter()
            built.train_step(0, built.next_inputs(0))
            seconds.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        built.validate("train")
        validation_s = time.perf_counter() - started
    print(json.dumps({"step_s": statistics.median(seconds), "system_s": (after.ru_stime - before.ru_stime) / steps,
                      "faults": (after.ru_minflt - before.ru_minflt) / steps, "validation_s": validation_s,
                      "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="two repetitions of each variant (about 3 minutes on 2 cores)")
    parser.add_argument("--config", default="pretrained-128.toml", help="a file of configs/")
    parser.add_argument("--steps", type=int, default=6, help="timed steps in each child")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.config, args.steps, args.batch)
        return
    repeats = 2 if args.quick else 4
    measured: dict[str, list[dict[str, float]]] = {variant: [] for variant in VARIANTS}
    for _ in range(repeats):
        for variant in VARIANTS:
            command = [sys.executable, __file__, "--child", variant, "--config", args.config,
                       "--steps", str(args.steps), "--batch", str(args.batch)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            measured[variant].append(json.loads(output.strip().splitlines()[-1]))
    medians = {variant: {key: statistics.median(m[key] for m in runs) for key in runs[0]}
               for variant, runs in measured.items()}
    print(f"configs/{args.config}, batch {args.batch}, CPU, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, median of {repeats} alternating child processes x {args.steps} steps "
          "after a validation pass")
    for variant, m in medians.items():
        print(f"  {variant:7s} {m['step_s']:6.2f} s a step, {m['system_s']:5.2f} s of it in the kernel, "
              f"{m['faults']:9.0f} page faults a step; a validation pass {m['validation_s']:5.2f} s; "
              f"peak RSS {m['peak_rss_gb']:.2f} GiB")
    ratio = medians["system"]["step_s"] / medians["kept"]["step_s"]
    validation_ratio = medians["system"]["validation_s"] / medians["kept"]["validation_s"]
    print(f"  freed memory kept: steps {ratio:.2f}x, validation {validation_ratio:.2f}x the default allocator's speed")
    fields = [f"{variant}_{key}={value:.3f}" for variant, m in medians.items() for key, value in m.items()]
    print("host_memory " + " ".join(fields) + f" ratio={ratio:.2f} validation_ratio={validation_ratio:.2f}")


if __name__ == "__main__":
    main()
