"""Exceptions that carry a message meant for the person at the keyboard.

The CLI turns a `UsageError` into one line on stderr and exit code 2 (no traceback): these
are mistakes a user can make and fix. Anything else is a bug and keeps its traceback.
"""


class UsageError(Exception):
    """A mistake in how the tool was called or configured; the message says what to do."""


class ConfigError(UsageError):
    """A configuration value is unknown, of the wrong type, or impossible."""


class DataError(UsageError):
    """Prepared data is missing, malformed, or does not fit the configuration."""


class TrainingDiverged(RuntimeError):
    """Training produced non-finite losses too many steps in a row and was stopped."""


class StopRequested(Exception):
    """SIGTERM arrived during training: torchrun stopping the job because another process
    failed, or a scheduler ending the job. The run keeps its last checkpoint."""
