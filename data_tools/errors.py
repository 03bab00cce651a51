"""Exceptions that carry a message meant for the person at the keyboard.

The CLI turns a `UsageError` into one line on stderr and exit code 2 (no traceback): these
are mistakes a user can make and fix. Anything else is a bug and keeps its traceback. They
live here, at the bottom of both packages, because getting paintings in raises them too;
`painterly_vae.errors` adds the ones training and configuration raise.
"""


class UsageError(Exception):
    """A mistake in how the tool was called or configured; the message says what to do."""


class DataError(UsageError):
    """Prepared data is missing, malformed, or does not fit the configuration."""
