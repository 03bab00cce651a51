"""Run directories: where a run's config, checkpoints, TensorBoard events and plots live.

    runs/<name>/config.toml              the resolved config
    runs/<name>/checkpoints/last.pt      latest state (resume from here)
    runs/<name>/checkpoints/best.pt      lowest validation loss so far
    runs/<name>/tensorboard/             TensorBoard event files
    runs/<name>/train.log                what happened, with timestamps

Where runs are: the folder `--runs-dir` names; without it, the folder in the environment
variable PAINTERLY_VAE_RUNS (so `attribute` works from any folder once it is set), then
`runs/` of the current folder. Training writes to the first of these (or to its
`training.runs_dir` when given); commands that read a run look in each, and an error names
every folder searched.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from painterly_vae.errors import UsageError

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
RUNS_VARIABLE = "PAINTERLY_VAE_RUNS"
DEFAULT_RUNS_DIR = Path("runs")


def _folder_from_environment() -> Path | None:
    """The folder $PAINTERLY_VAE_RUNS names, or None when it is unset or empty."""
    value = os.environ.get(RUNS_VARIABLE, "").strip()
    return Path(value).expanduser() if value else None


def runs_dirs(given: Path | None = None) -> list[Path]:
    """Where to look for runs, in order: `given` (--runs-dir) alone, else $PAINTERLY_VAE_RUNS and runs/."""
    if given is not None:
        return [Path(given)]
    from_environment = _folder_from_environment()
    folders = [from_environment] if from_environment is not None else []
    return folders + ([DEFAULT_RUNS_DIR] if DEFAULT_RUNS_DIR not in folders else [])


def describe_folders(folders: list[Path]) -> str:
    """'runs', or '/data/runs ($PAINTERLY_VAE_RUNS) or runs': the folders searched, for an error."""
    from_environment = _folder_from_environment()
    return " or ".join(f"{folder} (${RUNS_VARIABLE})" if folder == from_environment else str(folder) for folder in folders)


def last_checkpoints(folders: list[Path]) -> list[Path]:
    """The last.pt of every run in `folders`, the most recently written first."""
    return sorted((p for folder in folders for p in folder.glob("*/checkpoints/last.pt")),
                  key=lambda p: p.stat().st_mtime, reverse=True)


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


def find_run(folders: list[Path], name: str | None) -> Path:
    """An existing run: by name (in the first folder that holds it), or the one whose last
    checkpoint is the most recent in any of the folders (`runs_dirs`)."""
    if name is not None:
        check_run_name(name)
        for folder in folders:
            if last_checkpoint(folder / name).is_file():
                return folder / name
        raise UsageError(f"no run named '{name}' in {describe_folders(folders)} (no {last_checkpoint(folders[0] / name)})")
    candidates = last_checkpoints(folders)
    if not candidates:
        hint = "" if len(folders) > 1 or folders[0] != DEFAULT_RUNS_DIR else f", or set {RUNS_VARIABLE} to where they are"
        raise UsageError(f"no runs in {describe_folders(folders)}: train one first with `painterly-vae train`{hint}")
    return candidates[0].parent.parent


def check_run_name(name: str) -> None:
    if not _SAFE_NAME.match(name):
        raise UsageError(
            f"run name '{name}' must start with a letter or digit and use only letters, digits, '.', '_' and '-'"
        )
