"""`pip install .` as a user without the repository does it: a built wheel, not an editable
install (which would find a subpackage that pyproject.toml forgot to list), runs the demo
from an empty folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_built_wheel_runs_the_demo(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # torch and the rest come from this environment (installing them again takes 5 GB); a
    # path line in a .pth file adds the folder without running its .pth files, so this
    # environment's editable painterly_vae is not seen.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    source = tmp_path / "source"  # a copy: building in the repository would leave build/ there, stale files and all
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "painterly_vae", "data_tools", "configs"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(source)], check=True, timeout=600,
                   env={**os.environ, "PIP_NO_INPUT": "1"}, cwd=tmp_path)
    # the package index shows the README as the description, and the licence travels with it
    (info,) = site.glob("painterly_vae-*.dist-info")
    metadata = (info / "METADATA").read_text(encoding="utf-8")
    assert "Description-Content-Type: text/markdown" in metadata
    assert (ROOT / "README.md").read_text(encoding="utf-8").strip() in metadata
    assert "MIT License" in "".join(path.read_text(encoding="utf-8") for path in info.rglob("LICENSE*"))
    empty = tmp_path / "somewhere"
    empty.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    located = subprocess.run([str(python), "-c", "import painterly_vae; print(painterly_vae.__file__)"],
                             capture_output=True, text=True, cwd=empty, env=env, timeout=120)
    assert located.returncode == 0, located.stderr
    assert Path(located.stdout.strip()).is_relative_to(site)  # the installed copy, not the repository's
    page = subprocess.run([str(python), "-c", "from painterly_vae.serve.app import STATIC; "
                           "print(all((STATIC / name).is_file() for name in ('index.html', 'app.js', 'style.css')))"],
                          capture_output=True, text=True, cwd=empty, env=env, timeout=120)
    assert page.stdout.strip() == "True", page.stderr  # the page's files ship inside the package
    demo = subprocess.run([str(python), "-m", "painterly_vae", "demo", "--steps", "40", "--no-progress", "--device", "cpu"],
                          capture_output=True, text=True, cwd=empty, env=env, timeout=900)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "Attributing" in demo.stdout and (empty / "demo" / "runs").is_dir()
    assert "How it did: on " in demo.stdout and "a colour histogram, which sees the palette" in demo.stdout
