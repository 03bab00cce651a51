"""A real HTTP server on 127.0.0.1 that answers like Wikimedia Commons and WikiArt.

It serves paged JSON listings (Commons `continue` objects with subcategories, WikiArt pages
until an empty one) and image endpoints that paint real JPEG/PNG bytes on the fly, and it can
be told to have bad days: 429 with Retry-After, 503, a MediaWiki maxlag body, a connection
reset, an answer slower than the client's timeout, an HTML page served as image/jpeg, a
truncated image, an empty file, an empty listing. Every request is logged with its arrival
time so tests can measure the client's politeness from the server's side.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from images import painting


@dataclass
class FakeWork:
    id: str
    title: str
    year: int | None = 1870
    kind: str = "jpeg"  # jpeg, png, html, truncated, empty, placeholder, other-artist, detail
    artist_index: int = 0
    picture_of: str | None = None  # paint the same picture as the work with this id


@dataclass
class FakeState:
    works: dict[str, list[FakeWork]] = field(default_factory=dict)  # artist slug -> works
    subcategories: dict[str, list[str]] = field(default_factory=dict)  # slug -> names of subcategories
    page_size: int = 3
    faults: dict[str, list[str]] = field(default_factory=dict)  # path prefix -> faults ("ok" = none) for the next requests
    persistent_faults: dict[str, str] = field(default_factory=dict)  # path prefix -> fault for every request
    log: list[tuple[float, str]] = field(default_factory=list)
    user_agents: set[str] = field(default_factory=set)  # every User-Agent seen
    slow_seconds: float = 3.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault_for(self, path: str) -> str | None:
        with self.lock:
            for prefix, fault in self.persistent_faults.items():
                if path.startswith(prefix):
                    return fault
            for prefix, queue in self.faults.items():
                if path.startswith(prefix) and queue:
                    return queue.pop(0)
        return None


class FakeSourceServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that give up on a slow answer close the socket: expected here

    def __init__(self, state: FakeState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "FakeSourceServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: FakeSourceServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        state = self.server.state
        parts = urlsplit(self.path)
        with state.lock:
            state.log.append((time.monotonic(), parts.path))
            state.user_agents.add(self.headers.get("User-Agent", ""))
        fault = state.fault_for(parts.path)
        if fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.close()
            self.close_connection = True
            return
        if fault == "slow":
            time.sleep(state.slow_seconds)
        if fault == "429":
            return self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
        if fault == "503":
            return self._send(503, b"<html>busy</html>", "text/html")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/w/api.php":
            if "User-Agent" not in self.headers or "painterly-vae" not in self.headers["User-Agent"]:
                return self._send(403, b"a descriptive User-Agent is required", "text/plain")
            if fault == "maxlag":
                body = {"error": {"code": "maxlag", "info": "Waiting for a database server: 6 seconds lagged"}}
                return self._json(body, {"Retry-After": "1"})
            return self._json(self._commons(query))
        if parts.path.startswith("/en/") and parts.path.endswith("/mode/all-paintings"):
            if self.headers.get("X-Requested-With") != "XMLHttpRequest":
                return self._send(403, b"forbidden", "text/plain")
            slug = parts.path.split("/")[2]
            return self._json(self._wikiart(slug, int(query.get("page", 1))))
        if parts.path.startswith("/images/"):
            return self._image(unquote(parts.path))
        self._send(404, b"not found", "text/plain")

    # ------------------------------------------------------------------ Commons
    def _commons(self, query: dict[str, str]) -> dict[str, Any]:
        state = self.server.state
        title = query.get("gcmtitle", "")
        slug, _, sub = title.removeprefix("Category:Paintings by ").partition(" / ")
        slug = _slug_of(state, slug)
        members: list[dict[str, Any]] = []
        if slug is not None:
            works = state.works[slug]
            subs = state.subcategories.get(slug, [])
            if sub:  # a subcategory holds the works whose index is odd, plus a link back up (a cycle)
                chosen = [w for i, w in enumerate(works) if i % 2 == 1]
                members = [self._commons_file(w) for w in chosen] + [{"pageid": 9, "ns": 14, "title": f"Category:Paintings by {slug}"}]
            else:
                chosen = works if not subs else [w for i, w in enumerate(works) if i % 2 == 0]
                members = [self._commons_file(w) for w in chosen] + [
                    {"pageid": 10 + i, "ns": 14, "title": f"Category:Paintings by {slug} / {name}"} for i, name in enumerate(subs)
                ]
        offset = int(query.get("gcmcontinue", "0") or 0)
        page = members[offset : offset + state.page_size]
        answer: dict[str, Any] = {"batchcomplete": True, "query": {"pages": page}} if page else {"batchcomplete": True}
        if offset + state.page_size < len(members):
            answer["continue"] = {"gcmcontinue": str(offset + state.page_size), "continue": "gcmcontinue||"}
        return answer

    def _commons_file(self, work: FakeWork) -> dict[str, Any]:
        base = self.server.url
        image = f"{base}/images/{quote(work.id, safe='')}.{_extension(work)}"
        title = f"File:{work.title}.jpg" if work.kind != "detail" else f"File:{work.title} (detail).jpg"
        artist = "Somebody Else" if work.kind == "other-artist" else f"<a href='x'>{work.id.split('-')[0]}</a>"
        return {
            "pageid": int(zlib.crc32(work.id.encode())), "ns": 6, "title": title,
            "imageinfo": [{
                "url": image, "thumburl": image, "thumbwidth": 120, "thumbheight": 90, "width": 1200, "height": 900,
                "descriptionurl": f"{base}/wiki/{quote(title)}", "mime": "image/jpeg",
                "extmetadata": {
                    "LicenseShortName": {"value": "Public domain", "source": "commons-desc-page"},
                    "Artist": {"value": artist, "source": "commons-desc-page"},
                    "ObjectName": {"value": work.title, "source": "commons-desc-page"},
                    "DateTimeOriginal": {"value": f"circa {work.year}" if work.year else "", "source": "x"},
                    "Credit": {"value": "<span>Musée test</span>", "source": "commons-desc-page"},
                },
            }],
        }

    # ------------------------------------------------------------------ WikiArt
    def _wikiart(self, slug: str, page: int) -> dict[str, Any]:
        state = self.server.state
        works = state.works.get(slug, [])
        chunk = works[(page - 1) * state.page_size : page * state.page_size]
        base = self.server.url
        items = []
        for work in chunk:
            name = f"{quote(work.id, safe='')}.{_extension(work)}"
            image = f"{base}/images/FRAME-600x480.jpg" if work.kind == "placeholder" else f"{base}/images/{name}!Large.jpg"
            items.append({
                "id": work.id, "title": work.title, "year": str(work.year or ""), "width": 1200, "height": 900,
                "image": image, "paintingUrl": f"/en/{slug}/{quote(work.id, safe='')}", "artistName": slug,
            })
        return {"Paintings": items or None, "AllPaintingsCount": len(works), "PageSize": state.page_size}

    # ------------------------------------------------------------------ images
    def _image(self, path: str) -> None:
        name = path.removeprefix("/images/").split("!")[0]
        work_id, _, extension = name.rpartition(".")
        work = next((w for ws in self.server.state.works.values() for w in ws if w.id == work_id), None)
        if work is None:
            return self._send(404, b"no such image", "text/plain")
        if work.kind == "html":
            return self._send(200, b"<!DOCTYPE html><html><body>Error 500</body></html>", "image/jpeg")
        if work.kind == "empty":
            return self._send(200, b"", "image/jpeg")
        buffer = io.BytesIO()
        picture = painting(zlib.crc32((work.picture_of or work.id).encode()) % 100_000, 90, work.artist_index)
        picture.save(buffer, format="PNG" if extension == "png" else "JPEG", quality=90)
        data = buffer.getvalue()
        if work.kind == "truncated":
            data = data[: len(data) // 2]
        self._send(200, data, "image/png" if extension == "png" else "image/jpeg")

    def _json(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send(200, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


def _extension(work: FakeWork) -> str:
    return "png" if work.kind == "png" else "jpg"


def _slug_of(state: FakeState, name: str) -> str | None:
    return name if name in state.works else None
