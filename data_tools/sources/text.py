"""Cleaning the free text sources return: HTML in metadata fields, years in date strings."""

from __future__ import annotations

import html
import re
import unicodedata

_TAG = re.compile(r"<[^>]+>")
_YEAR = re.compile(r"\b(1[2-9]\d\d|20[0-2]\d)\b")


def strip_html(text: object) -> str:
    """Plain text from an HTML fragment such as Commons' `Artist` field."""
    if not isinstance(text, str):
        return ""
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", text))).strip()


def first_year(text: object) -> int | None:
    """The first plausible year in free text: "circa 1872" -> 1872, "1880s" -> 1880."""
    match = _YEAR.search(str(text)) if text is not None else None
    return int(match.group(1)) if match else None


def folded(text: str) -> str:
    """Lower case without accents, for matching names: "Édouard" -> "edouard"."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
