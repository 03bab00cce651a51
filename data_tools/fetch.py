"""`painterly-vae fetch`: download paintings per artist, resumable, polite, with provenance.

    data/raw/<artist-slug>/<source>-<id>.<ext>     the images
    data/raw/manifest.jsonl                        one line per stored image (data_tools.manifest)
    data/raw/.fetch-state/<source>/<artist>.json   where each listing stopped

For each artist: first re-fetch what the manifest lists but the disk lacks (missing file or
wrong hash), then continue the listing where the last run stopped, downloading what is not
stored yet. Every download is verified as an image Pillow decodes before it is written
(temporary file + rename) and only then recorded in the manifest, so a kill at any moment
leaves no partial image under its final name and no manifest line without its image.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from PIL import Image
from tqdm import tqdm

from data_tools.artists import Artist
from data_tools.atomic import atomic_write_bytes
from data_tools.decode import ImageRejected, load_rgb
from data_tools.http_client import HttpSettings, PoliteSession, RequestFailed
from data_tools.manifest import MANIFEST_FILE, append_entry, read_manifest
from data_tools.sources import Work, build_source

STATE_DIR = ".fetch-state"
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "TIFF": "tif", "WEBP": "webp", "GIF": "gif"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class FetchOptions:
    source: str = "commons"
    out: Path = Path("data/raw")
    limit: int | None = None  # images stored per artist
    size: int = 1024  # longest side to ask the server for
    dry_run: bool = False
    base_url: str | None = None
    http: HttpSettings = HttpSettings()


@dataclass
class ArtistReport:
    """What happened to one artist's works; every listed work lands in exactly one count."""

    artist: str
    listed: int = 0
    downloaded: int = 0
    skipped: int = 0  # already stored
    refetched: int = 0  # listed in the manifest but missing or damaged on disk, downloaded again
    rejected: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    reached: bool = False  # at least one listing request answered
    listing_error: str | None = None
    cannot_connect: bool = False  # the source's host could not be reached at all
    complete: bool = False  # the listing reached its end
    would_fetch: list[Work] = field(default_factory=list)  # --dry-run


@dataclass
class FetchReport:
    source: str
    base_url: str
    out: Path
    artists: list[ArtistReport]
    dry_run: bool = False
    requests: int = 0

    @property
    def unreachable(self) -> bool:
        """True when no listing request of any artist got an answer."""
        return bool(self.artists) and not any(a.reached for a in self.artists)


def fetch(artists: list[Artist], options: FetchOptions, progress: bool = True,
          session: PoliteSession | None = None) -> FetchReport:
    """Fetch every artist in turn; returns the per-artist report (never raises for a bad file)."""
    own_session = session is None
    session = session or PoliteSession(options.http)
    source = build_source(options.source, session, options.base_url, options.size)
    out = Path(options.out)
    report = FetchReport(options.source, source.base_url, out, [], dry_run=options.dry_run)
    try:
        manifest = _Manifest.load(out) if not options.dry_run else _Manifest.read_only(out)
        for artist in artists:
            report.artists.append(_fetch_artist(artist, source, session, manifest, options, progress))
            if report.artists[-1].cannot_connect:
                break  # no network or a wrong address: the next artist would fail the same way
    finally:
        report.requests = session.requests_made
        if own_session:
            session.close()
    return report


class _Manifest:
    """The manifest as the downloader sees it: valid entries by (source, id) and all hashes."""

    def __init__(self, out: Path, entries: list[dict[str, Any]], damaged: list[dict[str, Any]]) -> None:
        self.out = out
        self.path = out / MANIFEST_FILE
        self.by_id = {(e.get("source"), str(e.get("source_id"))): e for e in entries}
        self.hashes = {e.get("sha256") for e in entries}
        self.damaged = damaged  # entries whose file is missing or changed: to download again

    @classmethod
    def load(cls, out: Path) -> "_Manifest":
        """Read and compact: entries whose file is gone or changed are dropped from the file
        (rewritten atomically) and kept aside to be re-fetched."""
        valid, damaged = cls._check(out)
        path = out / MANIFEST_FILE
        if damaged or (path.exists() and len(valid) != len(path.read_text(encoding="utf-8", errors="replace").splitlines())):
            lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in valid)
            atomic_write_bytes(path, lines.encode("utf-8"))
        return cls(out, valid, damaged)

    @classmethod
    def read_only(cls, out: Path) -> "_Manifest":
        valid, damaged = cls._check(out)
        return cls(out, valid, damaged)

    @staticmethod
    def _check(out: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        latest: dict[tuple[Any, str], dict[str, Any]] = {}
        for entry in read_manifest(out / MANIFEST_FILE):
            latest[(entry.get("source"), str(entry.get("source_id")))] = entry  # the last line wins
        valid, damaged = [], []
        for entry in latest.values():
            path = out / str(entry.get("file", ""))
            intact = entry.get("file") and path.is_file() and _sha256(path.read_bytes()) == entry.get("sha256")
            (valid if intact else damaged).append(entry)
        return valid, damaged

    def add(self, entry: dict[str, Any]) -> None:
        append_entry(self.path, entry)
        self.by_id[(entry["source"], entry["source_id"])] = entry
        self.hashes.add(entry["sha256"])

    def stored(self, source: str, artist: str) -> int:
        return sum(1 for (s, _), e in self.by_id.items() if s == source and e.get("artist") == artist)


def _fetch_artist(artist: Artist, source: Any, session: PoliteSession, manifest: _Manifest,
                  options: FetchOptions, progress: bool) -> ArtistReport:
    report = ArtistReport(artist.slug)
    state_path = options.out / STATE_DIR / options.source / f"{artist.slug}.json"
    state = _read_state(state_path)
    bar = tqdm(desc=artist.slug, unit="img", disable=not progress, dynamic_ncols=True)

    def store(work: Work) -> bool:
        outcome = _download(work, artist, options, session, manifest)
        if outcome is None:
            bar.update(1)
            return True
        kind, reason = outcome
        (report.rejected if kind == "rejected" else report.failed)[reason] += 1
        return False

    try:
        if not options.dry_run:
            for entry in [e for e in manifest.damaged if e.get("source") == options.source and e.get("artist") == artist.slug]:
                manifest.damaged.remove(entry)
                report.refetched += store(_work_from_entry(entry))
        limit_reached: Callable[[], bool] = lambda: (  # noqa: E731
            options.limit is not None
            and (manifest.stored(options.source, artist.slug) + len(report.would_fetch)) >= options.limit
        )
        if state.get("complete") and not options.dry_run:
            state = {}  # a finished listing is walked again to find new works; stored ones are skipped
        try:
            for page in source.list_works(artist, state.get("cursor")):
                report.reached = True
                for reason, count in page.skipped.items():
                    report.listed += count
                    report.rejected[reason] += count
                for work in page.works:
                    if limit_reached():
                        break
                    report.listed += 1
                    if (options.source, work.source_id) in manifest.by_id:
                        report.skipped += 1
                    elif work.rejection:
                        report.rejected[work.rejection] += 1
                    elif options.dry_run:
                        report.would_fetch.append(work)
                    else:
                        report.downloaded += store(work)
                if limit_reached():
                    break
                if not options.dry_run:
                    _write_state(state_path, {"cursor": page.next_cursor, "complete": page.next_cursor is None})
                if page.next_cursor is None:
                    report.complete = True
        except RequestFailed as error:
            report.listing_error = error.reason
            report.cannot_connect = error.cannot_connect and not report.reached
    finally:
        bar.close()
    return report


def _download(work: Work, artist: Artist, options: FetchOptions, session: PoliteSession,
              manifest: _Manifest) -> tuple[str, str] | None:
    """Fetch, verify, store and record one work; (kind, reason) when it is not stored."""
    try:
        data, _content_type = session.get_bytes(work.image_url)
    except RequestFailed as error:
        return "failed", error.reason
    if not data:
        return "rejected", "empty"
    digest = _sha256(data)
    if digest in manifest.hashes:
        return "rejected", "duplicate"
    try:
        image, (width, height) = load_rgb(io.BytesIO(data))
    except ImageRejected as rejected:
        return "rejected", rejected.reason
    image_format = Image.open(io.BytesIO(data)).format or "JPEG"
    relative = f"{artist.slug}/{options.source}-{safe_id(work.source_id)}.{EXTENSIONS.get(image_format, 'img')}"
    atomic_write_bytes(options.out / relative, data)
    manifest.add({
        "artist": artist.slug, "source": options.source, "source_id": work.source_id, "title": work.title,
        "year": work.year, "image_url": work.image_url, "page_url": work.page_url, "license": work.license,
        "credit": work.credit, "sha256": digest, "width": width, "height": height, "file": relative,
        "artist_name": artist.name,
    })
    return None


def _work_from_entry(entry: dict[str, Any]) -> Work:
    return Work(
        source_id=str(entry["source_id"]), title=str(entry.get("title") or ""), year=entry.get("year"),
        image_url=str(entry.get("image_url") or ""), page_url=entry.get("page_url"),
        license=str(entry.get("license") or ""), credit=str(entry.get("credit") or ""),
    )


def safe_id(source_id: str) -> str:
    """A file-name-safe form of a source's id: letters, digits, '.', '_' and '-' only, at most
    80 characters, never starting with a dot; a short hash keeps altered ids distinct."""
    cleaned = _UNSAFE.sub("_", source_id).strip("._") or "id"
    if cleaned == source_id and len(cleaned) <= 80:
        return cleaned
    return f"{cleaned[:64]}-{hashlib.sha1(source_id.encode('utf-8')).hexdigest()[:10]}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return state if isinstance(state, dict) else {}
    except (OSError, json.JSONDecodeError):
        return {}


def _write_state(path: Path, state: dict[str, Any]) -> None:
    atomic_write_bytes(path, json.dumps(state, ensure_ascii=False).encode("utf-8"))


def load_sources_config(path: Path | None) -> tuple[dict[str, Any], dict[str, str]]:
    """Read a sources TOML file: `[http]` politeness settings and `[<source>] base_url`.

        [http]
        min_interval = 1.0
        contact = "you@example.org"
        [commons]
        base_url = "https://commons.wikimedia.org/w/api.php"

    Returns (http settings by name, base URL by source); unknown keys are errors."""
    import dataclasses

    from data_tools.errors import UsageError
    from data_tools.sources import SOURCES
    from data_tools.toml_files import read_toml_file

    if path is None:
        return {}, {}
    raw = read_toml_file(path, f"--sources-config {path}")
    http_fields = {f.name: f.type for f in dataclasses.fields(HttpSettings)}
    http = raw.pop("http", {})
    for key, value in http.items():
        if key not in http_fields:
            raise UsageError(f"{path}: unknown key http.{key}; known: {', '.join(http_fields)}")
        if http_fields[key] in ("float", float) and isinstance(value, int) and not isinstance(value, bool):
            http[key] = float(value)
    base_urls = {}
    for source, values in raw.items():
        if source not in SOURCES or not isinstance(values, dict) or set(values) - {"base_url"}:
            raise UsageError(f"{path}: [{source}] must be one of {', '.join(SOURCES)} with a base_url key")
        if "base_url" in values:
            base_urls[source] = str(values["base_url"])
    return http, base_urls
