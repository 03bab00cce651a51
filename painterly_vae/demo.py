"""`painterly-vae demo`: the whole job on generated paintings, no internet needed.

Paints synthetic artists (data_tools.synthetic), writes them in the processed format, and
trains on them with configs/demo.toml. It is what `make demo` runs on a fresh machine.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from data_tools.synthetic import write_synthetic_processed
from painterly_vae.summary import print_training_summary
from painterly_vae.train_run import TrainRequest, run_training

DEMO_ARTISTS = 4
DEMO_PAINTINGS_PER_ARTIST = 100


def demo_config_path() -> Path:
    return Path(str(importlib.resources.files("painterly_vae.configs") / "demo.toml"))


def run_demo(out: Path, steps: int | None = None, device: str = "auto", progress: bool = True) -> None:
    config_path = demo_config_path()
    image_size = _demo_image_size(config_path)
    data_dir = out / "data" / "processed"
    print(f"Painting {DEMO_ARTISTS} synthetic artists x {DEMO_PAINTINGS_PER_ARTIST} paintings at {image_size} px -> {data_dir}")
    write_synthetic_processed(data_dir, DEMO_ARTISTS, DEMO_PAINTINGS_PER_ARTIST, image_size, seed=0)
    values: dict[str, object] = {"training.runs_dir": str(out / "runs"), "training.device": device}
    if steps is not None:
        values["training.steps"] = steps
    print(f"Training with {config_path.name} ...")
    summary = run_training(TrainRequest(config_file=config_path, data=data_dir, values=values, progress=progress))
    print_training_summary(summary)
    print("Attribution of held-out paintings comes with the clustering module; the demo stops after training.")


def _demo_image_size(config_path: Path) -> int:
    from painterly_vae.config import load_config

    return load_config(config_path).model.image_size
