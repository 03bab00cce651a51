"""A run written by an earlier painterly-vae opens, answers and reads back as it did then.

tests/legacy/ holds a tiny run (three synthetic painters, 32 px) trained, attributed and
evaluated by commit 54369a3, before the package was split into subpackages, with what that
code answered (tests/legacy/make_legacy_runs.sh wrote it). Users keep runs for months: a
refactor that changes a checkpoint key, a stored cluster or a report field must fail here.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from painterly_vae.inference.hard_pairs import most_confused

LEGACY = Path(__file__).parent / "legacy"
REPRESENTATIONS = ("own", "concat", "elbo")


@pytest.fixture()
def legacy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of tests/legacy as the working folder (the run's config names its data as `data`)."""
    for name in ("data", "runs", "paintings"):
        shutil.copytree(LEGACY / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _cli(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "painterly_vae", *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


ROUNDING = 1e-6 + 1e-12  # one unit of the sixth decimal, and the float error of printing it


def _assert_close(actual: object, expected: object, where: str = "", new_keys: bool = False) -> None:
    """Equal JSON, numbers to 1e-6 relative or one unit of the sixth decimal, the places `attribute
    --json` rounds probabilities to (another numpy or torch may move a value across a rounding
    boundary: 0.156013 against 0.156014); with `new_keys`, dicts may hold keys the old ones did not
    (measures added since)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        assert set(expected) <= set(actual) if new_keys else sorted(actual) == sorted(expected), where
        for key in expected:
            _assert_close(actual[key], expected[key], f"{where}.{key}", new_keys)
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for index, (a, e) in enumerate(zip(actual, expected)):
            _assert_close(a, e, f"{where}[{index}]", new_keys)
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert isinstance(actual, (int, float)), where
        assert math.isclose(actual, expected, rel_tol=1e-6, abs_tol=ROUNDING) or (math.isnan(actual) and math.isnan(expected)), \
            f"{where}: {actual} != {expected}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


@pytest.mark.parametrize("representation", REPRESENTATIONS)
def test_an_old_run_attributes_as_it_did(legacy: Path, representation: str) -> None:
    answer = json.loads(_cli("attribute", *sorted(str(p.relative_to(legacy)) for p in (legacy / "paintings").iterdir()),
                             "--run", f"runs/{representation}", "--device", "cpu", "--json"))
    expected = json.loads((LEGACY / "expected" / f"attribute-{representation}.json").read_text())
    _assert_close(answer, expected, new_keys=True)  # answers say more since (warnings, likeness, ...)


def _in_order(lines: list[str], within: list[str]) -> bool:
    """Whether every line of `lines` appears in `within`, in the same order (others may come between)."""
    remaining = iter(within)
    return all(any(line == candidate for candidate in remaining) for line in lines)


def test_an_old_run_evaluates_as_it_did(legacy: Path) -> None:
    """Every number the old code measured, the same; every line it printed, printed again.
    Measures added since (new keys, new lines) may come beside them."""
    printed = _cli("evaluate", "--run", "runs/concat", "--device", "cpu", "--no-progress").splitlines()
    *lines, files = (LEGACY / "expected" / "evaluate-concat.txt").read_text().splitlines()
    assert _in_order(lines, printed)
    report_file, plots = files.split("; plots: ")  # the last line: the report, then every plot it drew
    printed_report_file, printed_plots = printed[-1].split("; plots: ")
    assert printed_report_file == report_file and _in_order(plots.split(", "), printed_plots.split(", "))
    report = json.loads((legacy / "runs" / "concat" / "report.json").read_text())
    expected = json.loads((LEGACY / "expected" / "report-concat.json").read_text())
    assert _in_order(expected.pop("plots"), report.pop("plots"))  # plots drawn since may come beside them
    _assert_close(report, expected, new_keys=True)


def test_an_old_report_prints_as_it_did(capsys: pytest.CaptureFixture[str]) -> None:
    from painterly_vae.cli.evaluation_summary import print_evaluation
    from painterly_vae.evaluation.report import EvaluationReport

    stored = json.loads((LEGACY / "expected" / "report-concat.json").read_text())
    report = EvaluationReport.from_json(stored)
    assert report.to_json() == stored  # read and written back, every key as it was
    print_evaluation(report, Path("runs/concat"))
    printed = capsys.readouterr().out.splitlines(keepends=True)
    added = [line for line in printed if line.startswith("most confused pairs")]  # read from its confusion matrix
    pairs = most_confused(np.array(stored["attribution"]["confusion"]), stored["artists"])
    assert [line.rstrip("\n").endswith("; ".join(pair.describe() for pair in pairs)) for line in added] == [True]
    assert "".join(line for line in printed if line not in added) == (LEGACY / "expected" / "evaluate-concat.txt").read_text()
