"""`painterly-vae attribute`: the files and folders given, then the answers
(`inference.answers`) printed one by one with a tally."""

from __future__ import annotations

from pathlib import Path

from painterly_vae.errors import UsageError


def expand_inputs(inputs: list[Path]) -> list[Path]:
    """Files as given; folders become their files (recursively, sorted, hidden ones skipped)."""
    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            files += sorted(p for p in item.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(item).parts))
        else:
            files.append(item)
    if not files:
        raise UsageError("no files to attribute (the folders given are empty)")
    return files
