"""Run directories: where a run's config, checkpoints, TensorBoard events and plots live.

    runs/<name>/config.toml              the resolved config
    runs/<name>/checkpoints/last.pt      latest state (resume from here)
    runs/<name>/checkpoints/best.pt      lowest validation loss so far
    runs/<name>/tensorboard/             TensorBoard event files
    runs/<name>/train.log                what happened, with timestamps
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from painterly_vae.errors import UsageError

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def last_checkpoint(run_dir: Path) -> Path:
    return run_dir / "checkpoints" / "last.pt"


def new_run_dir(runs_dir: Path, name: str | None) -> Path:
    """A fresh run directory: `name` if given (must not hold a run yet), else a timestamp."""
    if name is not None:
        check_run_name(name)
        run_dir = runs_dir / name
        if last_checkpoint(run_dir).exists():
            raise UsageError(f"run {run_dir} already exists: add --resume to continue it, or choose another --name")
        return run_dir
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir, counter = runs_dir / stamp, 1
    while run_dir.exists():
        counter += 1
        run_dir = runs_dir / f"{stamp}-{counter}"
    return run_dir


def find_run(runs_dir: Path, name: str | None) -> Path:
    """An existing run: by name, or the one whose last checkpoint is the most recent."""
    if name is not None:
        check_run_name(name)
        run_dir = runs_dir / name
        if not last_checkpoint(run_dir).is_file():
            raise UsageError(f"no run named '{name}' in {runs_dir} (no {last_checkpoint(run_dir)})")
        return run_dir
    candidates = sorted(runs_dir.glob("*/checkpoints/last.pt"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise UsageError(f"no runs in {runs_dir}: train one first with `painterly-vae train`")
    return candidates[-1].parent.parent


def check_run_name(name: str) -> None:
    if not _SAFE_NAME.match(name):
        raise UsageError(
            f"run name '{name}' must start with a letter or digit and use only letters, digits, '.', '_' and '-'"
        )
