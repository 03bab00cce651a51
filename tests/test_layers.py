"""The two packages stack: data_tools (getting paintings in, and the base both use: errors,
atomic writes, TOML files, the version) never imports painterly_vae, so it can be read,
tested and reused without the model, and no import cycle can hide between them."""

import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import data_tools
for module in pkgutil.walk_packages(data_tools.__path__, "data_tools."):
    importlib.import_module(module.name)
print(sorted(name for name in sys.modules if name.split(".")[0] == "painterly_vae"))
"""


def test_data_tools_imports_nothing_of_painterly_vae() -> None:
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_version_is_the_installed_distributions() -> None:
    """`--version` and the downloader's User-Agent print the version pyproject.toml gives."""
    from importlib.metadata import version

    import painterly_vae
    from data_tools.http_client import HttpSettings

    assert painterly_vae.__version__ == version("painterly-vae")
    assert HttpSettings().user_agent.startswith(f"painterly-vae/{version('painterly-vae')} ")
