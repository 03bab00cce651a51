"""`painterly-vae demo`: the whole job on generated paintings, no internet needed.

synth (data_tools.synthetic, raw layout + manifest) -> prepare (the real preprocessor) ->
train (configs/demo.toml, clusters fitted at the end) -> attribute a few held-out paintings ->
evaluate (report.json and plots). It is what `make demo` runs on a fresh machine.
"""

from __future__ import annotations

import importlib.resources
import shlex
import textwrap
from pathlib import Path

from data_tools.prepare import PrepareOptions, prepare
from data_tools.processed import ProcessedData
from data_tools.synthetic import write_synthetic_raw
from painterly_vae.cli.attribute import attribute_files
from painterly_vae.cli.evaluation_summary import print_evaluation
from painterly_vae.cli.summary import print_prepare_summary, print_training_summary
from painterly_vae.cli.train_command import TrainRequest, run_training
from painterly_vae.config import load_config
from painterly_vae.evaluation.evaluate import evaluate_run
from painterly_vae.inference.trained_run import open_run
from painterly_vae.runtime.device import resolve_device

DEMO_ARTISTS = 4
DEMO_PAINTINGS_PER_ARTIST = 120
HELD_OUT_PER_ARTIST = 3


def demo_config_path() -> Path:
    return Path(str(importlib.resources.files("painterly_vae.configs") / "demo.toml"))


def run_demo(out: Path, steps: int | None = None, device: str = "auto", progress: bool = True) -> None:
    config_path = demo_config_path()
    image_size = load_config(config_path).model.image_size
    raw, processed = out / "data" / "raw", out / "data" / "processed"
    print(f"1/4 Painting {DEMO_ARTISTS} synthetic artists x {DEMO_PAINTINGS_PER_ARTIST} paintings -> {raw}")
    write_synthetic_raw(raw, DEMO_ARTISTS, DEMO_PAINTINGS_PER_ARTIST, size=round(image_size * 1.5), seed=0, progress=progress)
    print(f"2/4 Preparing {image_size} px training arrays -> {processed}")
    options = PrepareOptions(size=image_size, min_size=image_size)
    print_prepare_summary(prepare(raw, processed, options, progress=progress))
    values: dict[str, object] = {"training.runs_dir": str(out / "runs"), "training.device": device}
    if steps is not None:
        values["training.steps"] = steps
    print(f"3/4 Training with {config_path.name}")
    summary = run_training(TrainRequest(config_file=config_path, data=processed, values=values, progress=progress))
    print_training_summary(summary)

    run = open_run(summary.run_dir, resolve_device(device))
    data = ProcessedData.open(processed)
    held_out = [raw / row["file"] for artist in data.artists for row in data.rows(artist, "test")[:HELD_OUT_PER_ARTIST]]
    print(f"4/4 Attributing {len(held_out)} held-out paintings (test split, never seen in training)")
    correct = 0
    for result in attribute_files(run, held_out):
        truth = result.path.parent.name
        correct += not result.unknown and result.ranked[0][0] == truth
        print(textwrap.indent(result.describe(f"{result.path.name} (by {truth})"), "  "))
    print(f"  {correct} of {len(held_out)} attributed to the right painter")
    report, out_dir = evaluate_run(run, progress=progress)
    print_evaluation(report, out_dir)
    print("\n".join(["Next, with the demo's run (see the README for every command):",
                     *(f"  {command}" for command in next_commands(summary.run_dir, held_out[0]))]))


def next_commands(run_dir: Path, painting: Path) -> list[str]:
    """What to try after the demo, with --run filled in: a plain `attribute` would look in ./runs."""
    run = shlex.quote(str(run_dir))
    return [
        f"painterly-vae attribute {shlex.quote(str(painting))} --run {run}",
        f"painterly-vae reconstruct {shlex.quote(str(painting))} --run {run}",
        f"painterly-vae map --run {run}",
        f"painterly-vae evaluate --run {run}",
        f"tensorboard --logdir {shlex.quote(str(run_dir / 'tensorboard'))}",
    ]
