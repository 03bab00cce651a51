"""prepare: a raw tree of good and bad files -> processed arrays, with every file accounted for."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from images import bomb_png, painting, save, sixteen_bit_png, truncated_jpeg
from PIL import Image

from data_tools.decode import load_rgb
from data_tools.geometry import fit_image
from data_tools.prepare import PrepareOptions, prepare, title_and_year
from data_tools.processed import SPLITS, ProcessedData
from painterly_vae.errors import UsageError

SMALL = dict(size=32, min_size=32, min_images=3)


def _artist(root: Path, name: str, first_seed: int, count: int, artist: int = 0) -> None:
    for i in range(count):
        save(painting(first_seed + i, 80, artist), root / name / f"work-{first_seed + i}-18{60 + i}.jpg", quality=92)


@pytest.fixture()
def messy_raw(tmp_path: Path) -> Path:
    """Two artists of good paintings plus one of every troublesome kind of file."""
    raw = tmp_path / "raw"
    _artist(raw, "monet", 100, 8, artist=0)
    _artist(raw, "renoir", 200, 8, artist=1)
    bad = raw / "monet"
    truncated_jpeg(bad / "truncated.jpg", seed=900)
    (bad / "error-page.jpg").write_text("<html>503 Service Unavailable</html>")
    save(Image.new("RGB", (1, 1), (9, 9, 9)), bad / "dot.png")
    bomb_png(bad / "bomb.png")
    shutil.copy(raw / "monet" / "work-100-1860.jpg", bad / "copy-of-100.jpg")  # exact duplicate
    original = Image.open(raw / "monet" / "work-101-1861.jpg")
    original.resize((original.width * 3 // 2, original.height * 3 // 2)).save(bad / "bigger-101.png")  # near duplicate
    shutil.copy(raw / "monet" / "work-102-1862.jpg", raw / "renoir" / "misfiled.jpg")  # filed under both
    rgba = painting(300, 80, 0).convert("RGBA")
    rgba.putalpha(200)
    save(rgba, bad / "alpha.png")
    save(painting(301, 80, 0).convert("CMYK"), bad / "cmyk.jpg", quality=92)
    save(painting(302, 80, 0).convert("P", palette=Image.Palette.ADAPTIVE), bad / "palette.gif")
    sixteen_bit_png(bad / "deep-16bit.png")
    (raw / "monet" / ".hidden.jpg").write_bytes(b"ignored")
    (raw / "monet" / "partial.jpg.tmp").write_bytes(b"ignored")
    return raw


def test_every_file_is_kept_or_rejected_with_its_reason(messy_raw: Path, tmp_path: Path) -> None:
    summary = prepare(messy_raw, tmp_path / "out", PrepareOptions(**SMALL, workers=1), progress=False)
    monet, renoir = summary.artists["monet"], summary.artists["renoir"]
    assert monet.found == 8 + 10 and renoir.found == 9
    assert dict(monet.rejected) == {
        "truncated": 1, "not-an-image": 1, "too-small": 1, "too-large": 1,
        "duplicate": 1, "near-duplicate": 1, "conflicting-artists": 1,
    }
    assert dict(renoir.rejected) == {"conflicting-artists": 1}
    assert monet.kept_paintings == 8 - 1 + 4  # 102 went to the conflict; alpha, cmyk, palette, 16-bit kept
    assert renoir.kept_paintings == 8
    assert sum(monet.per_split.values()) == monet.kept_paintings
    assert len(summary.conflicts) == 1 and summary.conflicts[0]["artists"] == "monet, renoir"

    data = ProcessedData.open(tmp_path / "out")
    assert data.artists == ["monet", "renoir"] and data.image_size == 32
    for split in SPLITS:
        array = data.array("monet", split)
        assert array.dtype == np.uint8 and array.shape[1:] == (3, 32, 32)
    rows = [r for s in SPLITS for r in data.rows("monet", s)]
    assert {r["file"] for r in rows} >= {"monet/alpha.png", "monet/cmyk.jpg", "monet/palette.gif", "monet/deep-16bit.png"}
    kept_101 = [r for r in rows if r["file"] in ("monet/work-101-1861.jpg", "monet/bigger-101.png")]
    assert [r["file"] for r in kept_101] == ["monet/bigger-101.png"]  # the larger copy is the one kept
    recorded = data.index["prepared_with"]
    assert recorded["options"]["size"] == 32 and recorded["conflicts"]


def test_manifest_entries_are_carried_into_the_index(tmp_path: Path) -> None:
    from data_tools.synthetic import write_synthetic_raw

    raw = write_synthetic_raw(tmp_path / "raw", artists=2, per_artist=5, size=48)
    prepare(raw, tmp_path / "out", PrepareOptions(**SMALL, workers=1), progress=False)
    row = ProcessedData.open(tmp_path / "out").rows("painter-1", "train")[0]
    assert row["source"] == "synthetic" and row["license"].startswith("CC0") and isinstance(row["year"], int)
    assert row["sha256"] and row["file"].startswith("painter-1/")


def test_title_and_year_from_file_names() -> None:
    assert title_and_year(Path("the-bridge-at-argenteuil-1874.jpg")) == ("the bridge at argenteuil", 1874)
    assert title_and_year(Path("Impressionism__claude-monet_agapanthus-1917(1).jpg"))[1] == 1917
    assert title_and_year(Path("water-lilies.jpg")) == ("water lilies", None)


def test_parallel_and_serial_give_identical_arrays_and_splits(messy_raw: Path, tmp_path: Path) -> None:
    serial = prepare(messy_raw, tmp_path / "serial", PrepareOptions(**SMALL, workers=1), progress=False)
    parallel = prepare(messy_raw, tmp_path / "parallel", PrepareOptions(**SMALL, workers=2), progress=False)
    a, b = ProcessedData.open(serial.out), ProcessedData.open(parallel.out)
    assert a.index["rows"] == b.index["rows"]
    for artist in a.artists:
        for split in SPLITS:
            assert np.array_equal(a.array(artist, split), b.array(artist, split))


def test_splits_are_deterministic_and_stratified(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    _artist(raw, "a", 0, 30, artist=0)
    _artist(raw, "b", 100, 20, artist=1)
    first = prepare(raw, tmp_path / "one", PrepareOptions(**SMALL, workers=1), progress=False)
    shutil.copytree(raw, tmp_path / "elsewhere")  # another folder, other mtimes: same content
    second = prepare(tmp_path / "elsewhere", tmp_path / "two", PrepareOptions(**SMALL, workers=1), progress=False)
    one, two = ProcessedData.open(first.out), ProcessedData.open(second.out)
    for split in SPLITS:
        assert [r["sha256"] for r in one.rows("a", split)] == [r["sha256"] for r in two.rows("a", split)]
    assert first.artists["a"].per_split == {"train": 24, "val": 3, "test": 3}
    assert first.artists["b"].per_split == {"train": 16, "val": 2, "test": 2}


def test_kept_near_duplicates_land_in_the_same_split(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    _artist(raw, "a", 0, 12)
    for i in range(12):  # a larger re-encoding of every painting
        original = Image.open(raw / "a" / f"work-{i}-18{60 + i}.jpg")
        original.resize((original.width * 3 // 2, original.height * 3 // 2)).save(raw / "a" / f"copy-{i}.png")
    summary = prepare(raw, tmp_path / "out", PrepareOptions(**SMALL, keep_near_duplicates=True, workers=1), progress=False)
    assert summary.artists["a"].kept_paintings == 24
    data = ProcessedData.open(summary.out)
    split_of = {r["file"]: s for s in SPLITS for r in data.rows("a", s)}
    for i in range(12):
        assert split_of[f"a/work-{i}-18{60 + i}.jpg"] == split_of[f"a/copy-{i}.png"]
    assert len({split_of[f"a/copy-{i}.png"] for i in range(12)}) == 3  # and the groups spread over all splits


def test_rerun_is_a_no_op_until_something_changes(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    _artist(raw, "a", 0, 6)
    _artist(raw, "b", 50, 6, artist=1)
    options = PrepareOptions(**SMALL, workers=1)
    assert not prepare(raw, tmp_path / "out", options, progress=False).up_to_date
    index = tmp_path / "out" / "index.json"
    stamp = index.stat().st_mtime_ns
    again = prepare(raw, tmp_path / "out", options, progress=False)
    assert again.up_to_date and index.stat().st_mtime_ns == stamp
    assert again.artists["a"].kept_paintings == 6  # the summary is still reported
    save(painting(99, 80), raw / "a" / "new.jpg")
    changed = prepare(raw, tmp_path / "out", options, progress=False)
    assert not changed.up_to_date and changed.artists["a"].kept_paintings == 7
    assert not prepare(raw, tmp_path / "out", PrepareOptions(**{**SMALL, "fit": "pad"}, workers=1), progress=False).up_to_date


def test_every_row_holds_its_own_file_and_no_spool_is_left(messy_raw: Path, tmp_path: Path) -> None:
    """Squares wait on disk between decoding and writing (memory stays flat): each array row must
    still be its row's file, with crops in order, and the spool must go, on success and failure."""
    options = PrepareOptions(**{**SMALL, "fit": "crops", "crops": 2}, workers=2)
    data = ProcessedData.open(prepare(messy_raw, tmp_path / "out", options, progress=False).out)
    checked = 0
    for artist in data.artists:
        for split in SPLITS:
            for row, array in zip(data.rows(artist, split), data.array(artist, split)):
                image, _ = load_rgb(messy_raw / row["file"], min_size=32, draft_size=32)
                assert np.array_equal(array, fit_image(image, 32, "crops", 2)[row["crop"]])
                checked += 1
    assert checked > 10
    assert not list((tmp_path / "out").glob(".prepare-spool*"))
    _artist(tmp_path / "tiny", "a", 0, 2)
    with pytest.raises(UsageError):
        prepare(tmp_path / "tiny", tmp_path / "failed", PrepareOptions(**SMALL, workers=1), progress=False)
    assert not (tmp_path / "failed").exists()  # neither a spool nor an empty folder


def test_a_prepare_killed_while_writing_leaves_the_previous_data_whole(tmp_path: Path, monkeypatch) -> None:
    raw = tmp_path / "raw"
    _artist(raw, "a", 0, 5)
    _artist(raw, "b", 50, 5, artist=1)
    prepare(raw, tmp_path / "out", PrepareOptions(**SMALL, workers=1), progress=False)
    before = {a: np.array(ProcessedData.open(tmp_path / "out").array(a, "train")) for a in ("a", "b")}
    for i in range(5):  # every painting changes: a mix of old and new arrays would show
        save(painting(300 + i, 80), raw / "a" / f"work-{i}-186{i}.jpg", quality=92)
    from data_tools import processed

    real_write = processed._write_npy
    written = []

    def killed_after_one_array(stream, source):
        if written:
            raise KeyboardInterrupt  # the kill arrives while the second array is written
        written.append(source)
        real_write(stream, source)

    monkeypatch.setattr(processed, "_write_npy", killed_after_one_array)
    with pytest.raises(KeyboardInterrupt):
        prepare(raw, tmp_path / "out", PrepareOptions(**SMALL, workers=1), progress=False)
    old = ProcessedData.open(tmp_path / "out")
    for artist in ("a", "b"):
        assert np.array_equal(old.array(artist, "train"), before[artist])
    monkeypatch.setattr(processed, "_write_npy", real_write)
    new = ProcessedData.open(prepare(raw, tmp_path / "out", PrepareOptions(**SMALL, workers=1), progress=False).out)
    assert not np.array_equal(new.array("a", "train")[:1], before["a"][:1])
    arrays = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.npy"))
    assert arrays == sorted(f for splits in new.index["files"].values() for f in splits.values())  # old ones gone


def test_a_folder_prepared_at_another_size_is_not_replaced_silently(tmp_path: Path) -> None:
    _artist(tmp_path / "raw", "a", 0, 4)
    prepare(tmp_path / "raw", tmp_path / "out", PrepareOptions(**SMALL, workers=1), progress=False)
    with pytest.raises(UsageError, match="prepared at 32 px; preparing at 48 px would replace them"):
        prepare(tmp_path / "raw", tmp_path / "out", PrepareOptions(**{**SMALL, "size": 48}, workers=1), progress=False)
    assert ProcessedData.open(tmp_path / "out").image_size == 32
    prepare(tmp_path / "raw", tmp_path / "out", PrepareOptions(**{**SMALL, "size": 48}, workers=1), progress=False,
            overwrite=True)
    assert ProcessedData.open(tmp_path / "out").image_size == 48


def test_fits_and_artists_with_too_few_images(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    _artist(raw, "many", 0, 6)
    _artist(raw, "few", 50, 2, artist=1)
    summary = prepare(raw, tmp_path / "crops", PrepareOptions(**SMALL, fit="crops", crops=3, workers=1), progress=False)
    assert summary.artists["few"].dropped and not summary.artists["many"].dropped
    data = ProcessedData.open(summary.out)
    assert data.artists == ["many"]
    assert sum(data.count("many", s) for s in SPLITS) == 6 * 3
    padded = prepare(raw, tmp_path / "pad", PrepareOptions(**SMALL, fit="pad", workers=1), progress=False)
    array = ProcessedData.open(padded.out).array("many", "train")
    # letterbox bars are black: above and below a landscape, left and right of a portrait
    assert all(image[:, 0, :].max() == 0 or image[:, :, 0].max() == 0 for image in array)


def test_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a folder"):
        prepare(tmp_path / "missing", tmp_path / "out", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no artist sub-folders"):
        prepare(tmp_path / "empty", tmp_path / "out", progress=False)
    _artist(tmp_path / "tiny", "a", 0, 2)
    with pytest.raises(UsageError, match="has 3 usable images"):
        prepare(tmp_path / "tiny", tmp_path / "out", PrepareOptions(**SMALL, workers=1), progress=False)
    with pytest.raises(UsageError, match="--fit"):
        prepare(tmp_path / "tiny", tmp_path / "out", PrepareOptions(fit="stretch"), progress=False)


def test_recorded_options_rebuild_the_same_options() -> None:
    options = PrepareOptions(size=64, fit="crops", crops=3, min_size=40, fractions=(0.7, 0.2, 0.1),
                             near_duplicate_distance=3, keep_near_duplicates=True, workers=2)
    rebuilt = PrepareOptions.from_recorded(options.recorded(), min_images=1)
    assert rebuilt == PrepareOptions(size=64, fit="crops", crops=3, min_size=40, fractions=(0.7, 0.2, 0.1),
                                     near_duplicate_distance=3, keep_near_duplicates=True, min_images=1)
    assert PrepareOptions.from_recorded({"size": 32, "from_a_later_version": 1}).size == 32
