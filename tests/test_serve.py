"""`painterly-vae serve`: the page in a real browser (Debian's Chromium driven by Playwright),
its routes under bad input and concurrent load, and the command's one-line refusals."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import torch
from images import painting, save, truncated_jpeg
from page_driver import drop
from processes import signal_when_ready

from data_tools.prepare import PrepareOptions, prepare
from data_tools.synthetic import write_synthetic_raw
from painterly_vae.cli.train_command import TrainRequest, run_training
from painterly_vae.evaluation.evaluate import evaluate_run
from painterly_vae.inference.trained_run import open_run
from painterly_vae.serve.server import build_service

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A tiny run of three synthetic painters (evaluated, so the run page has a report),
    served on an ephemeral port of 127.0.0.1 by a real uvicorn in a thread."""
    import uvicorn

    from painterly_vae.serve.app import create_app

    root = tmp_path_factory.mktemp("serve")
    raw = write_synthetic_raw(root / "raw", artists=3, per_artist=24, size=72, seed=9)
    processed = prepare(raw, root / "data", PrepareOptions(size=32, workers=1), progress=False).out
    values = {
        "model.image_size": 32, "model.channels": [16, 32], "model.latent_dim": 8, "training.batch_size": 16,
        "training.steps": 40, "training.eval_every": 40, "training.image_every": 40, "training.checkpoint_every": 40,
        "training.runs_dir": str(root / "runs"), "training.device": "cpu",
    }
    run_training(TrainRequest(data=processed, name="served", values=values, progress=False))
    run = open_run(root / "runs" / "served", torch.device("cpu"))
    evaluate_run(run, progress=False)
    service = build_service(run, progress=False)
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=_free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{server.config.port}"
    yield {"url": url, "raw": raw, "root": root, "service": service, "run": root / "runs" / "served"}
    server.should_exit = True
    thread.join(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium is not installed here (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture()
def page(browser, served: dict[str, object], tmp_path: Path):
    context = browser.new_context(viewport={"width": 1200, "height": 1400})
    opened = context.new_page()
    opened.goto(str(served["url"]))
    opened.wait_for_selector("#collection-map circle", state="attached")
    yield opened
    opened.screenshot(path=str(tmp_path / "last-state.png"), full_page=True)  # kept for a person to look at
    context.close()


def _fresh_painting(served: dict[str, object], tmp_path: Path) -> Path:
    """A painting by painter-2's hand that the run never saw."""
    fresh = write_synthetic_raw(tmp_path / "fresh", artists=3, per_artist=1, size=72, seed=99)
    return sorted((fresh / "painter-2").glob("*.jpg"))[0]


def _assert_full_answer(page, served: dict[str, object], painters: int = 3) -> None:
    page.wait_for_selector("#result:not([hidden])")
    ranks = page.locator("#ranking li").all_inner_texts()
    assert len(ranks) == painters and all(text.strip().endswith("%") for text in ranks)
    assert page.inner_text("#verdict-title").split(": ", 1)[1]
    page.wait_for_function("[...document.querySelectorAll('#evidence img')].length > 0 && "
                           "[...document.querySelectorAll('#evidence img')].every(i => i.complete && i.naturalWidth > 0)")
    crossings = page.locator("#crossings img")
    assert crossings.count() == painters
    assert all(width > 0 for width in page.eval_on_selector_all("#crossings img", "images => images.map(i => i.naturalWidth)"))
    assert page.locator("#answer-map-query").count() == 1  # the painting's point on the map
    assert page.locator("#answer-map circle").count() == len(served["service"].collection) + 1


def test_a_dropped_painting_gets_ranked_painters_evidence_crossings_and_a_point(page, served, tmp_path: Path) -> None:
    drop(page, _fresh_painting(served, tmp_path))
    _assert_full_answer(page, served)
    assert "Probabilities are among these 3 painters only" in page.inner_text("#among")
    assert "no evidence" not in page.inner_text("#likeness")  # the run never saw it
    assert "the run calls a painting unknown below" in page.get_attribute("#likeness", "title")  # the numbers, on hover
    page.screenshot(path=str(tmp_path / "dropped.png"), full_page=True)


def test_the_file_button_works_too_and_marks_a_training_painting(page, served, tmp_path: Path) -> None:
    trained = served["raw"] / served["service"].collection.describe(0)["file"]  # the first training painting's file
    page.set_input_files("#file", str(trained))
    _assert_full_answer(page, served)
    assert "one of the paintings the run trained on: its answer is no evidence" in page.inner_text("#likeness")


def test_a_corrupt_file_is_a_sentence_and_the_page_still_works(page, served, tmp_path: Path) -> None:
    page.set_input_files("#file", str(truncated_jpeg(tmp_path / "cut.jpg")))
    page.wait_for_selector("#error:not([hidden])")
    assert "cut.jpg cannot be attributed: truncated" in page.inner_text("#error")
    page.screenshot(path=str(tmp_path / "refused.png"))
    drop(page, _fresh_painting(served, tmp_path))
    _assert_full_answer(page, served)
    assert page.locator("#error").is_hidden()


def test_the_collection_map_filters_and_asks_again_from_any_painting(page, served, tmp_path: Path) -> None:
    page.click("nav button[data-tab=collection]")
    circles = page.locator("#collection-map circle")
    total = circles.count()
    assert total == len(served["service"].collection)
    page.locator("#filters input").first.uncheck()
    assert 0 < circles.count() < total
    page.locator("#filters input").first.check()
    circles.nth(5).hover()
    page.wait_for_function("document.querySelector('#tooltip img') && document.querySelector('#tooltip img').naturalWidth > 0")
    circles.nth(5).click()
    page.wait_for_selector("#details:not([hidden])")
    assert " by painter-" in page.inner_text("#details")
    page.screenshot(path=str(tmp_path / "collection.png"))
    page.click("#details button")
    _assert_full_answer(page, served)
    assert "one of the paintings the run trained on" in page.inner_text("#likeness")


def test_the_run_page_shows_its_evaluation(page, served, tmp_path: Path) -> None:
    page.click("nav button[data-tab=run]")
    table = page.inner_text("#report-table")
    assert "this run" in table and "colour histogram" in table
    assert "One encoder per painter" in page.inner_text("#run-summary")
    # the plots load after the tab shows: wait until every one has finished, then ask that each decoded
    page.wait_for_function("() => { const images = [...document.querySelectorAll('.plots img')];"
                           " return images.length > 0 && images.every(i => i.complete); }")
    assert all(width > 0 for width in page.eval_on_selector_all(".plots img", "images => images.map(i => i.naturalWidth)"))
    page.screenshot(path=str(tmp_path / "run.png"), full_page=True)


# ---------------------------------------------------------------- the routes under bad input and load
def test_bad_uploads_get_a_sentence_and_a_4xx(served, tmp_path: Path) -> None:
    url = served["url"]
    (tmp_path / "notes.jpg").write_text("not a painting")
    cases = {
        "notes.jpg": ((tmp_path / "notes.jpg").read_bytes(), 422, "not-an-image"),
        "grey.png": (save(painting(1, 80).convert("L").point(lambda _: 128).convert("RGB"), tmp_path / "grey.png").read_bytes(),
                     422, "blank"),
        "empty.jpg": (b"", 400, "empty"),
    }
    for name, (content, status, words) in cases.items():
        response = httpx.post(f"{url}/api/attribute", files={"painting": (name, content)}, timeout=60)
        assert response.status_code == status, (name, response.text)
        assert words in response.json()["error"]
    assert httpx.get(f"{url}/api/thumbnails/100000").status_code == 404
    assert httpx.get(f"{url}/api/plots/..%2F..%2Fcheckpoints%2Flast.pt").status_code == 404
    assert httpx.get(f"{url}/api/plots/confusion.png").status_code == 200
    assert httpx.get(f"{url}/api/collection").status_code == 200  # still serving


def test_an_upload_above_the_cap_is_refused_without_being_read_whole(served, monkeypatch: pytest.MonkeyPatch) -> None:
    from painterly_vae.serve import app, service

    monkeypatch.setattr(app, "MAX_UPLOAD_BYTES", 1000)
    monkeypatch.setattr(service, "MAX_UPLOAD_BYTES", 1000)
    response = httpx.post(f"{served['url']}/api/attribute", files={"painting": ("big.jpg", b"x" * 5000)}, timeout=60)
    assert response.status_code == 413 and "larger than" in response.json()["error"]


def test_concurrent_requests_get_the_same_answers_and_nothing_grows(served, tmp_path: Path) -> None:
    """Sixty attributions, six at a time, of two paintings: each always gets its own answer;
    the uploads leave no file behind and the process's memory does not keep growing."""
    first, second = (sorted((served["raw"] / p).glob("*.jpg"))[3].read_bytes() for p in ("painter-1", "painter-3"))

    def ask(index: int) -> tuple[int, str]:
        content = first if index % 2 else second
        response = httpx.post(f"{served['url']}/api/attribute", files={"painting": (f"{index}.jpg", content)}, timeout=120)
        assert response.status_code == 200, response.text
        return index % 2, response.json()["answer"]["ranking"][0]["artist"]

    uploads_before = sorted(Path(os.environ.get("TMPDIR", "/tmp")).glob("painterly-vae-upload-*"))
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(ask, range(12)))  # warm up
        before = _resident_kb()
        answers = list(pool.map(ask, range(60)))
        after = _resident_kb()
    assert len({artist for kind, artist in answers if kind == 0}) == 1 and len({a for k, a in answers if k == 1}) == 1
    assert after - before < 40_000, (before, after)  # kB
    assert sorted(Path(os.environ.get("TMPDIR", "/tmp")).glob("painterly-vae-upload-*")) == uploads_before


def _resident_kb() -> int:
    """This process's resident memory (the server runs in it, in a thread), from /proc."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


# ---------------------------------------------------------------- the command
def test_a_port_in_use_or_no_run_is_one_line_and_exit_2(served, tmp_path: Path) -> None:
    port = served["url"].rsplit(":", 1)[1]
    taken = subprocess.run([sys.executable, "-m", "painterly_vae", "serve", "--run", str(served["run"]), "--port", port,
                            "--device", "cpu"], capture_output=True, text=True, timeout=300)
    assert taken.returncode == 2 and "Traceback" not in taken.stderr
    assert len(taken.stderr.strip().splitlines()) == 1 and f"cannot listen on 127.0.0.1:{port}" in taken.stderr
    none = subprocess.run([sys.executable, "-m", "painterly_vae", "serve", "--port", str(_free_port())], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, env={k: v for k, v in os.environ.items()
                                                                             if k != "PAINTERLY_VAE_RUNS"})
    assert none.returncode == 2 and "no runs in runs" in none.stderr and len(none.stderr.strip().splitlines()) == 1


def test_paintings_not_on_disk_are_one_line_and_ctrl_c_stops_it_cleanly(served, tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-m", "painterly_vae", "serve", "--run", str(served["run"]), "--data",
                           str(tmp_path / "moved-away"), "--port", str(_free_port()), "--device", "cpu"],
                          capture_output=True, text=True, timeout=300)
    assert gone.returncode == 2 and "Traceback" not in gone.stderr and len(gone.stderr.strip().splitlines()) == 1
    assert "moved-away" in gone.stderr
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "painterly_vae", "serve", "--run", str(served["run"]), "--port",
                               str(port), "--device", "cpu", "--no-progress"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)

    def answering() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/run", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    out, err = signal_when_ready(server, answering, signal.SIGINT, "the server did not start")
    assert server.returncode == 0 and "Traceback" not in err, err[-2000:]
    assert f"at http://127.0.0.1:{port}/ (Ctrl-C stops it)" in out
