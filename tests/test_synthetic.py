"""Synthetic painters: deterministic per seed, distinct per artist, in the raw layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from data_tools.manifest import read_manifest
from data_tools.synthetic import paint, painter_style, write_synthetic_raw


def test_same_seed_same_painting_other_seed_other_painting() -> None:
    style = painter_style(2, seed=5)
    assert style == painter_style(2, seed=5)
    a, b, c = (np.asarray(paint(style, 64, seed=s).image) for s in (1, 1, 2))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_artists_differ_more_between_than_within() -> None:
    """Thumbnail features of one artist's paintings sit closer to each other than to another's."""
    def features(artist: int) -> np.ndarray:
        style = painter_style(artist, seed=0, artists=4)
        return np.stack([
            np.asarray(paint(style, 48, seed=s, square=True).image.resize((8, 8)), float).ravel() for s in range(12)
        ])

    groups = [features(a) for a in range(4)]
    centroids = np.stack([g.mean(0) for g in groups])
    correct = sum(int(np.argmin(((centroids - x) ** 2).sum(1)) == a) for a, g in enumerate(groups) for x in g)
    assert correct / 48 > 0.6  # far above chance (0.25): the artists are separable
    styles = [painter_style(a, 0, 4) for a in range(4)]
    assert len({s.stroke_shape for s in styles}) == 3 and len({s.palette for s in styles}) == 4


def test_raw_layout_with_manifest_and_years(tmp_path: Path) -> None:
    out = write_synthetic_raw(tmp_path / "raw", artists=3, per_artist=4, size=40, seed=2)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["painter-1", "painter-2", "painter-3"]
    files = sorted(out.glob("painter-*/*.jpg"))
    assert len(files) == 12
    entries = read_manifest(out / "manifest.jsonl")
    assert len(entries) == 12
    assert all(e["source"] == "synthetic" and isinstance(e["year"], int) and e["sha256"] for e in entries)
    assert all(str(e["year"]) in f.stem for e, f in zip(sorted(entries, key=lambda e: e["source_id"]), files))
    before = {f: f.read_bytes() for f in files}
    write_synthetic_raw(tmp_path / "raw", artists=3, per_artist=4, size=40, seed=2)  # rerun: nothing new
    assert len(read_manifest(out / "manifest.jsonl")) == 12
    assert all(f.read_bytes() == data for f, data in before.items())
