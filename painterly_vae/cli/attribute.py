"""`painterly-vae attribute`: the files and folders given, then the answers
(`inference.answers`) printed one by one with a tally."""

from __future__ import annotations

from pathlib import Path

from painterly_vae.errors import UsageError
from painterly_vae.inference.painting_files import files_under


def expand_inputs(inputs: list[Path]) -> list[Path]:
    """Files as given; folders become their files (`painting_files.files_under`)."""
    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            files += files_under(item)
        else:
            files.append(item)
    if not files:
        raise UsageError("no files to attribute (the folders given are empty)")
    return files
