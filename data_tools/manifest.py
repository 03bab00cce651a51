"""`raw/manifest.jsonl`: where every stored image came from, one JSON object per line.

Fields: artist, source, source_id, title, year (may be null), image_url, page_url, license,
credit, sha256, width, height, retrieved_at. A line is appended and flushed (and fsynced)
only after its image is on disk under its final name, so a killed writer never leaves the
manifest listing an image that is not there; a line cut in half by a kill is skipped on reading.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

MANIFEST_FILE = "manifest.jsonl"
FIELDS = (
    "artist", "source", "source_id", "title", "year", "image_url", "page_url",
    "license", "credit", "sha256", "width", "height", "retrieved_at",
)


def read_manifest(path: str | Path) -> list[dict[str, Any]]:
    """All complete entries, in file order; a missing file is an empty manifest."""
    path = Path(path)
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # the tail of a line cut by a killed writer
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def append_entry(path: str | Path, entry: dict[str, Any]) -> None:
    """Append one entry (missing fields filled with None) and make it durable before returning."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {name: entry.get(name) for name in FIELDS}
    record.update({k: v for k, v in entry.items() if k not in record})
    if record["retrieved_at"] is None:
        record["retrieved_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    line = json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n"
    with open(path, "a", encoding="utf-8") as stream:
        if stream.tell() > 0 and not _ends_with_newline(path):
            stream.write("\n")  # close a line cut by an earlier kill
        stream.write(line)
        stream.flush()
        os.fsync(stream.fileno())


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as stream:
        stream.seek(-1, os.SEEK_END)
        return stream.read(1) == b"\n"
