"""What every source yields: works, pages of works, and the interface they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol

from data_tools.artists import Artist


@dataclass(frozen=True)
class Work:
    """One painting as a source describes it."""

    source_id: str
    title: str
    year: int | None
    image_url: str
    page_url: str | None
    license: str
    credit: str
    width: int | None = None
    height: int | None = None
    rejection: str | None = None  # set when the listing already shows it is unusable (e.g. a placeholder)


@dataclass
class WorkPage:
    """Works of one listing request, and the cursor that continues after them (None: the end)."""

    works: list[Work]
    next_cursor: dict[str, Any] | None
    skipped: dict[str, int] = field(default_factory=dict)  # listed entries dropped, by reason


class Source(Protocol):
    name: str
    default_base_url: str

    def list_works(self, artist: Artist, cursor: dict[str, Any] | None) -> Iterator[WorkPage]:
        """Pages of works, starting after `cursor` (from the beginning when None)."""
        ...
