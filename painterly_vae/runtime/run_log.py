"""A run's `train.log`: timestamped lines a person reads after the fact.

Opened by the trainer for the training itself and by `train_command` for what follows it (the
attribution models fitted on the trained encoders), appending to the same file. Only the
main process writes; the others get a logger that drops everything.
"""

from __future__ import annotations

import logging
from pathlib import Path


def open_run_log(run_dir: Path, writes: bool = True) -> logging.Logger:
    """A logger appending to `<run>/train.log` (or nowhere when not `writes`); close it with
    `close_run_log`."""
    logger = logging.getLogger(f"painterly_vae.run.{run_dir.resolve()}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not writes:
        logger.addHandler(logging.NullHandler())
    elif not logger.handlers:
        run_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(run_dir / "train.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    return logger


def close_run_log(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)
