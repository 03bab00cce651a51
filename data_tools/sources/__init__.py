"""Painting sources behind one small interface, and the registry that names them.

A source lists an artist's works page by page. Each page carries the cursor that resumes
the listing after it, so a killed fetch continues where it stopped. A work carries what the
manifest records (title, year, licence, credit, URLs) and the URL of the image to download.
Adding a source = one module with a class that has `name`, `default_base_url` and
`list_works`, registered in SOURCES.
"""

from __future__ import annotations

from data_tools.errors import UsageError
from data_tools.http_client import PoliteSession
from data_tools.sources.base import Source, Work, WorkPage
from data_tools.sources.commons import CommonsSource
from data_tools.sources.wikiart import WikiArtSource

SOURCES: dict[str, type] = {"commons": CommonsSource, "wikiart": WikiArtSource}

__all__ = ["SOURCES", "Source", "Work", "WorkPage", "build_source"]


def build_source(name: str, session: PoliteSession, base_url: str | None, size: int) -> Source:
    """An instance of the named source talking to `base_url` (its default when None)."""
    if name not in SOURCES:
        raise UsageError(f"unknown source '{name}'; available: {', '.join(SOURCES)}")
    source_class = SOURCES[name]
    return source_class(session, base_url or source_class.default_base_url, size)
