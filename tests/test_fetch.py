"""fetch against a real local HTTP server imitating Commons and WikiArt, good days and bad."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests
from fake_sources import FakeSourceServer, FakeState, FakeWork

from data_tools.artists import Artist, resolve_artists
from data_tools.fetch import FetchOptions, fetch, safe_id
from data_tools.http_client import CONTACT_ENVIRONMENT, HttpSettings, PoliteSession
from data_tools.manifest import read_manifest
from data_tools.prepare import PrepareOptions, prepare
from painterly_vae import __version__

FAST = HttpSettings(min_interval=0.0, timeout=1.0, retries=2, backoff=0.05, maxlag_wait=0.05, max_retry_after=1.0)
MONET = Artist("monet", "Claude Monet", 1926, "Paintings by monet", "monet")
RENOIR = Artist("renoir", "Pierre-Auguste Renoir", 1919, "Paintings by renoir", "renoir")


def _works(slug: str, count: int, artist_index: int = 0) -> list[FakeWork]:
    return [FakeWork(f"{slug}-{i}", f"{slug.title()} study {i}", 1860 + i, artist_index=artist_index) for i in range(count)]


@pytest.fixture()
def server() -> Iterator[FakeSourceServer]:
    state = FakeState(works={"monet": _works("monet", 7), "renoir": _works("renoir", 5, 1)}, subcategories={"monet": ["by year"]})
    with FakeSourceServer(state) as running:
        yield running


def _options(server: FakeSourceServer, out: Path, source: str, **kwargs: object) -> FetchOptions:
    base = f"{server.url}/w/api.php" if source == "commons" else server.url
    return FetchOptions(**{"source": source, "out": out, "base_url": base, "http": FAST, "size": 500, **kwargs})


def _comparable(out: Path) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "retrieved_at"} for e in read_manifest(out / "manifest.jsonl")]


@pytest.mark.parametrize("source", ["commons", "wikiart"])
def test_full_fetch_of_two_artists(server: FakeSourceServer, tmp_path: Path, source: str) -> None:
    report = fetch([MONET, RENOIR], _options(server, tmp_path / "raw", source), progress=False)
    assert [(a.artist, a.listed, a.downloaded, a.complete) for a in report.artists] == [
        ("monet", 7, 7, True), ("renoir", 5, 5, True)]
    entries = read_manifest(tmp_path / "raw" / "manifest.jsonl")
    assert len(entries) == 12
    for entry in entries:
        assert (tmp_path / "raw" / entry["file"]).is_file()
        assert entry["file"].startswith(f"{entry['artist']}/{source}-")
        assert set(entry) >= {"artist", "source", "source_id", "title", "year", "image_url", "page_url", "license",
                              "credit", "sha256", "width", "height", "retrieved_at"}
        assert entry["year"] and entry["license"] and entry["credit"]
    assert not list((tmp_path / "raw").rglob("*.tmp"))
    # the tree is what prepare reads, and it carries the provenance through
    summary = prepare(tmp_path / "raw", tmp_path / "processed", PrepareOptions(size=32, min_size=32, min_images=3, workers=1), progress=False)
    assert summary.artists["monet"].kept_paintings == 7


def test_commons_recurses_into_subcategories_once(server: FakeSourceServer, tmp_path: Path) -> None:
    report = fetch([MONET], _options(server, tmp_path / "raw", "commons"), progress=False)
    assert report.artists[0].downloaded == 7  # 4 in the category, 3 in its subcategory, whose link back is not followed
    titles = sorted(e["title"] for e in read_manifest(tmp_path / "raw" / "manifest.jsonl"))
    assert titles == sorted(f"Monet study {i}" for i in range(7))


def test_limit_and_rerun_skips_what_is_stored(server: FakeSourceServer, tmp_path: Path) -> None:
    first = fetch([MONET], _options(server, tmp_path / "raw", "wikiart", limit=4), progress=False)
    assert first.artists[0].downloaded == 4 and not first.artists[0].complete
    second = fetch([MONET], _options(server, tmp_path / "raw", "wikiart"), progress=False)
    assert second.artists[0].downloaded == 3 and second.artists[0].complete
    third = fetch([MONET], _options(server, tmp_path / "raw", "wikiart"), progress=False)
    assert third.artists[0].downloaded == 0 and third.artists[0].skipped == 7
    assert len(read_manifest(tmp_path / "raw" / "manifest.jsonl")) == 7


def test_missing_or_changed_files_are_fetched_again(server: FakeSourceServer, tmp_path: Path) -> None:
    out = tmp_path / "raw"
    fetch([MONET], _options(server, out, "wikiart"), progress=False)
    entries = read_manifest(out / "manifest.jsonl")
    (out / entries[0]["file"]).unlink()
    (out / entries[1]["file"]).write_bytes(b"damaged")
    report = fetch([MONET], _options(server, out, "wikiart"), progress=False)
    assert report.artists[0].refetched == 2
    assert sorted(map(str, _comparable(out)), key=str) == sorted(map(str, [{k: v for k, v in e.items() if k != "retrieved_at"} for e in entries]))
    assert len(read_manifest(out / "manifest.jsonl")) == 7


def test_resume_after_interruption_matches_an_uninterrupted_run(server: FakeSourceServer, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    straight = tmp_path / "straight"
    fetch([MONET, RENOIR], _options(server, straight, "commons"), progress=False)

    interrupted = tmp_path / "interrupted"
    calls = {"n": 0}
    real_get_bytes = PoliteSession.get_bytes

    def dying_get_bytes(self: PoliteSession, url: str, headers: dict | None = None) -> tuple[bytes, str]:
        calls["n"] += 1
        if calls["n"] == 5:  # in the middle of monet's second page
            raise KeyboardInterrupt
        return real_get_bytes(self, url, headers)

    monkeypatch.setattr(PoliteSession, "get_bytes", dying_get_bytes)
    with pytest.raises(KeyboardInterrupt):
        fetch([MONET, RENOIR], _options(server, interrupted, "commons"), progress=False)
    monkeypatch.setattr(PoliteSession, "get_bytes", real_get_bytes)
    assert len(read_manifest(interrupted / "manifest.jsonl")) == 4
    fetch([MONET, RENOIR], _options(server, interrupted, "commons"), progress=False)

    assert _comparable(interrupted) == _comparable(straight)
    files = lambda root: sorted((p.relative_to(root).as_posix(), p.read_bytes()) for p in root.glob("*/*") if p.is_file())  # noqa: E731
    assert files(interrupted) == files(straight)
    assert not list(interrupted.rglob("*.tmp"))


def test_killed_subprocess_resumes_cleanly(server: FakeSourceServer, tmp_path: Path) -> None:
    server.state.faults["/images/"] = ["slow"] * 3  # keep the downloader busy long enough to kill it
    server.state.slow_seconds = 0.6
    out = tmp_path / "raw"
    command = [sys.executable, "-m", "painterly_vae", "fetch", "--source", "wikiart", "--base-url", server.url,
               "--artists", "monet", "--out", str(out), "--min-interval", "0", "--timeout", "5", "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(read_manifest(out / "manifest.jsonl")) < 1:
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=30)
    listed = read_manifest(out / "manifest.jsonl")
    assert all((out / e["file"]).is_file() for e in listed)  # never a line without its image
    assert not [p for p in out.rglob("*") if p.is_file() and p.suffix not in (".jpg", ".jsonl", ".json", ".tmp")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(read_manifest(out / "manifest.jsonl")) == 7
    assert sorted(e["source_id"] for e in read_manifest(out / "manifest.jsonl")) == sorted(f"monet-{i}" for i in range(7))
    assert not list(out.rglob("*.tmp"))  # a temporary file left by the kill is not an image under its final name


def test_transient_errors_are_retried(server: FakeSourceServer, tmp_path: Path) -> None:
    server.state.faults["/w/api.php"] = ["429", "maxlag", "503", "reset"]
    server.state.faults["/images/"] = ["503", "reset", "ok", "429", "ok", "ok", "reset"]  # at most 2 in a row: FAST retries 2
    report = fetch([MONET], _options(server, tmp_path / "raw", "commons"), progress=False)
    assert report.artists[0].downloaded == 7 and not report.artists[0].failed
    assert report.artists[0].complete


def test_timeouts_are_retried_then_counted(server: FakeSourceServer, tmp_path: Path) -> None:
    server.state.slow_seconds = 1.5  # past FAST's 1 s timeout
    server.state.faults["/images/"] = ["slow"]
    report = fetch([RENOIR], _options(server, tmp_path / "raw", "wikiart"), progress=False)
    assert report.artists[0].downloaded == 5
    server.state.persistent_faults["/images/renoir-0"] = "slow"
    report = fetch([RENOIR], _options(server, tmp_path / "raw2", "wikiart"), progress=False)
    assert report.artists[0].downloaded == 4 and dict(report.artists[0].failed) == {"timeout": 1}


def test_persistent_errors_give_up_with_a_counted_failure(server: FakeSourceServer, tmp_path: Path) -> None:
    server.state.persistent_faults["/images/monet-2"] = "503"
    server.state.persistent_faults["/images/monet-3"] = "reset"
    report = fetch([MONET], _options(server, tmp_path / "raw", "wikiart"), progress=False)
    artist = report.artists[0]
    assert artist.downloaded == 5 and sum(artist.failed.values()) == 2
    assert artist.listed == artist.downloaded + artist.skipped + sum(artist.rejected.values()) + sum(artist.failed.values())


def test_an_unreachable_host_stops_the_fetch_at_once(tmp_path: Path) -> None:
    """Connection refused is a wrong address or no network, not a busy server: no backoff, no
    second artist (with these settings, retrying would wait 2 + 4 + 8 + 16 + 32 s per artist)."""
    patient = HttpSettings(min_interval=0.0, retries=5, backoff=2.0)
    options = FetchOptions(source="wikiart", out=tmp_path / "raw", base_url="http://127.0.0.1:9", http=patient)
    started = time.monotonic()
    report = fetch([MONET, RENOIR], options, progress=False)
    assert time.monotonic() - started < 5
    assert report.unreachable and report.requests == 1
    assert [a.artist for a in report.artists] == ["monet"]
    assert report.artists[0].listing_error == "cannot connect: connection refused"


def test_bad_images_are_rejected_with_reasons(tmp_path: Path) -> None:
    works = _works("monet", 3) + [
        FakeWork("monet-html", "Error page", kind="html"),
        FakeWork("monet-cut", "Cut", kind="truncated"),
        FakeWork("monet-empty", "Empty", kind="empty"),
        FakeWork("monet-frame", "Blocked", kind="placeholder"),
        FakeWork("monet-png", "A PNG", kind="png"),
        FakeWork("monet-0", "The same id listed twice"),
    ]
    with FakeSourceServer(FakeState(works={"monet": works}, page_size=4)) as server:
        report = fetch([MONET], _options(server, tmp_path / "raw", "wikiart"), progress=False)
    artist = report.artists[0]
    assert dict(artist.rejected) == {"not-an-image": 1, "truncated": 1, "empty": 1, "placeholder": 1}
    assert artist.downloaded == 4 and artist.skipped == 1
    assert any(e["file"].endswith(".png") for e in read_manifest(tmp_path / "raw" / "manifest.jsonl"))


def test_commons_skips_details_and_other_artists(tmp_path: Path) -> None:
    works = _works("monet", 2) + [FakeWork("monet-d", "Detail", kind="detail"), FakeWork("monet-x", "Copy", kind="other-artist")]
    with FakeSourceServer(FakeState(works={"monet": works})) as server:
        report = fetch([MONET], _options(server, tmp_path / "raw", "commons"), progress=False)
    assert report.artists[0].downloaded == 2
    assert dict(report.artists[0].rejected) == {"detail, crop or other non-painting": 1, "credited to another artist": 1}


def test_duplicate_content_is_rejected(tmp_path: Path) -> None:
    works = _works("monet", 2) + [FakeWork("monet-0-copy", "The same photograph again", picture_of="monet-0")]
    with FakeSourceServer(FakeState(works={"monet": works})) as server:
        report = fetch([MONET], _options(server, tmp_path / "raw", "wikiart"), progress=False)
    assert report.artists[0].downloaded == 2 and dict(report.artists[0].rejected) == {"duplicate": 1}


def test_minimum_interval_is_respected_on_the_server_side(server: FakeSourceServer, tmp_path: Path) -> None:
    polite = HttpSettings(min_interval=0.15, timeout=2.0, retries=1, backoff=0.05)
    fetch([RENOIR], _options(server, tmp_path / "raw", "wikiart", http=polite), progress=False)
    times = [t for t, _ in server.state.log]
    assert len(times) >= 7
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.14, gaps


def test_empty_listing(server: FakeSourceServer, tmp_path: Path) -> None:
    nobody = Artist("nobody", "No Body", None, "Paintings by nobody", "nobody")
    for source in ("commons", "wikiart"):
        report = fetch([nobody], _options(server, tmp_path / source, source), progress=False)
        assert report.artists[0].listed == 0 and report.artists[0].complete and report.artists[0].reached


def test_dry_run_lists_without_downloading(server: FakeSourceServer, tmp_path: Path) -> None:
    report = fetch([MONET], _options(server, tmp_path / "raw", "wikiart", dry_run=True, limit=5), progress=False)
    assert len(report.artists[0].would_fetch) == 5
    assert not (tmp_path / "raw").exists() or not list((tmp_path / "raw").rglob("*.jpg"))


@pytest.mark.parametrize("nasty", ["../../etc/passwd", "a/b\\c", "Ça été «peint» 🎨", "x" * 300, ".hidden", "..", "CON"])
def test_file_names_are_safe_whatever_the_source_says(nasty: str, tmp_path: Path) -> None:
    name = safe_id(nasty)
    assert name and len(name) <= 80 and "/" not in name and "\\" not in name and not name.startswith(".")
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    assert safe_id(nasty + "!") != name  # different ids stay different


def test_nasty_ids_and_titles_end_up_inside_the_artist_folder(tmp_path: Path) -> None:
    works = [FakeWork("../../escape", "../../escape"), FakeWork("é/" + "y" * 300, "t/" * 200), FakeWork("..", "..")]
    with FakeSourceServer(FakeState(works={"monet": works})) as server:
        report = fetch([MONET], _options(server, tmp_path / "raw", "wikiart"), progress=False)
    assert report.artists[0].downloaded == 3
    stored = [p for p in (tmp_path / "raw").rglob("*") if p.is_file() and p.suffix == ".jpg"]
    assert len(stored) == 3 and all(p.parent == tmp_path / "raw" / "monet" for p in stored)


def test_artists_from_names_slugs_and_files(tmp_path: Path) -> None:
    assert [a.slug for a in resolve_artists(None)] == [
        "claude-monet", "eugene-boudin", "edouard-manet", "charles-gleyre", "pierre-auguste-renoir", "alfred-sisley"]
    assert [a.slug for a in resolve_artists(["Edouard Manet", "claude-monet,Berthe Morisot"])] == [
        "edouard-manet", "claude-monet", "berthe-morisot"]
    listing = tmp_path / "artists.txt"
    listing.write_text("Alfred Sisley\n# a comment\nÉdouard Manet\n")
    assert [a.slug for a in resolve_artists([f"@{listing}"])] == ["alfred-sisley", "edouard-manet"]
    assert resolve_artists(["Berthe Morisot"])[0].commons_category == "Paintings by Berthe Morisot"


def test_cli_fetch_prints_a_table_and_exit_codes(server: FakeSourceServer, tmp_path: Path) -> None:
    base = [sys.executable, "-m", "painterly_vae", "fetch", "--source", "wikiart", "--artists", "monet,renoir",
            "--out", str(tmp_path / "raw"), "--min-interval", "0", "--no-progress"]
    ok = subprocess.run(base + ["--base-url", server.url], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "listed" in ok.stdout and "downloaded" in ok.stdout and "monet" in ok.stdout
    down = subprocess.run(base + ["--base-url", "http://127.0.0.1:9", "--retries", "0"], capture_output=True, text=True, timeout=120)
    assert down.returncode == 1 and "could not reach wikiart" in down.stderr
    bad = subprocess.run(base + ["--source", "flickr"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    config = tmp_path / "sources.toml"
    config.write_text(f'[wikiart]\nbase_url = "{server.url}"\n[http]\nmin_interval = 0.0\n')
    dry_out = ["--out", str(tmp_path / "dry"), "--sources-config", str(config), "--dry-run"]
    dry = subprocess.run(base + dry_out, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0 and "would fetch monet: Monet study 0" in dry.stdout
    assert not (tmp_path / "dry").exists()
    assert json.loads((tmp_path / "raw" / ".fetch-state" / "wikiart" / "monet.json").read_text())["complete"]


def test_the_user_agent_carries_the_users_contact_and_no_invented_one(server: FakeSourceServer, tmp_path: Path) -> None:
    def run(out: str, *args: str, environment: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "painterly_vae", "fetch", "--source", "commons", "--artists", "monet",
                   "--base-url", f"{server.url}/w/api.php", "--out", str(tmp_path / out), "--min-interval", "0",
                   "--limit", "1", "--no-progress", *args]
        env = {k: v for k, v in os.environ.items() if k != CONTACT_ENVIRONMENT} | (environment or {})
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)

    given = run("a", "--contact", "ana@museum.example")
    assert given.returncode == 0, given.stderr
    assert server.state.user_agents == {f"painterly-vae/{__version__} (ana@museum.example) requests/{requests.__version__}"}
    assert "contact" not in given.stderr

    server.state.user_agents.clear()
    from_environment = run("b", environment={CONTACT_ENVIRONMENT: "https://lab.example/art"})
    assert from_environment.returncode == 0, from_environment.stderr
    assert all("(https://lab.example/art)" in agent for agent in server.state.user_agents)

    server.state.user_agents.clear()
    without = run("c")
    assert without.returncode == 0, without.stderr
    assert server.state.user_agents == {f"painterly-vae/{__version__} requests/{requests.__version__}"}
    assert without.stderr.count("no contact given") == 1 and "--contact" in without.stderr
