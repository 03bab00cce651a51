"""Every exception the tool raises on purpose: the user-facing pair shared with data_tools
(`UsageError`: one line on stderr and exit code 2; `DataError`), and those of configuration
and training."""

from data_tools.errors import DataError, UsageError

__all__ = ["ConfigError", "DataError", "FitInterrupted", "StopRequested", "TrainingDiverged", "TrainingInterrupted",
           "UsageError"]


class ConfigError(UsageError):
    """A configuration value is unknown, of the wrong type, or impossible."""


class TrainingDiverged(RuntimeError):
    """Training produced non-finite losses too many steps in a row and was stopped."""


class TrainingInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped training between two steps; the checkpoint of the step reached was written."""

    def __init__(self, signal_name: str, step: int, total: int, run_dir: "object", kept: bool) -> None:
        super().__init__(f"{signal_name} at step {step}")
        self.signal_name, self.step, self.total, self.run_dir, self.kept = signal_name, step, total, run_dir, kept


class FitInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped the fit of a run's attribution between two pieces of work
    (`inference.fit_progress`); `stage` says which it was doing, `run_dir` which run."""

    def __init__(self, signal_name: str, stage: str, run_dir: "object" = None) -> None:
        super().__init__(f"{signal_name} while {stage}")
        self.signal_name, self.stage, self.run_dir = signal_name, stage, run_dir


class StopRequested(Exception):
    """SIGTERM arrived during training: torchrun stopping the job because another process
    failed, or a scheduler ending the job. The run keeps its last checkpoint."""
