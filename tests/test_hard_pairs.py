"""The pairs of painters a run confuses: measured on constructed answers whose counts are known,
kept in the run, said in an answer whose two leading painters are such a pair, and listed by
evaluate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from painterly_vae.config import LossConfig
from painterly_vae.inference.answers import Attribution
from painterly_vae.inference.clustering import ArtistClusters
from painterly_vae.inference.hard_pairs import ConfusedPair, PairSeparation, most_confused
from painterly_vae.inference.latents import LatentViews
from painterly_vae.runtime.checkpoint import load_checkpoint

ARTISTS = ["canaletto", "bernardo-bellotto", "hiroshige"]


def _scores() -> tuple[np.ndarray, np.ndarray]:
    """Ten paintings of each of three painters: 3 of Canaletto's rank Bellotto first, 4 of
    Bellotto's rank Canaletto first; Hiroshige is never confused and never ranked second wrongly."""
    labels = np.repeat([0, 1, 2], 10)
    scores = np.zeros((30, 3))
    scores[np.arange(30), labels] = 2.0
    scores[:10, 1], scores[10:20, 0] = 1.0, 1.0  # the other Venetian second
    scores[:3, 1] = 3.0  # three Canalettos ranked Bellotto first
    scores[10:14, 0] = 3.0  # four Bellottos ranked Canaletto first
    scores[20:, :2] = -1.0
    return scores, labels


def test_a_pair_told_apart_counts_the_paintings_of_either_ranked_right() -> None:
    pairs = PairSeparation.measure(*_scores())
    assert pairs.share(0, 1) == pairs.share(1, 0) == pytest.approx(13 / 20)  # 7 of 10 + 6 of 10
    assert pairs.paintings[0, 1] == 20 and pairs.share(0, 2) == 1.0 and pairs.share(1, 1) is None
    assert pairs.describe(ARTISTS, 1, 0) == (
        "this run tells bernardo-bellotto from canaletto 6 times in 10 (on 20 validation paintings of the two)")
    assert pairs.describe(ARTISTS, 0, 2) is None  # told apart every time: nothing to say


def test_too_few_paintings_of_a_pair_say_nothing() -> None:
    scores, labels = _scores()
    few = PairSeparation.measure(scores[[0, 10, 11]], labels[[0, 10, 11]])  # 3 paintings of the two
    assert few.share(0, 1) is None and few.describe(ARTISTS, 0, 1) is None


def test_most_confused_pairs_come_from_the_confusion_matrix_most_first() -> None:
    confusion = np.array([[7, 3, 0],   # rows: true painter, columns: attributed
                          [4, 6, 0],
                          [0, 1, 9]])
    pairs = most_confused(confusion, ARTISTS)
    assert pairs == [ConfusedPair("canaletto", "bernardo-bellotto", 3, 4, 20),
                     ConfusedPair("bernardo-bellotto", "hiroshige", 0, 1, 20)]
    assert pairs[0].describe() == "canaletto / bernardo-bellotto: 7 of 20 (3 + 4)"
    assert most_confused(np.eye(3, dtype=int) * 5, ARTISTS) == []  # never confused: no pair


def test_the_pairs_are_kept_in_the_clusters_state_and_read_back() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 12)
    centres = np.array([[0.0] * 4, [0.3] * 4, [5.0] * 4])  # the first two overlap, the third stands apart
    mu = (centres[labels] + rng.normal(size=(36, 4)))[:, None, :].astype(np.float32)
    views = LatentViews(mu, np.zeros((36, 1)), np.zeros((36, 1)), np.zeros((36, 0)), np.zeros((36, 0)))
    clusters = ArtistClusters(ARTISTS, [0, 0, 0], LossConfig(), "concat").fit(views, labels).calibrate(views, labels)
    assert clusters.pairs.share(0, 1) < clusters.pairs.share(0, 2) == 1.0
    state = clusters.state_dict()
    assert isinstance(state["pairs"]["told_apart"], torch.Tensor)  # loadable with weights_only=True
    restored = ArtistClusters.from_state_dict(state, LossConfig())
    np.testing.assert_array_equal(restored.pairs.told_apart, clusters.pairs.told_apart)
    del state["pairs"]  # a run fitted before pairs were measured
    assert ArtistClusters.from_state_dict(state, LossConfig()).pairs is None


def test_an_answer_between_a_confused_pair_says_how_often_the_run_tells_them_apart() -> None:
    answer = Attribution(Path("view-of-venice.jpg"), ranked=[("canaletto", 0.58), ("bernardo-bellotto", 0.40)],
                         hard_pair="this run tells canaletto from bernardo-bellotto 7 times in 10 (on 31 validation "
                                   "paintings of the two)")
    lines = answer.describe().splitlines()
    assert lines[0] == "view-of-venice.jpg: canaletto 58%, bernardo-bellotto 40%"
    assert lines[1] == "    this run tells canaletto from bernardo-bellotto 7 times in 10 (on 31 validation paintings of the two)"
    assert answer.to_json()["hard_pair"].startswith("this run tells canaletto from bernardo-bellotto")


def test_a_fitted_run_keeps_its_pairs(tiny_run_checkpoint: Path) -> None:
    pairs = load_checkpoint(tiny_run_checkpoint)["clusters"]["pairs"]
    told, paintings = pairs["told_apart"].numpy(), pairs["paintings"].numpy()
    assert told.shape == paintings.shape == (3, 3)
    assert np.all(told <= paintings) and np.array_equal(paintings, paintings.T) and paintings[0, 1] > 0


@pytest.fixture(scope="module")
def tiny_run_checkpoint(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import TINY

    from painterly_vae.cli.train_command import TrainRequest, run_training

    runs = tmp_path_factory.mktemp("pairs")
    run_training(TrainRequest(data=tiny_data, name="pairs", values={**TINY, "training.runs_dir": str(runs)},
                              progress=False))
    return runs / "pairs" / "checkpoints" / "last.pt"


def test_evaluate_lists_and_draws_the_pairs_confused_most(tiny_run_checkpoint: Path, tiny_data: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    """Two painters' folders swapped: the run names each for the other, a pair confused by construction."""
    import json

    from painterly_vae.cli.cli import main

    raw, swapped = tiny_data.parent / "raw", tmp_path / "swapped"
    swapped.mkdir()
    for name, source in (("painter-1", "painter-2"), ("painter-2", "painter-1"), ("painter-3", "painter-3")):
        (swapped / name).symlink_to(raw / source, target_is_directory=True)
    run = tiny_run_checkpoint.parent.parent
    assert main(["evaluate", "--run", str(run), "--data", str(swapped), "--device", "cpu", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    (report_path,) = run.glob("evaluations/*/report.json")
    report = json.loads(report_path.read_text())
    pairs = most_confused(np.array(report["attribution"]["confusion"]), report["artists"])
    assert (pairs[0].first, pairs[0].second) == ("painter-1", "painter-2") and pairs[0].confused > pairs[0].paintings / 2
    assert ("most confused pairs (paintings of either attributed to the other, of all theirs; each way): "
            + "; ".join(pair.describe() for pair in pairs)) in printed
    assert (report_path.parent / "plots" / "confused_pairs.png").stat().st_size > 1000
    assert ("known paintings called unknown, by painter (the run lets 95% of its validation paintings through, over "
            "all painters): painter-1 ") in printed  # which painters pay for the one threshold
