"""The documentation a user reads stays what it promises: short where it is a front page, free of
how the project was made, every picture linked and rebuilt by a script, and every command in the
results runnable against today's configs (a key renamed or a config removed fails here, not in a
reader's terminal)."""

from __future__ import annotations

import csv
import re
import shlex
from pathlib import Path

import pytest
from conftest import load_experiment_script

from painterly_vae.cli.parser import build_parser
from painterly_vae.config import load_config, parse_assignment

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
RESULTS = DOCS / "results.md"

# What a user reads: the front page, the docs, the configs, the code and its docstrings.
USER_FACING = [README, ROOT / "CHANGELOG.md", *DOCS.rglob("*.md"), *(ROOT / "configs").glob("*.toml"),
               *(ROOT / "painterly_vae").rglob("*.py"), *(ROOT / "data_tools").rglob("*.py"),
               *(ROOT / "bench").glob("*.py"), ROOT / "Makefile", ROOT / "pyproject.toml"]

# Words that only mean something to whoever made the project.
PROCESS_WORDS = re.compile(r"\bsessions? \d+|\bsession'?s (?:CPU|machine|runs?)\b|\bissues? #\d+"
                           r"|(?<![\w&/'\"-])#\d{1,3}\b")

# Run names of the record that are also ordinary words in code (Python's base64 module).
ORDINARY_WORDS = {"base64"}


def _run_names() -> list[str]:
    with open(ROOT / "experiments" / "runs.tsv", newline="", encoding="utf-8") as table:
        rows = list(csv.reader(table, delimiter="\t"))
    return [row[0] for row in rows[1:] if row and row[0] not in ORDINARY_WORDS]


def _nickname_pattern() -> re.Pattern[str]:
    """A run's short name: a name with a digit anywhere as a word; a plain word only in backticks."""
    names = _run_names()
    coined = [re.escape(name) for name in names if re.search(r"\d", name)]
    plain = [re.escape(name) for name in names if not re.search(r"\d", name)]
    return re.compile(rf"(?<![\w.-])(?:{'|'.join(coined)})(?![\w-])|`(?:{'|'.join(plain)})`")


def test_the_record_lists_its_runs() -> None:
    names = _run_names()
    assert len(names) > 50 and len(set(names)) == len(names)
    assert _nickname_pattern().search("the run ps8pull01-128 was") and not _nickname_pattern().search("ref64-like")


@pytest.mark.parametrize("path", USER_FACING, ids=lambda p: str(p.relative_to(ROOT)))
def test_user_facing_text_speaks_of_the_software_only(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    nicknames = _nickname_pattern()
    found = [f"{path.name}:{number}: {match.group(0)!r}"
             for number, line in enumerate(text.splitlines(), 1)
             for pattern in (PROCESS_WORDS, nicknames) for match in pattern.finditer(line)]
    assert not found, "words about how the project was made (say what the run is instead):\n" + "\n".join(found[:20])


def test_the_process_word_check_catches_what_it_is_for() -> None:
    for line in ("(issue #21, session 31)", "measured in session 27", "see #23 for", "this session's CPU"):
        assert PROCESS_WORDS.search(line), line
    for line in ("a colour #fff", "step 31 of 40", "source_class(session, url)", "docs/results.md#strangers"):
        assert not PROCESS_WORDS.search(line), line


def test_the_front_page_and_the_results_stay_short() -> None:
    readme = README.read_bytes()
    assert len(readme) <= 8000 and readme.count(b"\n") <= 150
    assert len(RESULTS.read_bytes()) <= 40_000


def _linked_pictures() -> dict[Path, Path]:
    """Every picture a markdown file under docs/ or the README shows, with the file showing it."""
    linked = {}
    for page in [README, *DOCS.rglob("*.md")]:
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+\.png)\)", page.read_text(encoding="utf-8")):
            linked[(page.parent / target).resolve()] = page
    return linked


def test_docs_keep_few_small_pictures_each_linked_and_rebuilt_by_its_script() -> None:
    pictures = sorted(path.resolve() for path in DOCS.rglob("*.png"))
    assert 0 < len(pictures) <= 15
    assert sum(path.stat().st_size for path in pictures) < 5 * 1024 * 1024
    linked = _linked_pictures()
    assert set(pictures) <= set(linked), [str(p) for p in pictures if p not in linked]
    assert all(path.is_file() for path in linked), [str(p) for p in linked if not p.is_file()]
    script = load_experiment_script(ROOT / "experiments" / "docs_pictures.py")
    rebuilt = {(ROOT / name).resolve() for name in script.PICTURES}
    assert rebuilt == set(pictures)
    for picture, page in linked.items():  # the page names the script beside the picture
        assert "experiments/docs_pictures.py" in page.read_text(encoding="utf-8"), (picture, page)


def _commands(page: Path) -> list[str]:
    """The shell lines of a page's code blocks, continuation lines joined and comments dropped."""
    lines = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = line.split("  #")[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


@pytest.mark.parametrize("page", [RESULTS, README, DOCS / "model-card.md"], ids=lambda p: p.name)
def test_every_command_on_the_page_runs_against_todays_configs(page: Path) -> None:
    parser = build_parser()
    checked = 0
    for line in _commands(page):
        if not line.startswith(("painterly-vae ", "python ")):
            continue  # make, git and the like
        words = shlex.split(line)
        if words[0] == "painterly-vae":
            args = parser.parse_args(words[1:])
            config = getattr(args, "config", None)
            if config is not None or getattr(args, "assignments", None):
                assert config is None or (ROOT / config).is_file(), line
                load_config(ROOT / config if config else None, args.assignments or [])
            checked += 1
        elif words[0] == "python" and words[1].endswith(".py"):
            assert (ROOT / words[1]).is_file(), line
            checked += 1
    assert checked > 0


def test_the_command_check_fails_on_a_stale_key() -> None:
    with pytest.raises(Exception, match="no_such_key"):
        load_config(ROOT / "configs" / "pretrained.toml", ["loss.no_such_key=1"])
    assert parse_assignment("loss.kl_weight=0.1")[0] == "loss.kl_weight"


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("page", [README, ROOT / "CHANGELOG.md", ROOT / "experiments" / "README.md", *DOCS.glob("*.md")],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_on_the_page_leads_somewhere(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]+))?\)", text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{target}#{anchor}: no such heading")
    assert not broken, broken
