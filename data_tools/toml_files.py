"""Reading the TOML files people write (training configs, `fetch --sources-config`), with
the one-sentence error a typo deserves, on every Python the project supports (tomllib from
3.11, tomli before)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

from data_tools.errors import UsageError

__all__ = ["read_toml_file", "tomllib"]


def read_toml_file(path: str | Path, what: str, error: type[UsageError] = UsageError) -> dict[str, Any]:
    """The file's tables; a missing or unreadable file raises `error` naming it as `what`
    (e.g. "config file configs/x.toml")."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} does not exist")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as problem:
        raise error(f"{what} is not valid TOML: {problem}") from None
