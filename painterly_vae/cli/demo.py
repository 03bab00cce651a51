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
from painterly_vae.cli.evaluation_summary import print_evaluation
from painterly_vae.cli.summary import print_prepare_summary, print_training_summary
from painterly_vae.cli.train_command import TrainRequest, run_training
from painterly_vae.config import load_config
from painterly_vae.evaluation.evaluate import evaluate_run
from painterly_vae.evaluation.report import EvaluationReport
from painterly_vae.inference.answers import Attribution, attribute_files
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
    answers = attribute_files(run, held_out)
    for result in answers:
        print(textwrap.indent(result.describe(f"{result.path.name} (by {result.path.parent.name})"), "  "))
    right = [result.path for result in answers if is_right(result)]
    print(f"  {len(right)} of {len(held_out)} attributed to the right painter")
    report, out_dir = evaluate_run(run, progress=progress)
    print_evaluation(report, out_dir)
    print(how_it_did(report))
    print("\n".join(["Next, with the demo's run (see the README for every command):",
                     *(f"  {command}" for command in next_commands(summary.run_dir, (right or held_out)[0]))]))


def is_right(result: Attribution) -> bool:
    """Named, not unknown, and the painter of the folder the painting came from."""
    return not result.error and not result.unknown and result.ranked[0][0] == result.path.parent.name


def how_it_did(report: EvaluationReport) -> str:
    """The demo's verdict in one sentence a newcomer reads: the run beside the colour histogram."""
    known = report.paintings["known"]
    sentence = (f"How it did: on {known} test paintings it never trained on, the run named the right painter for "
                f"{report.attribution.top1:.0%} (chance: {1 / len(report.artists):.0%})")
    colour = next((b.result for b in report.baselines if b.kind == "colour_histogram"), None)
    if colour is None or colour.run_minus_baseline is None:
        return sentence + "."
    lead = colour.run_minus_baseline
    low, high = (100 * value for value in lead.top1.interval)
    verdict = {"ahead": f"the run is ahead by {lead.top1.difference * 100:.0f} points",
               "behind": f"the run is behind by {-lead.top1.difference * 100:.0f} points",
               "level": "the two are level (the difference could be chance)"}[lead.verdict]
    return (f"{sentence}; a colour histogram, which sees the palette but not where the colours go or how they are laid on, names {colour.top1:.0%}: "
            f"{verdict} (95% interval of the difference {low:+.0f} to {high:+.0f} points).")


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
