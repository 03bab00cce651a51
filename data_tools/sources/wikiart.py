"""WikiArt: many more works per artist than Commons, no licence field, and fragile.

Uses the artist-page JSON feed that current open-source downloaders use
(`/en/<slug>/mode/all-paintings?json=2&layout=new&page=N&resultType=masonry`, with the
`X-Requested-With` and `Referer` headers), incrementing `page` until a page comes back empty.
Image URLs take a size suffix (`!Large.jpg`) for a server-side resize; a URL containing
`FRAME-600x480` is WikiArt's "blocked in your country" placeholder and is skipped.
The licence recorded is the public-domain status of the painting (from the artist's death
year) and the fact that the photograph is WikiArt's reproduction.
"""

from __future__ import annotations

from typing import Any, Iterator
from urllib.parse import urljoin

from data_tools.artists import Artist
from data_tools.http_client import PoliteSession, RequestFailed
from data_tools.sources.base import Work, WorkPage
from data_tools.sources.text import first_year

PLACEHOLDER_MARK = "FRAME-600x480"
LARGE_SUFFIX = "!Large.jpg"  # about 750 px on the longer side
ORIGINAL_FROM = 1200  # --size at or above this asks for the original file


class WikiArtSource:
    name = "wikiart"
    default_base_url = "https://www.wikiart.org"

    def __init__(self, session: PoliteSession, base_url: str, size: int) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.size = size

    def list_works(self, artist: Artist, cursor: dict[str, Any] | None) -> Iterator[WorkPage]:
        page = int((cursor or {}).get("page", 1))
        artist_page = f"{self.base_url}/en/{artist.wikiart_slug}"
        headers = {"X-Requested-With": "XMLHttpRequest", "Referer": artist_page}
        while True:
            data = self.session.get_json(
                f"{artist_page}/mode/all-paintings",
                params={"json": "2", "layout": "new", "page": str(page), "resultType": "masonry"},
                headers=headers,
            )
            if not isinstance(data, dict):
                raise RequestFailed(artist_page, "unexpected answer")
            items = data.get("Paintings") or []
            if not items:
                yield WorkPage([], None)
                return
            page += 1
            works = [self._work(item, artist) for item in items if isinstance(item, dict) and item.get("id") and item.get("image")]
            yield WorkPage(works, {"page": page}, {"no image": len(items) - len(works)} if len(works) < len(items) else {})

    def _work(self, item: dict[str, Any], artist: Artist) -> Work:
        image = str(item["image"])
        original = image.split("!")[0]
        url = original if self.size >= ORIGINAL_FROM else original + LARGE_SUFFIX
        died = f"artist died {artist.died}" if artist.died else "check the artist's death year"
        return Work(
            source_id=str(item["id"]),
            title=str(item.get("title") or "Untitled"),
            year=first_year(item.get("year")),
            image_url=url,
            page_url=urljoin(self.base_url + "/", str(item.get("paintingUrl") or "").lstrip("/")) or None,
            license=f"public domain ({died}), reproduction from wikiart.org",
            credit=f"{item.get('artistName') or artist.name}, via WikiArt",
            width=item.get("width") if isinstance(item.get("width"), int) else None,
            height=item.get("height") if isinstance(item.get("height"), int) else None,
            rejection="placeholder" if PLACEHOLDER_MARK in image else None,
        )
