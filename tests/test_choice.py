"""What the run chooses on its validation paintings: the representation it attributes with, and
the familiarity that says "unknown artist" (issue #23).

Constructed collections where the answer is known: the information about the painter lies in
z, in the style statistics or in the Gram statistics only; strangers that the regression names
with confidence but that no training painting resembles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from painterly_vae.config import Config, LossConfig
from painterly_vae.errors import ConfigError
from painterly_vae.inference.clustering import ArtistClusters
from painterly_vae.inference.familiarity import FamiliarityMix, nearest_similarity, unit_vectors
from painterly_vae.inference.latents import LatentViews
from painterly_vae.inference.representation_choice import (
    WITH_TRUNK,
    choose_representation,
    describe_selection,
    fit_representations,
    select,
    standard_error_of_difference,
)
from painterly_vae.inference.strangers import measure_strangers

ARTISTS = ["a", "b", "c"]


def _views(labels: np.ndarray, rng: np.random.Generator, where: str, trunk: bool = True) -> LatentViews:
    """Paintings of len(labels) painters: `where` ("z", "style", "gram") holds their painter
    (centres 4 apart), every other part is noise of the same size."""
    n = len(labels)

    def part(width: int, informative: bool) -> np.ndarray:
        noise = rng.normal(size=(n, width))
        if informative:
            noise[:, :3] += 4 * np.eye(3)[labels]
        return noise

    mu = part(3 * 4, where == "z").reshape(n, 3, 4)
    style = part(12, where == "style") if trunk else np.zeros((n, 0))
    gram = part(40, where == "gram") if trunk else np.zeros((n, 0))
    return LatentViews(mu.astype(np.float32), np.zeros((n, 3)), np.zeros((n, 3)), style, gram)


def _choose(where: str, trunk: bool = True, seed: int = 0) -> tuple[str, dict]:
    rng = np.random.default_rng(seed)
    train_labels, val_labels = np.repeat([0, 1, 2], 40), np.repeat([0, 1, 2], 20)
    train, val = _views(train_labels, rng, where, trunk), _views(val_labels, rng, where, trunk)
    clusters, selection = choose_representation(lambda name: ArtistClusters(ARTISTS, [0, 1, 2], LossConfig(), name),
                                                trunk, train, train_labels, val, val_labels)
    assert clusters.score(val, val_labels) == selection["candidates"][clusters.representation]["top1"]  # fitted
    return clusters.representation, selection


@pytest.mark.parametrize("where, readers", [
    ("gram", {"gram", "concat+trunk+gram"}),
    ("style", {"style", "concat+trunk", "concat+trunk+gram"}),
    ("z", {"concat", "concat+trunk", "concat+trunk+gram"}),
])
def test_the_run_attributes_with_what_names_the_painter_on_its_validation_paintings(where: str, readers: set) -> None:
    chosen, selection = _choose(where)
    assert chosen in readers
    measured = selection["candidates"]
    assert set(measured) == {"concat", "concat+trunk", "style", "gram", "concat+trunk+gram"}
    merit = {name: (scores["top1"] + scores["balanced_accuracy"]) / 2 for name, scores in measured.items()}
    best = selection["best"]
    assert merit[best] == max(merit.values()) and selection["paintings"] == 60
    assert merit[best] - merit[chosen] <= selection["standard_errors"][chosen]  # within noise of the best
    blind = set(measured) - readers  # those that cannot see the information do no better than chance
    assert all(measured[name]["top1"] < 0.6 for name in blind), measured
    assert describe_selection(selection).startswith(f"chosen on 60 validation paintings (top-1/balanced): {chosen} ")


def _named_right(right: dict[int, int], labels: np.ndarray) -> np.ndarray:
    """Predictions that name the painter of the first `right[painter]` paintings of each painter, and
    the next painter for the rest."""
    predicted = labels.copy()
    for painter, count in right.items():
        wrong = np.flatnonzero(labels == painter)[count:]
        predicted[wrong] = (painter + 1) % 3
    return predicted


@pytest.mark.parametrize("winner", WITH_TRUNK)
def test_each_candidate_is_chosen_when_it_is_clearly_ahead(winner: str) -> None:
    """100 validation paintings per painter: the winner names 95 of each, every other candidate
    80 (15 points behind, far beyond the standard error of about 2 points)."""
    labels = np.repeat([0, 1, 2], 100)
    predicted = {name: _named_right({painter: 95 if name == winner else 80 for painter in range(3)}, labels)
                 for name in WITH_TRUNK}
    selection = select(predicted, labels)
    assert selection["chosen"] == selection["best"] == winner
    assert describe_selection(selection).startswith(f"chosen on 300 validation paintings (top-1/balanced): {winner} 95.0%/95.0%, ")


def test_within_one_standard_error_the_candidate_that_reads_the_most_is_chosen() -> None:
    """The Gram regression names two paintings more than z beside it (of 300): a difference
    validation cannot tell from noise, so the combination is kept, and the record says why.
    Ten paintings more is beyond it, and the Gram regression is kept."""
    labels = np.repeat([0, 1, 2], 100)
    everything = _named_right({0: 90, 1: 90, 2: 90}, labels)
    gram = everything.copy()
    gram[labels == 0] = np.where(np.arange(100) < 92, 0, 1)  # 2 more of painter 0's
    gram[labels == 1] = np.where((np.arange(100) < 88) | (np.arange(100) >= 98), 1, 2)  # others differ
    near = select({"concat+trunk+gram": everything, "concat+trunk": _named_right({0: 50, 1: 50, 2: 50}, labels),
                   "gram": gram}, labels)
    assert near["best"] == "gram" and near["chosen"] == "concat+trunk+gram"
    gap = (near["candidates"]["gram"]["top1"] - near["candidates"]["concat+trunk+gram"]["top1"])
    assert 0 < gap <= near["standard_errors"]["concat+trunk+gram"]
    assert "(within one standard error, " in describe_selection(near) and "of gram; it reads more" in describe_selection(near)
    far = select({"concat+trunk+gram": everything, "gram": _named_right({0: 100, 1: 100, 2: 90}, labels)}, labels)
    assert far["chosen"] == "gram" and "within one standard error" not in describe_selection(far)


def test_the_standard_error_of_a_difference_by_hand() -> None:
    """Two painters, 4 paintings each: merit = sum of right x (1/16 + 1/16) (top-1's 1/8 and balanced
    accuracy's 1/(2x4), halved). a and b differ on two of painter 0's paintings (+1, -1: variance
    2/3 about their mean 0) and on none of painter 1's: SE = sqrt(4 x (1/8)^2 x 2/3) = 0.204."""
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    a = np.array([1, 0, 1, 1, 1, 1, 0, 0], bool)
    b = np.array([0, 1, 1, 1, 1, 1, 0, 0], bool)
    assert standard_error_of_difference(a, b, labels) == pytest.approx(np.sqrt(4 * (1 / 8) ** 2 * 2 / 3))
    assert standard_error_of_difference(a, a, labels) == 0.0


def test_without_validation_paintings_the_candidate_that_reads_the_most_is_kept() -> None:
    """A collection too small to hold validation paintings still trains and attributes."""
    none = np.zeros(0, int)
    selection = select({name: none for name in WITH_TRUNK}, none)
    assert selection["chosen"] == "concat+trunk+gram" and selection["paintings"] == 0
    assert describe_selection(selection) == ("no validation paintings to choose on: concat+trunk+gram, "
                                             "the candidate that reads the most")


def test_a_run_chosen_before_the_rule_still_describes_its_choice() -> None:
    """Runs fitted before the one-standard-error rule stored no best or standard errors."""
    old = {"chosen": "gram", "paintings": 308, "rule": "the best mean of top-1 and balanced accuracy",
           "candidates": {"gram": {"top1": 0.906, "balanced_accuracy": 0.895},
                          "concat+trunk+gram": {"top1": 0.899, "balanced_accuracy": 0.895}}}
    assert describe_selection(old) == ("chosen on 308 validation paintings (top-1/balanced): gram 90.6%/89.5%, "
                                       "concat+trunk+gram 89.9%/89.5%")


def test_without_a_trunk_the_choice_is_among_what_the_run_has() -> None:
    chosen, selection = _choose("z", trunk=False)
    assert chosen == "concat" and list(selection["candidates"]) == ["concat"]
    assert Config.from_dict({"clustering": {"representation": "auto"}}).clustering.representation == "auto"
    with pytest.raises(ConfigError, match="gram needs a trunk"):
        Config.from_dict({"clustering": {"representation": "gram"}})


def test_the_stored_choice_reopens_from_a_checkpoint_identically(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    train_labels, val_labels = np.repeat([0, 1, 2], 40), np.repeat([0, 1, 2], 20)
    train, val = _views(train_labels, rng, "gram"), _views(val_labels, rng, "gram")
    clusters, selection = choose_representation(
        lambda name: ArtistClusters(ARTISTS, [0, 1, 2], LossConfig(), name, accept_share=0.9),
        True, train, train_labels, val, val_labels)
    chosen = clusters.representation
    clusters.strangers = measure_strangers(lambda kept: ArtistClusters([ARTISTS[a] for a in kept], kept, LossConfig(),
                                                                       chosen, 0.9), ARTISTS, train, train_labels,
                                           val, val_labels)
    clusters.calibrate(val, val_labels, clusters.strangers.mix)
    clusters.selection = selection
    torch.save({"clusters": clusters.state_dict()}, tmp_path / "last.pt")
    stored = torch.load(tmp_path / "last.pt", weights_only=True)["clusters"]  # how runs are opened
    reopened = ArtistClusters.from_state_dict(stored, LossConfig())
    fresh = _views(np.repeat([0, 1, 2], 5), rng, "gram")
    assert reopened.representation == chosen and reopened.selection == selection
    # the same numbers stored; only the last bits may differ (BLAS with AVX-512 sums by alignment)
    np.testing.assert_allclose(reopened.predict_proba(fresh), clusters.predict_proba(fresh), rtol=1e-12, atol=0)
    np.testing.assert_allclose(reopened.familiarity(fresh), clusters.familiarity(fresh), rtol=1e-12, atol=0)
    assert reopened.familiarity_mix.mix == clusters.strangers.mix and reopened.threshold == clusters.threshold
    assert reopened.describe_validation() == clusters.describe_validation()
    assert reopened.describe_threshold() == clusters.describe_threshold()


def _style_views(points: np.ndarray) -> LatentViews:
    n = len(points)
    return LatentViews(np.zeros((n, 1, 2), np.float32), np.zeros((n, 1)), np.zeros((n, 1)), points, np.zeros((n, 0)))


def test_a_stranger_the_regression_is_sure_of_is_caught_by_its_nearest_painting() -> None:
    """Three painters along three directions of the style statistics, a fourth statistic that
    varies a lot within every painter and tells none apart; a stranger like the first painter but
    far out along that fourth one. The regression has learnt to ignore it and names the first
    painter as surely as her own paintings; no training painting lies that far out, so `nearest`
    calls it unlike every one of them."""
    rng = np.random.default_rng(2)
    centres = 6 * np.eye(4)[:3]
    spread = np.array([0.5, 0.5, 0.5, 3.0])
    labels = np.repeat([0, 1, 2], 60)
    train = _style_views(centres[labels] + rng.normal(0, spread, (180, 4)))
    val = _style_views(centres[labels] + rng.normal(0, spread, (180, 4)))
    strangers = _style_views(np.array([6.0, 0, 0, 15.0]) + rng.normal(0, spread, (40, 4)))
    clusters = ArtistClusters(ARTISTS, [0, 0, 0], LossConfig(), "style").fit(train, labels).calibrate(val, labels)
    known, stranger = clusters.familiarity_signals(val), clusters.familiarity_signals(strangers)
    assert (clusters.predict(strangers) == 0).all()  # named the first painter, as surely as most of hers
    assert np.median(stranger[:, 0]) > np.quantile(known[labels == 0, 0], 0.2)
    assert np.median(stranger[:, 1]) < np.quantile(known[:, 1], 0.05)  # further from every training painting
    assert clusters.familiarity_mix.mix == "score+nearest"
    score_only = ArtistClusters(ARTISTS, [0, 0, 0], LossConfig(), "style").fit(train, labels).calibrate(val, labels, "score")
    assert score_only.is_unknown(strangers).mean() < 0.2 < 0.8 < clusters.is_unknown(strangers).mean()


def test_leaving_painters_out_chooses_the_mix_and_its_threshold_holds_on_fresh_paintings() -> None:
    """Four painters as Gaussian clusters, the fourth far from the others: the figures the run
    quotes (flagged strangers, false rejections) are what fresh paintings then show."""
    rng = np.random.default_rng(3)
    centres = np.array([[0, 0, 9.0], [9, 0, 0], [0, 9, 0], [-9, -9, -9]])
    artists = ["a", "b", "c", "far"]

    def paintings(per_artist: int, painters: list[int]) -> tuple[LatentViews, np.ndarray]:
        labels = np.repeat(painters, per_artist)
        points = centres[labels] + rng.normal(0, 1, (len(labels), 3))
        n = len(labels)
        return LatentViews(points[:, None, :].astype(np.float32), np.zeros((n, 1)), np.zeros((n, 1)),
                           np.zeros((n, 0)), np.zeros((n, 0))), labels

    def clusters_of(kept: list[int]) -> ArtistClusters:
        return ArtistClusters([artists[a] for a in kept], [0] * len(kept), LossConfig(), "concat", 0.9)

    (train, train_labels), (val, val_labels) = paintings(80, [0, 1, 2, 3]), paintings(200, [0, 1, 2, 3])
    rate = measure_strangers(clusters_of, artists, train, train_labels, val, val_labels)
    assert set(rate.mixes) == {"score", "nearest", "score+nearest"} and rate.mix == max(rate.mixes, key=lambda m: rate.mixes[m]["auroc"])
    assert rate.per_artist["far"] < 0.05  # left out, the far painter is caught
    # the run without the far painter, calibrated as the run would be, on fresh paintings
    kept = [0, 1, 2]
    known_train, known_val = train.select(train_labels < 3), val.select(val_labels < 3)
    clusters = clusters_of(kept).fit(known_train, train_labels[train_labels < 3])
    clusters.calibrate(known_val, val_labels[val_labels < 3], rate.mix)
    fresh_known, _ = paintings(1000, kept)
    fresh_far, _ = paintings(300, [3])
    assert clusters.is_unknown(fresh_known).mean() == pytest.approx(0.10, abs=0.04)  # 1 - accept_share
    assert clusters.is_unknown(fresh_far).mean() > 0.95
    sentence = clusters.describe_threshold()
    assert sentence.startswith("'unknown artist' means less like these painters than 90% of their own validation paintings")


def test_the_familiarity_mix_is_a_mean_of_standardised_signals() -> None:
    signals = np.array([[0.0, 10.0], [2.0, 30.0], [4.0, 20.0]])
    mix = FamiliarityMix.fit(signals, "score+nearest")
    np.testing.assert_allclose(mix.combine(signals), [(-1.2247 - 1.2247) / 2, (0 + 1.2247) / 2, (1.2247 + 0) / 2],
                               atol=1e-4)
    np.testing.assert_allclose(FamiliarityMix.fit(signals, "score").combine(signals), [-1.2247, 0, 1.2247], atol=1e-4)
    with pytest.raises(ValueError, match="needs signals"):
        FamiliarityMix.fit(signals[:, :1], "nearest")
    training = unit_vectors(np.array([[1.0, 0], [0, 2.0]]))
    np.testing.assert_allclose(nearest_similarity(np.array([[3.0, 0], [1.0, 1.0]]), training), [1.0, 0.7071], atol=1e-4)


def test_representations_fitted_once_together_score_as_if_each_were_fitted_alone() -> None:
    """gram and concat+trunk+gram take concat+trunk's fitted regressions (`shared_fit`): the
    scores are those of fitting each on its own, and `evaluate` and `auto` save the refits."""
    rng = np.random.default_rng(4)
    labels = np.repeat([0, 1, 2], 30)
    train, fresh = _views(labels, rng, "gram"), _views(labels, rng, "gram")
    names = ["concat+trunk", "gram", "concat+trunk+gram", "style"]
    together = fit_representations(names, lambda name: ArtistClusters(ARTISTS, [0, 1, 2], LossConfig(), name),
                                   train, labels)
    for name in names:
        alone = ArtistClusters(ARTISTS, [0, 1, 2], LossConfig(), name).fit(train, labels)
        np.testing.assert_allclose(together[name].decision_scores(fresh), alone.decision_scores(fresh))
        np.testing.assert_allclose(together[name].familiarity_signals(fresh), alone.familiarity_signals(fresh))
    assert together["gram"].scorer.novelty is together["concat+trunk"].scorer.novelty  # one fit, not three
