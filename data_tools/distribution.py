"""The installed distribution's version, read from its metadata, so pyproject.toml is its one
source: `painterly-vae --version` and the downloader's User-Agent both print it."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("painterly-vae")
except PackageNotFoundError:  # a source tree used without `pip install` (make install does it)
    VERSION = "0+unknown"
