"""The two packages stack: data_tools (getting paintings in, and the base both use: errors,
atomic writes, TOML files, the version) never imports painterly_vae, so it can be read,
tested and reused without the model, and no import cycle can hide between them."""

import ast
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

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


# painterly_vae's layers, lowest first: a module may import its own layer and the ones below,
# never one above (the top-level modules, config, errors and feature_networks, are the base).
LAYERS = ("base", "runtime", "model", "inference", "training", "evaluation", "serve", "cli", "entry")
PACKAGE = Path(__file__).resolve().parent.parent / "painterly_vae"


def _modules() -> dict[str, Path]:
    return {".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts): path for path in PACKAGE.rglob("*.py")}


def _layer(module: str) -> str:
    parts = module.split(".")
    if parts[-1] == "__main__":
        return "entry"
    return parts[1] if len(parts) > 2 else "base"


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """painterly_vae modules `path` imports anywhere (at the top, in a function, under TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found |= {name for name in names if name in modules} or ({node.module} & modules.keys())
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
    return {name for name in found if not name.endswith("__init__") and name != "painterly_vae"}


def test_no_module_imports_a_layer_above_its_own() -> None:
    modules = {name.removesuffix(".__init__"): path for name, path in _modules().items()}
    upward = [f"{name} ({_layer(name)}) imports {imported} ({_layer(imported)})"
              for name, path in modules.items() for imported in _imports(path, modules)
              if LAYERS.index(_layer(imported)) > LAYERS.index(_layer(name))]
    assert not upward, upward
    assert {_layer(name) for name in modules} == set(LAYERS)  # every layer is a folder that exists


def test_no_modules_import_each_other_in_a_circle() -> None:
    modules = {name.removesuffix(".__init__"): path for name, path in _modules().items()}
    graph = {name: _imports(path, modules) for name, path in modules.items()}
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            raise AssertionError("import circle: " + " -> ".join(trail[trail.index(name):] + [name]))
        if name not in done:
            for imported in sorted(graph[name]):
                visit(imported, trail + [name])
            done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_pyproject_names_every_package() -> None:
    """A user's `pip install .` installs the packages pyproject.toml lists and no others."""
    root = PACKAGE.parent
    with open(root / "pyproject.toml", "rb") as stream:
        listed = set(tomllib.load(stream)["tool"]["setuptools"]["packages"])
    on_disk = {".".join(init.parent.relative_to(root).parts) for package in ("painterly_vae", "data_tools")
               for init in (root / package).rglob("__init__.py")}
    on_disk.add("painterly_vae.configs")  # configs/ ships inside the package (package-dir)
    assert listed == on_disk
