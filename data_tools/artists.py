"""The artist table: who the default painters are and what each source calls them.

The paper's six painters, all long dead (their paintings are public domain; the licence
question is about the photographs). Identifiers per source, and how they were checked:

- Commons categories "Paintings by <name>" for Monet, Renoir, Sisley and Manet appear in
  public open-source Commons downloaders (Monet and Sisley with counted subcategories);
  Boudin's and Gleyre's follow the same naming and are unverified here (no internet).
- WikiArt slugs: claude-monet, edouard-manet and alfred-sisley appear in public WikiArt
  scrapers; eugene-boudin and pierre-auguste-renoir are the folder names of the WikiArt-
  derived collection in ../shared/paintings; charles-gleyre is unverified.
- Wikidata: Monet is Q296 (SOURCES.md); the others are left to be resolved when needed.

Any other artist can be named on the command line: the table then guesses the identifiers
from the name (`Artist.from_name`), and `--dry-run` shows whether the source knows them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from data_tools.errors import UsageError


@dataclass(frozen=True)
class Artist:
    slug: str  # folder name under data/raw, e.g. "claude-monet"
    name: str  # display name, e.g. "Claude Monet"
    died: int | None
    commons_category: str  # without the "Category:" prefix
    wikiart_slug: str
    wikidata_id: str | None = None

    @property
    def surname(self) -> str:
        return self.name.split()[-1]

    @classmethod
    def from_name(cls, name: str) -> "Artist":
        """An artist outside the table, with identifiers guessed from the name."""
        slug = slugify(name)
        return cls(slug=slug, name=name.strip(), died=None, commons_category=f"Paintings by {name.strip()}", wikiart_slug=slug)


DEFAULT_ARTISTS = (
    Artist("claude-monet", "Claude Monet", 1926, "Paintings by Claude Monet", "claude-monet", "Q296"),
    Artist("eugene-boudin", "Eugène Boudin", 1898, "Paintings by Eugène Boudin", "eugene-boudin"),
    Artist("edouard-manet", "Édouard Manet", 1883, "Paintings by Édouard Manet", "edouard-manet"),
    Artist("charles-gleyre", "Charles Gleyre", 1874, "Paintings by Charles Gleyre", "charles-gleyre"),
    Artist("pierre-auguste-renoir", "Pierre-Auguste Renoir", 1919, "Paintings by Pierre-Auguste Renoir", "pierre-auguste-renoir"),
    Artist("alfred-sisley", "Alfred Sisley", 1899, "Paintings by Alfred Sisley", "alfred-sisley"),
)


def slugify(text: str) -> str:
    """ASCII, lower case, words joined by '-': "Édouard Manet" -> "edouard-manet"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def resolve_artists(specs: list[str] | None) -> list[Artist]:
    """Artists from names or slugs (or `@file` / a path to a file with one per line);
    the paper's six when nothing is given. Duplicates are dropped, order kept."""
    if not specs:
        return list(DEFAULT_ARTISTS)
    names: list[str] = []
    for spec in specs:
        path = Path(spec[1:] if spec.startswith("@") else spec)
        if spec.startswith("@") or (path.suffix in (".txt", ".csv") and path.is_file()):
            if not path.is_file():
                raise UsageError(f"--artists file {path} does not exist")
            names += [line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
        else:
            names += [part.strip() for part in spec.split(",")]
    known = {slugify(a.name): a for a in DEFAULT_ARTISTS} | {a.slug: a for a in DEFAULT_ARTISTS}
    artists: list[Artist] = []
    for name in filter(None, names):
        artist = known.get(slugify(name)) or Artist.from_name(name)
        if not artist.slug:
            raise UsageError(f"--artists: '{name}' has no letters or digits to name a folder after")
        if artist not in artists:
            artists.append(artist)
    if not artists:
        raise UsageError("--artists named nobody")
    return artists
