"""What torchrun told this process, read from the environment without importing torch.

torchrun starts every process with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT
set. The CLI reads them before anything heavy is loaded (to say which rank reports an error,
and to print one summary per job); `painterly_vae.runtime.distributed` joins the process group.
"""

from __future__ import annotations

import os

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def launched_by_torchrun() -> bool:
    return all(name in os.environ for name in TORCHRUN_VARIABLES)


def _integer(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def rank_from_environment() -> int:
    """This process's rank (0 outside torchrun)."""
    return _integer("RANK", 0) if launched_by_torchrun() else 0


def world_size_from_environment() -> int:
    """How many processes train together (1 outside torchrun)."""
    return _integer("WORLD_SIZE", 1) if launched_by_torchrun() else 1
