"""How the costs grow with the painters: the same paintings split among 5, 20 and 100 painters.

    python bench/painters.py [--quick] [--painters 5 20 100] [--paintings 1200] [--epochs 2]
    python bench/painters.py --config configs/pretrained.toml [--weights FILE] ...

For each count, a child process paints the same total of synthetic paintings split evenly among
that many painters, trains on them (`--epochs`), and measures: the training's time per painting
seen, what `train` does besides its steps (the decoder's statistics and the attribution's fit:
every painting through every encoder, the clusters, one fit per painter left out, up to
`clustering.left_out_painters`), `evaluate` on the test split, one `attribute` answer in the warm
process, the process's peak memory and the checkpoints' sizes. Every figure is printed beside the
first count's as a ratio; what grows faster than the paintings is what to make cheaper. The last
line is machine-readable.

Without `--config`: the paper's model at 32 px with tiny widths (seconds a count). With a config
(the recommended `configs/pretrained.toml`): that model as configured, on paintings prepared at
its trunk's size; its network's weights from `--weights`, or, since a timing does not depend on
what the weights are, torchvision's architecture with random weights written for the bench.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MEASURES = ("train_s_per_painting", "fit_s", "evaluate_s", "attribute_s", "peak_rss_mb", "last_pt_mb", "best_pt_mb")


TINY = {"model.image_size": 32, "model.channels": [16, 32], "model.latent_dim": 16, "training.batch_size": 32}


def measure(painters: int, paintings: int, epochs: int, config: Path | None, weights: Path | None) -> dict[str, float]:
    """One count of painters, in this process (the parent runs each in a child of its own)."""
    import torch

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory(prefix=f"painters-{painters}-") as scratch:
        return _measure_in(Path(scratch), painters, paintings, epochs, config, weights)


def _random_weights(network: str, folder: Path) -> Path:
    """torchvision's `network` with random weights, as a state dict file (what timings need of it)."""
    import torch
    import torchvision.models

    from painterly_vae.feature_networks import network_spec

    path = folder / f"{network}-random.pth"
    torch.save(getattr(torchvision.models, network_spec(network).builder)(weights=None).state_dict(), path)
    return path


def _measure_in(root: Path, painters: int, paintings: int, epochs: int, config_file: Path | None,
                weights: Path | None) -> dict[str, float]:
    import torch

    from data_tools.prepare import PrepareOptions, prepare
    from data_tools.processed import ProcessedData
    from data_tools.synthetic import write_synthetic_raw
    from painterly_vae.cli.train_command import TrainRequest, run_training
    from painterly_vae.config import load_config
    from painterly_vae.evaluation.evaluate import evaluate_run
    from painterly_vae.inference.answers import attribute_files
    from painterly_vae.inference.trained_run import open_run
    from painterly_vae.runtime.host_memory import keep_freed_memory_for

    values = {"training.epochs": epochs, "training.eval_every": 1_000_000, "training.image_every": 1_000_000,
              "training.checkpoint_every": 1_000_000, "training.runs_dir": str(root / "runs"), "training.device": "cpu"}
    if config_file is None:
        values.update(TINY)
        size = 32
    else:
        config = load_config(config_file)
        for network in config.feature_networks():
            values[f"networks.{network}.weights"] = str(weights or _random_weights(network, root))
        size = config.model.input_size
    raw = write_synthetic_raw(root / "raw", artists=painters, per_artist=paintings // painters, size=size + 8,
                              seed=painters)
    data = prepare(raw, root / "data", PrepareOptions(size=size, min_size=size, min_images=10, workers=0),
                   progress=False).out
    started = time.perf_counter()
    summary = run_training(TrainRequest(config_file=config_file, data=data, name="bench", values=values,
                                        progress=False))
    whole = time.perf_counter() - started
    run_dir = root / "runs" / "bench"
    run = open_run(run_dir, torch.device("cpu"))
    seen = summary.steps * run.config.training.batch_size
    keep_freed_memory_for(run.device, run.config.training.keep_freed_memory)  # as the `evaluate` command does
    started = time.perf_counter()
    evaluate_run(run, progress=False)
    evaluated = time.perf_counter() - started
    painting = sorted((raw / ProcessedData.open(data).artists[0]).glob("*.jpg"))[0]
    attribute_files(run, [painting])  # warm
    started = time.perf_counter()
    attribute_files(run, [painting])
    answered = time.perf_counter() - started
    checkpoints = run_dir / "checkpoints"
    return {"painters": painters, "paintings_seen": seen, "train_s_per_painting": summary.seconds / seen,
            "fit_s": whole - summary.seconds, "evaluate_s": evaluated, "attribute_s": answered,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "last_pt_mb": (checkpoints / "last.pt").stat().st_size / 2**20,
            "best_pt_mb": (checkpoints / "best.pt").stat().st_size / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5, 10 and 20 painters, 600 paintings, 1 epoch")
    parser.add_argument("--painters", type=int, nargs="+", default=[5, 20, 100])
    parser.add_argument("--paintings", type=int, default=1200, help="in all, split evenly among the painters")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--config", type=Path, help="a config to train (default: the paper's model, tiny, 32 px)")
    parser.add_argument("--weights", type=Path, help="the config's network weights (default: random, same timings)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: measure this count and print JSON
    args = parser.parse_args()
    if args.quick:
        args.painters, args.paintings, args.epochs = [5, 10, 20], 600, 1
    if args.one:
        print(json.dumps(measure(args.one, args.paintings, args.epochs, args.config, args.weights)))
        return
    rows = []
    passed = [*(["--config", str(args.config)] if args.config else []), *(["--weights", str(args.weights)] if args.weights else [])]
    for painters in args.painters:
        child = subprocess.run([sys.executable, __file__, "--one", str(painters), "--paintings", str(args.paintings),
                                "--epochs", str(args.epochs), *passed], capture_output=True, text=True)
        if child.returncode:
            sys.exit(f"{painters} painters failed:\n{child.stderr[-3000:]}")
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
    first = rows[0]
    trained = args.config or "the paper's model, tiny, 32 px"
    print(f"{args.paintings} synthetic paintings in all, {trained}, {args.epochs} epoch(s); each row beside "
          f"{first['painters']} painters (x ratio)")
    print(f"{'painters':>8s} " + " ".join(f"{name:>24s}" for name in MEASURES))
    for row in rows:
        cells = [f"{row[name]:11.3g} ({row[name] / first[name]:5.2f}x)" for name in MEASURES]
        print(f"{row['painters']:8d} " + " ".join(f"{cell:>24s}" for cell in cells))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
