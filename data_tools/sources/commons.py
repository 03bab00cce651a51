"""Wikimedia Commons: explicit licence per file; the recommended default source.

Lists the files of the artist's category ("Paintings by Claude Monet") and of its
subcategories (by year, museum, subject), recursing to a depth cap with cycle detection,
with one API call per page: `generator=categorymembers` (files and subcategories) plus
`prop=imageinfo` (URL of a thumbnail of the requested size, size, MIME type, licence and
credit metadata). Paging copies every key of the `continue` object into the next request.
Details, crops, frames, drawings, letters and files credited to another artist are skipped.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from typing import Any, Iterator

from data_tools.artists import Artist
from data_tools.http_client import PoliteSession, RequestFailed
from data_tools.sources.base import Work, WorkPage
from data_tools.sources.text import first_year, folded, strip_html

MAX_DEPTH = 3
PAGE_SIZE = 50  # the API's limit when thumbnails are requested
IMAGE_TYPES = ("image/jpeg", "image/png", "image/tiff", "image/webp")
NOT_A_PAINTING = re.compile(
    r"\b(details?|crop(ped)?|frames?|framed|drawings?|sketch(es|book)?|letters?|signatures?|"
    r"x-ray|infrared|verso|reverse|photographs?|postcards?|stamps?)\b",
    re.IGNORECASE,
)


class CommonsSource:
    name = "commons"
    default_base_url = "https://commons.wikimedia.org/w/api.php"

    def __init__(self, session: PoliteSession, base_url: str, size: int) -> None:
        self.session = session
        self.base_url = base_url
        self.size = size

    def list_works(self, artist: Artist, cursor: dict[str, Any] | None) -> Iterator[WorkPage]:
        root = f"Category:{artist.commons_category}"
        state = copy.deepcopy(cursor) if cursor else {"queue": [[root, 0]], "seen": [root], "continue": None}
        while state["queue"]:
            category, depth = state["queue"][0]
            params = {
                "action": "query", "format": "json", "formatversion": "2", "maxlag": "5",
                "generator": "categorymembers", "gcmtitle": category, "gcmtype": "file|subcat",
                "gcmlimit": str(PAGE_SIZE), "prop": "imageinfo", "iiprop": "url|size|mime|extmetadata",
                "iiurlwidth": str(self.size), "iiurlheight": str(self.size),
            }
            params.update(state["continue"] or {})
            data = self.session.get_json(self.base_url, params)
            if not isinstance(data, dict):
                raise RequestFailed(self.base_url, "unexpected answer")
            if isinstance(data.get("error"), dict):
                raise RequestFailed(self.base_url, f"API error {data['error'].get('code', '?')}")
            pages = (data.get("query") or {}).get("pages") or []
            if isinstance(pages, dict):  # formatversion=1 answers: a dict keyed by page id
                pages = list(pages.values())
            works, skipped = [], Counter()
            for page in pages:
                if not isinstance(page, dict):
                    continue
                title = str(page.get("title", ""))
                if page.get("ns") == 14 or title.startswith("Category:"):
                    if depth < MAX_DEPTH and title not in state["seen"] and not NOT_A_PAINTING.search(title):
                        state["seen"].append(title)
                        state["queue"].append([title, depth + 1])
                    continue
                work, reason = self._work(page, artist)
                if work is not None:
                    works.append(work)
                else:
                    skipped[reason] += 1
            continuation = data.get("continue")
            if isinstance(continuation, dict) and continuation:
                state["continue"] = {str(k): str(v) for k, v in continuation.items()}
            else:
                state["queue"].pop(0)
                state["continue"] = None
            yield WorkPage(works, copy.deepcopy(state) if state["queue"] else None, dict(skipped))

    def _work(self, page: dict[str, Any], artist: Artist) -> tuple[Work | None, str]:
        infos = page.get("imageinfo") or []
        info = infos[0] if infos and isinstance(infos[0], dict) else None
        title = str(page.get("title", "")).removeprefix("File:")
        if info is None or "pageid" not in page:
            return None, "no image information"
        if info.get("mime") not in IMAGE_TYPES:
            return None, "not a still image"
        if NOT_A_PAINTING.search(title):
            return None, "detail, crop or other non-painting"
        meta = info.get("extmetadata") or {}

        def field(name: str) -> str:
            entry = meta.get(name)
            return strip_html(entry.get("value")) if isinstance(entry, dict) else ""

        credited = field("Artist")
        if credited and folded(artist.surname) not in folded(credited):
            return None, "credited to another artist"
        image_url = info.get("thumburl") or info.get("url")
        if not image_url:
            return None, "no image URL"
        licence = field("LicenseShortName") or field("UsageTerms") or "unknown (see the file page)"
        return Work(
            source_id=str(page["pageid"]),
            title=field("ObjectName") or re.sub(r"\.\w+$", "", title).replace("_", " "),
            year=first_year(field("DateTimeOriginal")),
            image_url=str(image_url),
            page_url=info.get("descriptionurl"),
            license=licence,
            credit=field("Credit") or credited or artist.name,
            width=info.get("thumbwidth") or info.get("width"),
            height=info.get("thumbheight") or info.get("height"),
        ), ""
