"""Rebuild the pictures under docs/, each from the run and the paintings it shows.

    python experiments/docs_pictures.py --list
    python experiments/docs_pictures.py docs/explore/cross.png [...]                 # from the demo's run
    python experiments/docs_pictures.py docs/serve/answer.png [...] --run RUN --data DIR --painting FILE
    python experiments/docs_pictures.py all --run RUN --data DIR --painting FILE --map-run RUN64

Three kinds of picture:

- **demo**: what the exploration commands draw for the demo's synthetic run. Without
  `--demo-run`, `painterly-vae demo` trains one into a temporary folder first (about 6 minutes on
  two cores).
- **real**: a run on real paintings: the page's screenshots (Debian's Chromium driven by
  Playwright, as tests/test_serve.py does), the reconstructions of the results and the model card's
  failures. `--run` names the run (the docs use `configs/pretrained.toml` on the five painters of
  docs/results.md), `--data` its prepared paintings, `--painting` the file dropped on the page;
  `--map-run` the run whose map docs/exploring.md shows (the paper's model at 64 px).
- **bench**: `docs/precision_curves.png` is bench/precision_curves.py's own output.

Every command is the project's own (`python -m painterly_vae ...`, the bench script) or its public
Python pieces, so a picture shows what a user of that version would see.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the page driver the browser tests use

from page_driver import drop  # noqa: E402


@dataclass(frozen=True)
class Inputs:
    """What the pictures are drawn from; a field is None until a picture needs it."""

    demo_run: Path | None
    run: Path | None
    data: Path | None
    painting: Path | None
    map_run: Path | None


@dataclass(frozen=True)
class Picture:
    kind: str  # "demo", "real" or "bench"
    shows: str
    draw: Callable[[Inputs, Path], None]


def _cli(*args: object) -> None:
    subprocess.run([sys.executable, "-m", "painterly_vae", *map(str, args)], check=True, cwd=ROOT)


def _demo_painting(inputs: Inputs, painter: str, index: int = 0) -> Path:
    """A painting of the demo's raw paintings (the demo writes them beside its runs)."""
    raw = inputs.demo_run.parents[1] / "data" / "raw" / painter
    return sorted(raw.glob("*.jpg"))[index]


def _explore(command: str, *arguments: Callable[[Inputs], object]) -> Callable[[Inputs, Path], None]:
    def draw(inputs: Inputs, out: Path) -> None:
        _cli(command, *(argument(inputs) for argument in arguments), "--run", inputs.demo_run, "--out", out)
    return draw


def _precision_curves(inputs: Inputs, out: Path) -> None:
    subprocess.run([sys.executable, "bench/precision_curves.py", "--out", str(out)], check=True, cwd=ROOT)


def _real_map(inputs: Inputs, out: Path) -> None:
    _cli("map", "--run", inputs.map_run, "--per-artist", 40, "--out", out)


def _reconstructions(inputs: Inputs, out: Path) -> None:
    subprocess.run([sys.executable, "experiments/deep-features/compare_reconstructions.py", str(inputs.run),
                    "--data", str(inputs.data), "--out", str(out), "--labels", "configs/pretrained.toml"],
                   check=True, cwd=ROOT)


def _evaluate_plot(name: str) -> Callable[[Inputs, Path], None]:
    """One of the plots `painterly-vae evaluate` writes for the run's test paintings."""
    def draw(inputs: Inputs, out: Path) -> None:
        _cli("evaluate", "--run", inputs.run, "--no-progress")
        shutil.copyfile(inputs.run / "plots" / name, out)
    return draw


def _failures(inputs: Inputs, out: Path) -> None:
    """Test paintings the run names wrongly, most confident first, each with what it said."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch
    from PIL import Image

    from data_tools.processed import ProcessedData
    from painterly_vae.inference.answers import attribute_files
    from painterly_vae.inference.trained_run import open_run

    data = ProcessedData.open(inputs.data)
    raw = Path(data.index["prepared_with"]["raw"])
    raw = raw if raw.is_absolute() else ROOT / raw
    files = [(artist, raw / row["file"]) for artist in data.artists for row in data.rows(artist, "test")]
    run = open_run(inputs.run, torch.device("cpu"))
    answers = attribute_files(run, [path for _, path in files])
    wrong = sorted(((answer.ranked[0][1], artist, path, answer) for (artist, path), answer in zip(files, answers)
                    if answer.ranked and answer.ranked[0][0] != artist), key=lambda item: -item[0])[:8]
    figure, axes = plt.subplots(2, 4, figsize=(12, 7))
    for axis in axes.flat:
        axis.axis("off")
    for axis, (probability, artist, path, answer) in zip(axes.flat, wrong):
        axis.imshow(Image.open(path).convert("RGB"))
        said = "unknown artist; else " if answer.unknown else ""
        axis.set_title(f"by {artist}\nnamed {said}{answer.ranked[0][0]} {probability:.0%}", fontsize=9)
    figure.suptitle(f"The {len(wrong)} most confident wrong names among {len(files)} test paintings")
    figure.tight_layout()
    figure.savefig(out, dpi=80)
    plt.close(figure)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _screenshot(tab: str | None, dropping: bool, refused: bool = False) -> Callable[[Inputs, Path], None]:
    """A screenshot of `painterly-vae serve` on the real run, as a person sees the page."""
    def draw(inputs: Inputs, out: Path) -> None:
        from playwright.sync_api import sync_playwright

        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "painterly_vae", "serve", "--run", str(inputs.run),
                                   "--port", str(port)], cwd=ROOT)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
                page = browser.new_context(viewport={"width": 1150, "height": 1400}).new_page()
                deadline = time.monotonic() + 900  # the first start encodes the collection
                while True:
                    try:
                        page.goto(f"http://127.0.0.1:{port}")
                        break
                    except Exception:
                        if time.monotonic() > deadline or server.poll() is not None:
                            raise
                        time.sleep(2)
                page.wait_for_selector("#collection-map circle", state="attached")
                if dropping:
                    path = inputs.painting if not refused else _long_strip()
                    drop(page, path)
                    page.wait_for_selector("#error:not([hidden])" if refused else "#ranking li")
                    page.wait_for_timeout(1500)  # the evidence and crossings load after the ranking
                if tab:
                    page.click(f"nav button[data-tab={tab}]")
                    page.wait_for_timeout(1500)
                if tab == "collection":  # one painter's paintings hidden, one painting's details open
                    page.locator("#filters input").first.uncheck()
                    page.locator("#collection-map circle").last.click()  # the last drawn lies on top
                    page.wait_for_selector("#details:not([hidden])")
                page.screenshot(path=str(out), full_page=tab != "collection" and not refused)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=60)
    return draw


def _long_strip() -> Path:
    """A file the page refuses: a strip 300 px wide and 20,000 long."""
    from PIL import Image
    path = Path(tempfile.mkdtemp()) / "strip.jpg"
    Image.new("RGB", (300, 20000), (120, 90, 60)).save(path)
    return path


PICTURES: dict[str, Picture] = {
    "docs/serve/answer.png": Picture("real", "the page's answer for --painting", _screenshot(None, dropping=True)),
    "docs/serve/refused.png": Picture("real", "the page refusing a long strip", _screenshot(None, dropping=True, refused=True)),
    "docs/serve/collection.png": Picture("real", "the collection tab, one painter hidden, one painting's details", _screenshot("collection", dropping=False)),
    "docs/serve/run.png": Picture("real", "the run tab with its latest evaluation", _screenshot("run", dropping=False)),
    "docs/results/reconstructions-64.png": Picture("real", "test paintings through their painter's encoder",
                                                   _reconstructions),
    "docs/attribution/baselines.png": Picture("real", "the run's lead over each baseline", _evaluate_plot("baselines.png")),
    "docs/model-card/failures.png": Picture("real", "the most confident wrong names on the test paintings", _failures),
    "docs/explore/map-real-paintings.png": Picture("real", "the map of --map-run's paintings", _real_map),
    "docs/explore/reconstruct.png": Picture("demo", "a painting and its reconstruction",
                                            _explore("reconstruct", lambda i: _demo_painting(i, "painter-1"))),
    "docs/explore/cross.png": Picture("demo", "a painting through every encoder",
                                      _explore("cross", lambda i: _demo_painting(i, "painter-1"))),
    "docs/explore/interpolate.png": Picture("demo", "a path between two painters' paintings",
                                            _explore("interpolate", lambda i: _demo_painting(i, "painter-1"),
                                                     lambda i: _demo_painting(i, "painter-3"))),
    "docs/explore/sample-prior.png": Picture("demo", "samples from the prior",
                                             _explore("sample", lambda i: "--n=16", lambda i: "--seed=0")),
    "docs/explore/sample-painter-2.png": Picture("demo", "samples from painter-2's cluster",
                                                 _explore("sample", lambda i: "--artist=painter-2", lambda i: "--n=8")),
    "docs/explore/map.png": Picture("demo", "the demo's paintings on the map", _explore("map")),
    "docs/precision_curves.png": Picture("bench", "fp32 and bf16 loss curves", _precision_curves),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pictures", nargs="*", help="paths under docs/ (or 'all')")
    parser.add_argument("--list", action="store_true", help="list the pictures and what each shows")
    parser.add_argument("--demo-run", type=Path, help="the demo's run (default: train one with `painterly-vae demo`)")
    parser.add_argument("--run", type=Path, help="a run on real paintings")
    parser.add_argument("--data", type=Path, help="that run's prepared paintings")
    parser.add_argument("--painting", type=Path, help="the painting dropped on the page")
    parser.add_argument("--map-run", type=Path, help="the run whose paintings the real map shows")
    args = parser.parse_args(argv)
    if args.list or not args.pictures:
        for name, picture in PICTURES.items():
            print(f"{name:40s} {picture.kind:6s} {picture.shows}")
        return 0
    names = list(PICTURES) if args.pictures == ["all"] else args.pictures
    unknown = [name for name in names if name not in PICTURES]
    if unknown:
        parser.error(f"no such picture: {', '.join(unknown)} (--list names them)")
    kinds = {PICTURES[name].kind for name in names}
    needed = {"real": ("run", "data")} if "real" in kinds else {}
    missing = [f"--{flag.replace('_', '-')}" for flags in needed.values() for flag in flags if getattr(args, flag) is None]
    if missing:
        parser.error(f"these pictures need {' '.join(missing)}")
    demo_run = args.demo_run
    with tempfile.TemporaryDirectory() as scratch:
        if "demo" in kinds and demo_run is None:
            _cli("demo", "--out", scratch)
            demo_run = max((Path(scratch) / "runs").iterdir(), key=os.path.getmtime)
        inputs = Inputs(demo_run, args.run, args.data, args.painting, args.map_run)
        for name in names:
            out = ROOT / name
            out.parent.mkdir(parents=True, exist_ok=True)
            PICTURES[name].draw(inputs, out)
            print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
