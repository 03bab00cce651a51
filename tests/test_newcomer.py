"""What a new user runs into, from the command line: sizes that follow the data, a foreign folder
evaluated whole, stale data and other mistakes in one sentence, output piped into `head`, the
demo's next commands, resume messages."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY

from data_tools.prepare import PrepareOptions, prepare
from data_tools.synthetic import write_synthetic_raw
from painterly_vae.cli.demo import next_commands
from painterly_vae.inference.answers import Attribution

SIZELESS = {name: value for name, value in TINY.items() if name != "model.image_size"}
SIZELESS_SETS = [arg for name, value in SIZELESS.items() for arg in ("--set", f"{name}={value}")]


def painterly(*args: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "painterly_vae", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, **kwargs)


def one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw paintings of three painters, prepared at 32 px (not the default 256), and a run
    trained on them without saying the size; a second run on two of the painters."""
    root = tmp_path_factory.mktemp("newcomer")
    write_synthetic_raw(root / "raw", artists=3, per_artist=12, size=48, seed=1)
    prepare(root / "raw", root / "data", PrepareOptions(size=32, min_size=32, workers=1), progress=False)
    (root / "raw-two").mkdir()
    for painter in ("painter-1", "painter-2"):
        (root / "raw-two" / painter).symlink_to(root / "raw" / painter)
    prepare(root / "raw-two", root / "data-two", PrepareOptions(size=32, min_size=32, workers=1), progress=False)
    for name, data in (("three", "data"), ("two", "data-two")):
        trained = painterly("train", "--data", data, "--name", name, "--epochs", "2", "--device", "cpu", "--no-progress",
                            *SIZELESS_SETS, cwd=root)
        assert trained.returncode == 0, trained.stderr
    return root


def test_train_follows_the_size_the_data_was_prepared_at(workspace: Path) -> None:
    config = (workspace / "runs" / "three" / "config.toml").read_text()
    assert "image_size = 32" in config  # the data's, not the default 256
    assert "at 32 px" in (workspace / "runs" / "three" / "train.log").read_text()
    chosen = painterly("train", "--data", "data", "--steps", "1", *SIZELESS_SETS, "--set", "model.image_size=64",
                       cwd=workspace)
    one_line_error(chosen, "the data at data is 32 px but model.image_size is 64")


def test_evaluate_takes_all_of_a_folder_the_run_never_saw(workspace: Path) -> None:
    write_synthetic_raw(workspace / "new-paintings", artists=3, per_artist=7, size=48, seed=5)
    result = painterly("evaluate", "--run", "three", "--data", "new-paintings", "--device", "cpu", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "on all of new-paintings: 21 paintings" in result.stdout
    report = json.loads((workspace / "runs" / "three" / "evaluations" / "new-paintings-all" / "report.json").read_text())
    assert report["split"] == "all" and report["paintings"]["known"] == 21
    assert report["data"] == "new-paintings"  # the folder the user gave, not the cached copy
    test_only = painterly("evaluate", "--run", "three", "--data", "new-paintings", "--split", "test", "--device", "cpu",
                          cwd=workspace)
    assert test_only.returncode == 0, test_only.stderr
    assert "on the test split of new-paintings" in test_only.stdout
    # the run's own raw paintings are not a test set: their test split is what is evaluated
    own = painterly("evaluate", "--run", "three", "--data", "raw", "--device", "cpu", cwd=workspace)
    assert own.returncode == 0, own.stderr
    assert "on the test split of raw" in own.stdout


def test_stale_data_and_mismatched_runs_are_one_sentence(workspace: Path) -> None:
    other = painterly("evaluate", "--run", "three", "--baseline", "two", "--device", "cpu", cwd=workspace)
    one_line_error(other, "--baseline two knows painter-1, painter-2, the run knows painter-1, painter-2, painter-3")

    refused = painterly("prepare", "raw", "--out", "data", "--size", "64", "--min-size", "32", "--no-progress",
                        cwd=workspace)
    one_line_error(refused, "data holds paintings prepared at 32 px", "--overwrite")
    assert json.loads((workspace / "data" / "index.json").read_text())["image_size"] == 32  # nothing lost

    stale = workspace / "stale"
    subprocess.run(["cp", "-r", str(workspace / "data"), str(stale)], check=True)
    again = painterly("prepare", "raw", "--out", "stale", "--size", "64", "--min-size", "32", "--overwrite",
                      "--no-progress", cwd=workspace)
    assert again.returncode == 0, again.stderr
    for command in (["map"], ["cluster"], ["evaluate"]):
        result = painterly(*command, "--run", "three", "--data", "stale", "--device", "cpu", cwd=workspace)
        one_line_error(result, "is 64 px but run three reads 32 px", "prepared again at another --size")


def test_output_piped_into_a_reader_that_stops_is_no_traceback(workspace: Path) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # like `| head` once it has read enough: every write now fails
    paintings = sorted(str(p) for p in (workspace / "raw").rglob("*.jpg"))
    try:
        result = subprocess.run([sys.executable, "-m", "painterly_vae", "attribute", *paintings, "--run", "three",
                                 "--device", "cpu"], cwd=workspace, stdout=writer, stderr=subprocess.PIPE, text=True,
                                timeout=300)
    finally:
        os.close(writer)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    assert result.returncode == 141  # as a Unix tool stopped by SIGPIPE


def test_attribute_says_which_run_answered_and_what_unknown_means(workspace: Path) -> None:
    painting = sorted((workspace / "raw" / "painter-2").glob("*.jpg"))[0]
    result = painterly("attribute", str(painting), "--run", "three", "--device", "cpu", cwd=workspace)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"Run {Path('runs') / 'three'} (3 artists: painter-1, painter-2, painter-3)."
    assert re.match(r"Probabilities are among these 3 painters only: (about \d in 10 paintings|nearly every painting|"
                    r"almost no painting) by painters it never saw pass(es)? as one of them", lines[1]), lines[1]
    assert lines[2].startswith("'unknown artist' means less like these painters than 95% of their own validation")
    assert re.match(r"Years: .*\d+ years off on average on validation paintings", lines[3]), lines[3]  # said once, here
    assert lines[4].startswith(f"{painting}: painter-") and lines[4].endswith("%")


def test_runs_are_found_from_any_folder_once_the_variable_names_them(workspace: Path, tmp_path: Path) -> None:
    painting = sorted((workspace / "raw" / "painter-2").glob("*.jpg"))[0]
    lost = painterly("attribute", str(painting), "--device", "cpu", cwd=tmp_path,
                     env={k: v for k, v in os.environ.items() if k != "PAINTERLY_VAE_RUNS"})
    one_line_error(lost, "no runs in runs: train one first", "or set PAINTERLY_VAE_RUNS to where they are")
    found = painterly("attribute", str(painting), "--run", "three", "--device", "cpu", cwd=tmp_path,
                      env={**os.environ, "PAINTERLY_VAE_RUNS": str(workspace / "runs")})
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith(f"Run {workspace / 'runs' / 'three'} (3 artists")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    missing = painterly("attribute", str(painting), "--run", "nine", "--device", "cpu", cwd=tmp_path,
                        env={**os.environ, "PAINTERLY_VAE_RUNS": str(elsewhere)})
    one_line_error(missing, f"no run named 'nine' in {elsewhere} ($PAINTERLY_VAE_RUNS) or runs")
    explicit = painterly("attribute", str(painting), "--run", "three", "--runs-dir", str(workspace / "runs"), "--device",
                         "cpu", cwd=tmp_path, env={**os.environ, "PAINTERLY_VAE_RUNS": str(elsewhere)})
    assert explicit.returncode == 0, explicit.stderr


def test_an_unknown_answer_says_what_unknown_means() -> None:
    unknown = Attribution(Path("p.jpg"), [("painter-2", 0.99), ("painter-1", 0.01)], unknown=True, familiarity=-41.5,
                          threshold=-12.0, year=1874.4, year_interval=(1868.0, 1881.0))
    unknown.likeness = "less like these painters than 99% of their own paintings"
    unknown.dating_error = "no better than each painter's usual year: 12 years off on average on validation paintings"
    assert unknown.describe().splitlines() == [
        "p.jpg: unknown artist; if it had to be one of the run's painters: painter-2 99%, painter-1 1%",
        "    less like these painters than 99% of their own paintings: below what the run accepts",
        "    painted about 1874 (1868-1881)"]
    assert unknown.describe_year() == ("painted about 1874 (1868-1881; no better than each painter's usual year: 12 "
                                       "years off on average on validation paintings)")  # alone, as on the page
    assert "(familiarity -41.5, the run's threshold -12)" in unknown.describe(verbose=True)
    known = Attribution(Path("p.jpg"), [("painter-2", 0.99)], familiarity=-3.0, threshold=-12.0, seen="train")
    assert known.describe("p.jpg (by painter-2)").splitlines() == [
        "p.jpg (by painter-2): painter-2 99%", "    * one of the paintings the run trained on: this answer is no evidence"]


def test_the_demos_next_commands_work_as_printed(workspace: Path) -> None:
    painting = sorted((workspace / "raw" / "painter-1").glob("*.jpg"))[0]
    commands = next_commands(workspace / "runs" / "three", painting)
    assert all("--run" in command for command in commands if command.startswith("painterly-vae"))
    for command in commands[:2]:  # attribute and reconstruct, exactly as a user would paste them
        words = shlex.split(command)
        assert words[0] == "painterly-vae"
        result = painterly(*words[1:], "--device", "cpu", cwd=Path("/"))
        assert result.returncode == 0, (command, result.stderr)


def test_resume_with_a_smaller_target_names_both(workspace: Path) -> None:
    result = painterly("train", "--resume", "--name", "three", "--epochs", "1", cwd=workspace)
    one_line_error(result, "run three is already at step", "--epochs 1 trains nothing", "--epochs above 2")
