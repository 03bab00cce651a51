"""Every exception the tool raises on purpose: the user-facing pair shared with data_tools
(`UsageError`: one line on stderr and exit code 2; `DataError`), and those of configuration
and training."""

from data_tools.errors import DataError, UsageError

__all__ = ["ConfigError", "DataError", "StopRequested", "TrainingDiverged", "UsageError"]


class ConfigError(UsageError):
    """A configuration value is unknown, of the wrong type, or impossible."""


class TrainingDiverged(RuntimeError):
    """Training produced non-finite losses too many steps in a row and was stopped."""


class StopRequested(Exception):
    """SIGTERM arrived during training: torchrun stopping the job because another process
    failed, or a scheduler ending the job. The run keeps its last checkpoint."""
