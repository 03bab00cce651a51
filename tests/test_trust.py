"""What an answer says and what it refuses (issue #24): junk pictures get a reason, never a
confident name; every answer says its probabilities are among the run's painters only and how
often strangers pass; the familiarity and the year come in words with their measured error;
a folder ends with a tally and marks the paintings the run has already seen."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY
from images import painting, save
from PIL import Image
from processes import signal_when_ready

from data_tools.painting_checks import check_painting, first_refusal
from data_tools.prepare import PrepareOptions, prepare
from data_tools.synthetic import write_synthetic_raw
from painterly_vae.cli.train_command import TrainRequest, run_training
from painterly_vae.config import LossConfig
from painterly_vae.inference.answers import describe_painters
from painterly_vae.inference.clustering import ArtistClusters
from painterly_vae.inference.dating import YearRegression
from painterly_vae.inference.latents import LatentViews
from painterly_vae.inference.strangers import measure_strangers
from painterly_vae.training.duration import MEASURED_STEPS, DurationEstimate


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three synthetic painters at 32 px (prepared with prepare's default minimum of 64 px), trained briefly."""
    root = tmp_path_factory.mktemp("trust")
    raw = write_synthetic_raw(root / "raw", artists=3, per_artist=30, size=72, seed=5)
    processed = prepare(raw, root / "data", PrepareOptions(size=32, workers=1), progress=False).out
    values = {
        "model.image_size": 32, "model.channels": [16, 32, 64], "model.latent_dim": 16,
        "training.batch_size": 16, "training.steps": 60, "training.eval_every": 60, "training.image_every": 60,
        "training.checkpoint_every": 60, "training.runs_dir": str(root / "runs"), "training.device": "cpu",
    }
    run_training(TrainRequest(data=processed, name="three", values=values, progress=False))
    return {"root": root, "raw": raw, "run": root / "runs" / "three"}


def _attribute(run: dict[str, Path], *paths: Path, json_output: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "painterly_vae", "attribute", *map(str, paths), "--run", str(run["run"]),
               "--device", "cpu", "--no-progress"] + (["--json"] if json_output else [])
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def _noise(width: int, height: int, spread: float, seed: int = 0) -> Image.Image:
    """Grey with Gaussian noise of `spread` (0-255): spread 0 is a flat square."""
    values = 128 + np.random.default_rng(seed).normal(0, spread, (height, width, 3)) if spread else np.full((height, width, 3), 128.0)
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))


def test_junk_is_refused_with_its_reason_and_never_named(run: dict[str, Path], tmp_path: Path) -> None:
    tiny = save(Image.new("RGB", (1, 1), (200, 30, 30)), tmp_path / "one-pixel.png")
    grey = save(_noise(400, 300, 0), tmp_path / "grey.jpg", quality=90)
    strip = save(painting(1, 300).resize((300, 20000)), tmp_path / "strip.jpg", quality=80)
    good = sorted((run["raw"] / "painter-2").glob("*.jpg"))[0]
    result = _attribute(run, tiny, grey, strip, good, json_output=True)
    assert result.returncode == 1  # something was refused
    answers = {Path(a["path"]).name: a for a in json.loads(result.stdout)["paintings"]}
    assert answers["one-pixel.png"]["error"].startswith("too-small")
    assert answers["grey.jpg"]["error"].startswith("blank")
    assert answers["strip.jpg"]["error"].startswith("extreme-aspect")
    for junk in ("one-pixel.png", "grey.jpg", "strip.jpg"):
        assert answers[junk]["artist"] is None and answers[junk]["ranking"] == []
    assert answers[good.name]["error"] is None and answers[good.name]["artist"] is not None
    assert "3 of 4 file(s) refused" in result.stderr

    text = _attribute(run, tiny, grey, strip, good).stdout
    assert f"{grey}: refused: blank" in text and f"{strip}: refused: extreme-aspect (300x20000 is 67:1)" in text


def test_soft_checks_attribute_with_a_visible_warning(run: dict[str, Path], tmp_path: Path) -> None:
    ramp = np.linspace(122, 134, 200)[None, :, None].repeat(200, 0).repeat(3, 2)  # a faint left-to-right wash
    faint = save(Image.fromarray(ramp.astype(np.uint8)), tmp_path / "faint.png")
    wide = save(painting(2, 120).resize((360, 120)), tmp_path / "wide.png")
    result = _attribute(run, faint, wide)
    assert result.returncode == 0, result.stderr
    assert "warning: almost flat (contrast 3." in result.stdout
    assert "warning: 360x120: only its centre square was read (33% of it)" in result.stdout


def test_the_checks_prepare_and_attribute_share() -> None:
    assert check_painting(painting(3, 96)) == []  # a painting passes untouched
    assert first_refusal(check_painting(_noise(64, 64, 0))).reason == "blank"
    assert first_refusal(check_painting(_noise(64, 64, 1))).reason == "blank"  # JPEG-like noise on a flat field
    assert first_refusal(check_painting(_noise(64, 64, 4))) is None
    colour_only = Image.new("RGB", (64, 64), (200, 40, 40))
    colour_only.paste((40, 200, 40), (0, 0, 32, 64))  # red against green of about the same grey
    assert check_painting(colour_only) == []
    assert first_refusal(check_painting(painting(4, 96).resize((900, 100)))).reason == "extreme-aspect"
    assert [f.reason for f in check_painting(painting(4, 96).resize((100, 300)), fit="pad")] == ["elongated"]
    assert "shrunk into a strip" in check_painting(painting(4, 96).resize((100, 300)), fit="pad")[0].detail


def test_prepare_leaves_blank_pictures_and_strips_out_and_counts_them(tmp_path: Path) -> None:
    raw = write_synthetic_raw(tmp_path / "raw", artists=2, per_artist=12, size=72, seed=2)
    save(_noise(100, 100, 0), raw / "painter-1" / "blank.png")
    save(painting(9, 100).resize((100, 1000)), raw / "painter-1" / "strip.png")
    summary = prepare(raw, tmp_path / "data", PrepareOptions(size=32, workers=1), progress=False)
    rejected = summary.artists["painter-1"].rejected
    assert rejected["blank"] == 1 and rejected["extreme-aspect"] == 1
    assert summary.artists["painter-1"].kept_paintings == 12


def test_every_answer_says_among_whom_and_how_often_strangers_pass(run: dict[str, Path]) -> None:
    paintings = sorted((run["raw"] / "painter-1").glob("*.jpg"))[:2] + sorted((run["raw"] / "painter-3").glob("*.jpg"))[:1]
    result = _attribute(run, *paintings)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.match(r"Probabilities are among these 3 painters only: (about \d in 10 paintings|nearly every painting|"
                    r"almost no painting) by painters it never saw pass(es)? as one of them", lines[1]), lines[1]
    # what the threshold means, in one sentence
    assert re.match(r"'unknown artist' means less like these painters than 95% of their own validation paintings are "
                    r"\(so about 5% of theirs are called unknown too\); with each painter left out in turn, it caught "
                    r"\d+% of that painter's paintings\.$", lines[2]), lines[2]
    # the familiarity in words, the numbers only on demand
    assert any(" of their own paintings" in line for line in lines) and "familiarity" not in result.stdout
    # these are the run's own paintings (train, val or test split): the ones it has seen are marked
    assert "* one of the paintings the run" in result.stdout
    tally = lines[-1]
    assert tally.startswith("3 paintings: ") and "the run has already seen (marked *)" in tally

    answer = json.loads(_attribute(run, *paintings, json_output=True).stdout)
    assert answer["among"] == ["painter-1", "painter-2", "painter-3"] and 0 <= answer["strangers_pass_rate"] <= 1
    assert all(p["likeness"] and p["familiarity"] is not None for p in answer["paintings"])
    assert {p["seen_in"] for p in answer["paintings"]} <= {"train", "val", None}


def test_a_painting_the_run_never_saw_is_not_marked(run: dict[str, Path], tmp_path: Path) -> None:
    fresh = write_synthetic_raw(tmp_path / "fresh", artists=3, per_artist=2, size=72, seed=77)
    answer = json.loads(_attribute(run, *sorted(fresh.rglob("*.jpg")), json_output=True).stdout)
    assert [p["seen_in"] for p in answer["paintings"]] == [None] * 6


def test_without_three_painters_the_stranger_rate_is_said_unmeasured() -> None:
    header = describe_painters(Path("runs/two"), ["a", "b"], None)
    assert "not measured for this run (it has fewer than three painters)" in header


def _views(points: np.ndarray) -> LatentViews:
    n = len(points)
    return LatentViews(points[:, None, :].astype(np.float32), np.zeros((n, 1)), np.zeros((n, 1)), np.zeros((n, 0)), np.zeros((n, 0)))


def test_leaving_a_painter_out_measures_how_often_strangers_pass() -> None:
    """Four painters as Gaussian clusters: three far apart, the fourth on top of the first. Left
    out, a far painter is a stranger the others' threshold catches; the twin of painter 0 passes."""
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [12, 0], [0, 12], [0.3, 0.3]])

    def split(per_artist: int) -> tuple[LatentViews, np.ndarray]:
        labels = np.repeat(np.arange(4), per_artist)
        return _views(centres[labels] + rng.normal(0, 1, (len(labels), 2))), labels

    (train, train_labels), (val, val_labels) = split(80), split(40)
    artists = ["near", "far-1", "far-2", "twin"]
    rate = measure_strangers(lambda chosen: ArtistClusters([artists[a] for a in chosen], [0] * len(chosen), LossConfig(),
                                                           "concat"),
                             artists, train, train_labels, val, val_labels)
    assert rate is not None and rate.paintings == 160
    assert rate.per_artist["far-1"] < 0.1 and rate.per_artist["far-2"] < 0.1
    assert rate.per_artist["twin"] > 0.8 and rate.per_artist["near"] > 0.8
    assert rate.pass_rate == pytest.approx(np.mean(list(rate.per_artist.values())))
    assert measure_strangers(lambda chosen: None, artists[:2], train, np.minimum(train_labels, 1), val,
                             np.minimum(val_labels, 1)) is None


def test_the_familiarity_in_words_is_a_share_of_the_painters_own_paintings() -> None:
    clusters = ArtistClusters(["a", "b"], [0, 0], LossConfig(), "concat")
    clusters.familiarity_reference = np.arange(100, dtype=np.float64)  # validation familiarities 0..99
    assert clusters.describe_familiarity(2.5) == "less like these painters than 97% of their own paintings"
    assert clusters.describe_familiarity(79.5) == "as like these painters as 80% of their own paintings are, or more"
    restored = ArtistClusters.from_state_dict({**clusters.state_dict()}, LossConfig())
    assert restored.describe_familiarity(2.5) == clusters.describe_familiarity(2.5)


def test_dating_says_when_it_is_no_better_than_each_painters_usual_year() -> None:
    rng = np.random.default_rng(1)
    points = rng.normal(0, 1, (60, 3))
    years = 1870 + rng.normal(0, 10, 60)  # unrelated to the latents: the regression cannot beat the median
    regression = YearRegression().fit(_views(points[:40]), years[:40])
    regression.calibrate(_views(points[40:]), years[40:], np.full(20, np.median(years[:40])))
    assert regression.beats_floor is False
    assert regression.describe_error().startswith("no better than each painter's usual year: ")
    restored = YearRegression.from_state_dict(regression.state_dict())
    assert restored.describe_error() == regression.describe_error()
    old = YearRegression.from_state_dict({k: v for k, v in regression.state_dict().items()
                                          if k not in ("validation_error", "floor_error")})
    assert "not measured" in old.describe_error()


# ---------------------------------------------------------------- degenerate requests (item 4)
def _train_command(data: Path, runs: Path, *extra: str) -> list[str]:
    sets = [arg for key, value in {**TINY, "training.checkpoint_every": 10**9, "training.eval_every": 10**9,
                                   "training.image_every": 10**9, "training.log_every": 10**9}.items()
            for arg in ("--set", f"{key}={value}")]
    return [sys.executable, "-m", "painterly_vae", "train", "--data", str(data), "--device", "cpu", "--no-progress",
            "--set", f"training.runs_dir={runs}", *sets, *extra]


def test_one_artist_is_refused_before_training(tmp_path: Path) -> None:
    raw = write_synthetic_raw(tmp_path / "raw", artists=1, per_artist=12, size=48, seed=1)
    prepare(raw, tmp_path / "data", PrepareOptions(size=32, min_size=32, workers=1), progress=False)
    result = subprocess.run(_train_command(tmp_path / "data", tmp_path / "runs", "--steps", "5"), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "holds one artist (painter-1)" in result.stderr and "needs at least two" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_training_of_more_than_a_day_says_so_up_front(tiny_data: Path, tmp_path: Path) -> None:
    """A hundred million tiny steps: after its first steps, train says how long in days, then
    goes on until the user stops it (Ctrl-C, which keeps the steps done)."""
    job = subprocess.Popen(_train_command(tiny_data, tmp_path / "runs", "--steps", "100000000", "--name", "long"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []

    def estimated() -> bool:
        lines.append(job.stderr.readline())
        return "this training will take" in lines[-1]

    _, rest = signal_when_ready(job, estimated, signal.SIGINT, "no estimate was printed", wait_s=180)
    warning = lines[-1]
    assert warning.startswith("painterly-vae train: this training will take about ") and " days more at this pace" in warning
    assert "Ctrl-C stops it with the steps done kept" in warning
    assert job.returncode == 130 and "Traceback" not in rest


def test_the_estimate_is_said_only_beyond_a_day() -> None:
    def estimate(seconds_per_step: float, total: int) -> str | None:
        """What the watch says over a session's first steps, each taking `seconds_per_step`."""
        clock = {"now": 0.0}
        watch = DurationEstimate(0, total, tell=None, clock=lambda: clock["now"])
        for step in range(1, MEASURED_STEPS + 3):
            clock["now"] = step * seconds_per_step
            said = watch.after_step(step)
            if said:
                return said
        return None

    assert estimate(1.0, 80_000) is None  # 22 hours
    assert "about 42 hours more at this pace (1 s a step, 149979 steps to go)" in estimate(1.0, 150_000)
    assert "about 11.6 days more" in estimate(10.0, 100_000)
    assert estimate(10_000.0, 21) is None  # too short a session to time


def test_dating_falls_back_to_the_attributed_painters_usual_year_when_that_is_better() -> None:
    """Two painters whose years sit far apart while the latents say nothing of the year: the
    regression can only average, the attributed painter's median year is right to a few years;
    calibration chooses the median, and says so."""
    rng = np.random.default_rng(2)
    labels = np.repeat([0, 1], 40)
    years = np.where(labels == 0, 1860.0, 1900.0) + rng.normal(0, 3, 80)
    points = rng.normal(0, 1, (80, 3))  # nothing of the painter or the year
    train, val = np.arange(80) % 2 == 0, np.arange(80) % 2 == 1
    medians = np.array([np.median(years[train & (labels == a)]) for a in (0, 1)])
    regression = YearRegression().fit(_views(points[train]), years[train])
    regression.calibrate(_views(points[val]), years[val], medians[labels[val]], medians, labels[val])
    assert regression.use_medians and regression.validation_error < 5 < regression.regression_error
    np.testing.assert_allclose(regression.predict(_views(points[val]), labels[val]), medians[labels[val]])
    assert regression.describe_error().startswith("the attributed painter's usual year: ")
    restored = YearRegression.from_state_dict(regression.state_dict())
    np.testing.assert_allclose(restored.predict(_views(points[val]), labels[val]), medians[labels[val]])
