"""The paintings a command reads with a trained run, and the check that they fit it.

`evaluate`, `map` and `cluster` all accept `--data`: nothing (the run's own prepared data), a
prepared folder, or a raw folder of artist sub-folders, which is prepared exactly as the run's
data was (same size, fit and crops; cached under the run, so a second command reuses it).
Whatever comes back was checked against the run: a folder prepared again at another size
since the run trained, or holding other artists, is one sentence, not a shape error from
deep inside torch.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Protocol

from data_tools.prepare import PrepareOptions, prepare
from data_tools.processed import INDEX_FILE, ProcessedData
from painterly_vae.config import Config
from painterly_vae.errors import UsageError


class RunOfData(Protocol):
    """What reading data for a run needs of it: `trained_run.TrainedRun` is one. A protocol
    rather than an import, so that trained_run (which opens the run's data) and this module
    do not import each other."""

    run_dir: Path
    config: Config

    @property
    def artists(self) -> list[str]: ...

    @property
    def preprocessing(self) -> dict[str, Any]: ...


def open_run_data(run: RunOfData, data_path: Path | None = None, same_artists: bool = True,
                  progress: bool = False) -> ProcessedData:
    """The run's own data, a prepared folder, or a raw folder prepared the way the run's was.

    With `same_artists`, the data must hold exactly the run's artists (in its order); without,
    other artists are allowed (evaluate treats them as unknown)."""
    if data_path is None:
        data = ProcessedData.open(run.config.data.path)
    elif (Path(data_path) / INDEX_FILE).is_file():
        data = ProcessedData.open(data_path)
    else:
        options = PrepareOptions.from_recorded(run.preprocessing, min_images=1)
        cache = run.run_dir / "evaluations" / "prepared" / folder_name(Path(data_path))
        data = ProcessedData.open(prepare(data_path, cache, options, progress=progress).out)
    check_run_data(run, data, same_artists)
    return data


def check_run_data(run: RunOfData, data: ProcessedData, same_artists: bool = True, role: str = "run") -> None:
    """Raise a one-sentence UsageError when `data` does not fit `run` (see `open_run_data`);
    `role` names the run in the message (e.g. "--baseline run")."""
    size = run.config.model.input_size
    if data.image_size != size:
        raise UsageError(
            f"the data at {data.root} is {data.image_size} px but {role} {run.run_dir.name} reads {size} px "
            f"(was the folder prepared again at another --size?): give --data prepared at --size {size}, "
            f"or the raw paintings"
        )
    if same_artists and data.artists != run.artists:
        raise UsageError(f"the data at {data.root} has artists {data.artists}, {role} {run.run_dir.name} "
                         f"was trained on {run.artists}")


def folder_name(path: Path) -> str:
    """A file-name-safe name for a data folder (for caches and evaluation folders)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", Path(path).resolve().name).strip("-") or "data"
