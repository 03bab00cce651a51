"""`painterly-vae demo`: the whole job on generated paintings, no internet needed.

synth (data_tools.synthetic, raw layout + manifest) -> prepare (the real preprocessor) ->
train (configs/demo.toml). It is what `make demo` runs on a fresh machine.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from data_tools.prepare import PrepareOptions, prepare
from data_tools.synthetic import write_synthetic_raw
from painterly_vae.config import load_config
from painterly_vae.summary import print_prepare_summary, print_training_summary
from painterly_vae.train_run import TrainRequest, run_training

DEMO_ARTISTS = 4
DEMO_PAINTINGS_PER_ARTIST = 120


def demo_config_path() -> Path:
    return Path(str(importlib.resources.files("painterly_vae.configs") / "demo.toml"))


def run_demo(out: Path, steps: int | None = None, device: str = "auto", progress: bool = True) -> None:
    config_path = demo_config_path()
    image_size = load_config(config_path).model.image_size
    raw, processed = out / "data" / "raw", out / "data" / "processed"
    print(f"1/3 Painting {DEMO_ARTISTS} synthetic artists x {DEMO_PAINTINGS_PER_ARTIST} paintings -> {raw}")
    write_synthetic_raw(raw, DEMO_ARTISTS, DEMO_PAINTINGS_PER_ARTIST, size=round(image_size * 1.5), seed=0)
    print(f"2/3 Preparing {image_size} px training arrays -> {processed}")
    options = PrepareOptions(size=image_size, min_size=image_size)
    print_prepare_summary(prepare(raw, processed, options, progress=progress))
    values: dict[str, object] = {"training.runs_dir": str(out / "runs"), "training.device": device}
    if steps is not None:
        values["training.steps"] = steps
    print(f"3/3 Training with {config_path.name}")
    summary = run_training(TrainRequest(config_file=config_path, data=processed, values=values, progress=progress))
    print_training_summary(summary)
    print("Attribution of held-out paintings comes with the clustering module (issue 5); the demo stops after training.")
