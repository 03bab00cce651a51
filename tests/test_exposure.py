"""A folder of other painters' paintings shown to the familiarity (`clustering.others`, `--others DIR`):
strangers like those paintings are caught more often, the attribution among the run's painters
is unchanged, and a run without a trunk or a folder that is not there is a usage error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TRUNK_RUN_SETS
from sklearn.metrics import roc_auc_score

from data_tools.synthetic import write_synthetic_raw
from painterly_vae.cli.cli import main
from painterly_vae.config import LossConfig
from painterly_vae.inference.clustering import ArtistClusters
from painterly_vae.inference.familiarity import MIXES, available_mixes
from painterly_vae.inference.latents import LatentViews
from painterly_vae.runtime.checkpoint import load_checkpoint


def gram_views(gram: np.ndarray) -> LatentViews:
    """Paintings known by their Gram statistics alone (what the exposure and the `gram` representation read)."""
    n = len(gram)
    return LatentViews(np.zeros((n, 3, 2), np.float32), np.zeros((n, 3)), np.zeros((n, 3)), np.zeros((n, 4)),
                       gram.astype(np.float32))


def painters(rng: np.random.Generator, centres: np.ndarray, each: int, spread: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    points = np.concatenate([c + spread * rng.standard_normal((each, len(c))) for c in centres])
    return points, np.repeat(np.arange(len(centres)), each)


def constructed_case(seed: int = 0):
    """Three known painters; other painters and strangers beyond the first painter (further along
    what tells it from the others: the regression alone is surest of it there), each stranger its
    own centre, never among the other painters."""
    rng = np.random.default_rng(seed)
    dims = 12
    known_centres = np.zeros((3, dims))
    known_centres[np.arange(3), np.arange(3)] = 4.0
    far = np.zeros(dims)
    far[0], far[5] = 9.0, 3.0
    other_centres = far + 2.0 * rng.standard_normal((6, dims)) * (np.arange(dims) >= 4)
    stranger_centres = far + 2.0 * rng.standard_normal((3, dims)) * (np.arange(dims) >= 4)
    train, train_labels = painters(rng, known_centres, 60)
    val, val_labels = painters(rng, known_centres, 30)
    test, _ = painters(rng, known_centres, 30)
    others, _ = painters(rng, other_centres, 20)
    strangers, _ = painters(rng, stranger_centres, 30)
    return train, train_labels, val, val_labels, test, others, strangers


def fitted(train, train_labels, val, val_labels, others=None) -> ArtistClusters:
    clusters = ArtistClusters(["a", "b", "c"], [0, 1, 2], LossConfig(), "gram", accept_share=0.9)
    clusters.fit(gram_views(train), train_labels)
    clusters.fit_exposure(gram_views(train), train_labels, None if others is None else gram_views(others))
    return clusters.calibrate(gram_views(val), val_labels, "exposure" if others is not None else "score")


def test_exposure_catches_strangers_like_the_other_painters_and_leaves_the_attribution_alone() -> None:
    train, train_labels, val, val_labels, test, others, strangers = constructed_case()
    plain = fitted(train, train_labels, val, val_labels)
    exposed = fitted(train, train_labels, val, val_labels, others)
    is_stranger = np.r_[np.zeros(len(test)), np.ones(len(strangers))]
    both = gram_views(np.r_[test, strangers])
    auroc_plain = roc_auc_score(is_stranger, -plain.familiarity(both))
    auroc_exposed = roc_auc_score(is_stranger, -exposed.familiarity(both))
    assert auroc_exposed > auroc_plain + 0.05
    assert auroc_exposed > 0.95
    assert exposed.is_unknown(gram_views(strangers)).mean() > plain.is_unknown(gram_views(strangers)).mean() + 0.2
    # the known painters' own test paintings are rejected about as often as the config asks
    assert exposed.is_unknown(gram_views(test)).mean() < 0.2
    # the probabilities among the run's painters do not depend on the folder
    np.testing.assert_array_equal(plain.predict_proba(both), exposed.predict_proba(both))


def test_the_exposure_survives_the_checkpoint_and_older_runs_have_none() -> None:
    train, train_labels, val, val_labels, test, others, _ = constructed_case(1)
    exposed = fitted(train, train_labels, val, val_labels, others)
    exposed.exposure.source = "120 paintings of other painters from somewhere"
    again = ArtistClusters.from_state_dict(exposed.state_dict(), LossConfig())
    views = gram_views(test)
    np.testing.assert_allclose(again.familiarity(views), exposed.familiarity(views))
    assert again.exposure.paintings == len(others) and again.exposure.source.startswith("120 paintings")
    assert "it learnt from 120 paintings of other painters" in again.describe_threshold()
    older = exposed.state_dict()
    del older["exposure"]
    older["familiarity_mix"] = None
    assert ArtistClusters.from_state_dict(older, LossConfig()).exposure is None


def test_mixes_with_the_exposure_need_the_third_signal() -> None:
    assert available_mixes(2) == ["score", "nearest", "score+nearest"]
    assert set(available_mixes(3)) == set(MIXES)
    assert available_mixes(3)[-1] == "score+nearest+exposure"  # a run's default with a folder


@pytest.fixture(scope="module")
def others_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two synthetic painters the trunk run never saw, with two files that are not images (a note, a manifest)."""
    root = tmp_path_factory.mktemp("others")
    write_synthetic_raw(root, artists=2, per_artist=8, size=80, seed=7)
    (root / "painter-1" / "notes.txt").write_text("not a painting")
    return root


def test_cluster_with_others_stores_the_exposure_and_says_what_it_read(trunk_run: dict[str, Path], others_folder: Path,
                                                                       capsys: pytest.CaptureFixture) -> None:
    run = trunk_run["run"]
    assert main(["cluster", "--run", str(run), "--representation", "gram", "--no-progress"]) == 0
    before = load_checkpoint(run / "checkpoints" / "last.pt")["clusters"]
    capsys.readouterr()
    assert main(["cluster", "--run", str(run), "--representation", "gram", "--others", str(others_folder),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"Familiarity shown 16 paintings of other painters from {others_folder}" in printed
    assert "(2 skipped: 2 not-an-image)" in printed  # the notes and the synthetic manifest
    clusters = load_checkpoint(run / "checkpoints" / "last.pt")["clusters"]
    assert clusters["exposure"]["paintings"] == 16
    # the attribution's own regression is the one fitted without the folder
    for key, value in before["novelty"].items():
        assert torch.allclose(value, clusters["novelty"][key]), key
    assert main(["attribute", str(trunk_run["painting"]), "--run", str(run), "--no-progress"]) == 0
    # '' fits without a folder again
    assert main(["cluster", "--run", str(run), "--others", "", "--no-progress"]) == 0
    assert load_checkpoint(run / "checkpoints" / "last.pt")["clusters"]["exposure"] is None


def test_others_that_cannot_be_used_are_one_line_usage_errors(trunk_run: dict[str, Path], tmp_path: Path,
                                                               tiny_data: Path, capsys: pytest.CaptureFixture) -> None:
    run = trunk_run["run"]
    assert main(["cluster", "--run", str(run), "--others", str(tmp_path / "missing"), "--no-progress"]) == 2
    assert "--others: no folder" in capsys.readouterr().err
    # a run without a trunk has no Gram statistics to learn "someone else" from: said before training
    code = main(["train", "--data", str(tiny_data), "--others", str(tmp_path), "--steps", "2", "--no-progress",
                 "--set", f"training.runs_dir={tmp_path / 'runs'}"])
    assert code == 2
    error = capsys.readouterr().err
    assert "clustering.others" in error and "needs a trunk" in error and "Traceback" not in error
    assert not (tmp_path / "runs").exists()


def test_a_folder_of_links_to_painters_folders_is_read_through_the_links(tmp_path: Path) -> None:
    """Collections are often gathered as links to each painter's folder: those are followed (once),
    hidden files are not read."""
    from painterly_vae.inference.painting_files import files_under

    painter = tmp_path / "library" / "painter-a"
    painter.mkdir(parents=True)
    for name in ("one.jpg", "two.jpg", ".thumbs.db"):
        (painter / name).write_bytes(b"x")
    gathered = tmp_path / "gathered"
    gathered.mkdir()
    (gathered / "painter-a").symlink_to(painter, target_is_directory=True)
    (gathered / "painter-a-again").symlink_to(painter, target_is_directory=True)
    (painter / "loop").symlink_to(gathered, target_is_directory=True)
    names = [p.relative_to(gathered).as_posix() for p in files_under(gathered)]
    assert names == ["painter-a/one.jpg", "painter-a/two.jpg"]


def test_train_with_others_fits_the_exposure_and_records_the_folder(data64: Path, mobilenet_file: Path,
                                                                    others_folder: Path, tmp_path: Path) -> None:
    sets = [*TRUNK_RUN_SETS, f"networks.mobilenet_v2.weights={mobilenet_file}", f"training.runs_dir={tmp_path}"]
    code = main(["train", "--data", str(data64), "--name", "shown", "--steps", "4", "--no-progress",
                 "--others", str(others_folder), *[arg for item in sets for arg in ("--set", item)]])
    assert code == 0
    run = tmp_path / "shown"
    assert f'others = "{others_folder.resolve()}"' in (run / "config.toml").read_text()
    exposure = load_checkpoint(run / "checkpoints" / "last.pt")["clusters"]["exposure"]
    assert exposure["paintings"] == 16 and str(others_folder) in exposure["source"]
