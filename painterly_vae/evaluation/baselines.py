"""Every baseline `evaluate` puts beside the run, in one list.

Each entry (`BASELINES`) measures one kind of baseline on the paintings the run attributed
and says how a person reads its name: its row in the summary's table, its line on the plot
of the run's leads. Adding a baseline is one entry here; report.json stores each under
`baselines[kind]` (or `baselines[kind][name]` for kinds with several, one per network).

- another run on the same paintings (e.g. the single-encoder twin, `--baseline`);
- a colour-histogram classifier (if the run cannot beat it, it learned palettes, not style);
- the pretrained networks' own features: pooled (the practitioner's first try), and for the
  run's trunk its style and Gram statistics (what the VAE adds to the network it borrows);
- the run's encoder trained as a supervised classifier (`--supervised-baseline`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.metrics import roc_auc_score

from data_tools.processed import ProcessedData
from painterly_vae.evaluation.classification import classification_metrics
from painterly_vae.evaluation.colour_baseline import colour_histogram_classifier
from painterly_vae.evaluation.evaluation_set import EvaluationSet, encode_evaluation_set
from painterly_vae.evaluation.paired_comparison import paired_difference
from painterly_vae.evaluation.pretrained_baseline import pretrained_features_classifier
from painterly_vae.evaluation.report import Baseline, EvaluationReport, Lead, MeasuredBaseline
from painterly_vae.evaluation.supervised_baseline import LabelledImages, SupervisedBaseline
from painterly_vae.feature_networks import network_spec
from painterly_vae.inference.latents import LatentViews
from painterly_vae.inference.linear_probe import DEFAULT_STRENGTH, LinearProbe, fit_standardised_logistic_regression
from painterly_vae.inference.representations import GRAM_COMPONENTS, TRUNK_PROBE_STRENGTH
from painterly_vae.inference.run_data import check_run_data
from painterly_vae.inference.trained_run import TrainedRun
from painterly_vae.model.pretrained import load_networks


@dataclass
class BaselineInputs:
    """What the baselines are measured with: the run, the paintings it attributed, its training data."""

    run: TrainedRun
    evaluation: EvaluationSet  # with the run's attribution of each known painting (the paired comparison)
    data: ProcessedData  # the evaluated paintings' folder
    training: ProcessedData | None  # the run's own prepared data (None: not on disk, or other artists)
    train_views: LatentViews | None  # the run's views of its training paintings (the trunk's statistics among them)
    train_labels: np.ndarray | None
    networks: list[str]  # pretrained networks whose pooled features are probed
    supervised_epochs: int  # 0: no supervised baseline
    other_run: TrainedRun | None  # --baseline
    progress: bool
    _trunk_regressions: dict = field(default_factory=dict, init=False, repr=False)

    @cached_property
    def train(self) -> LabelledImages:
        """Every training painting of the run's data with its artist (read once, for every baseline)."""
        return labelled(self.training, self.run.artists, "train")

    @cached_property
    def val(self) -> LabelledImages:
        return labelled(self.training, self.run.artists, "val")

    def trunk_regression(self, kind: str):
        """The trunk's own probe on its "style" or "gram" statistics of the training paintings, fitted
        once per kind: the Gram one is both a baseline and the style probe of the reconstructions."""
        if kind not in self._trunk_regressions:
            self._trunk_regressions[kind] = trunk_statistics_regression(kind, self.train_views, self.train_labels,
                                                                        self.run.config.training.seed)
        return self._trunk_regressions[kind]


Measured = list[tuple[str | None, Baseline]]  # (name for kinds with several, else None; the result)


@dataclass(frozen=True)
class BaselineKind:
    key: str  # report.json: baselines[key], or baselines[key][name]
    measure: Callable[[BaselineInputs], Measured]  # nothing when it does not apply
    row: Callable[[str | None, Baseline], str]  # its row in the summary's table
    short: Callable[[str | None, Baseline], str]  # its name on the plot of the run's leads


def split_labels(training: ProcessedData, artists: list[str], split: str) -> np.ndarray:
    """The artist index of every painting of `split`, in the data's order (artist by artist)."""
    return np.concatenate([np.full(training.count(a, split), i) for i, a in enumerate(artists)])


def labelled(training: ProcessedData, artists: list[str], split: str) -> LabelledImages:
    """Every image of `split` of the run's training data, with its artist index."""
    images = np.concatenate([np.asarray(training.array(a, split)) for a in artists])
    return LabelledImages(images, split_labels(training, artists, split))


def scored(probabilities: np.ndarray, evaluation: EvaluationSet, artists: list[str]) -> Baseline:
    """A baseline's headline numbers from its probabilities on the known evaluated paintings,
    and the run's lead over it on the same paintings with its paired bootstrap interval."""
    labels = evaluation.labels[evaluation.known]
    metrics = classification_metrics(probabilities, labels, artists)
    lead = None
    if evaluation.attributed is not None:
        lead = Lead.from_json(paired_difference(labels, evaluation.attributed, probabilities.argmax(1), len(artists)))
    return Baseline(metrics.top1, metrics.top3, metrics.balanced_accuracy, run_minus_baseline=lead)


def _probability_metrics(predicted: np.ndarray, classes: np.ndarray, inputs: BaselineInputs) -> Baseline:
    """A classifier's probabilities over every evaluated painting (columns: `classes`) -> its
    numbers on the known ones, and the AUROC of its best probability against the unknown ones
    (its confidence as a familiarity score, the run's own unknown-artist measure)."""
    evaluation, artists = inputs.evaluation, inputs.run.artists
    known = evaluation.known
    probabilities = np.zeros((len(known), len(artists)))
    probabilities[:, classes] = predicted
    result = scored(probabilities[known], evaluation, artists)
    if (~known).any():
        result.unknown_auroc = float(roc_auc_score(~known, -probabilities.max(1)))
    return result


def _probe(probe: LinearProbe, inputs: BaselineInputs) -> Baseline:
    """Fit a linear probe on the training paintings and score every evaluated one."""
    probe.fit(inputs.train.images, inputs.train.labels)
    return _probability_metrics(probe.predict_proba(inputs.evaluation.images), probe.classes, inputs)


# ---------------------------------------------------------------------- the kinds
def _other_run(inputs: BaselineInputs) -> Measured:
    other = inputs.other_run
    if other is None:
        return []
    check_run_data(other, inputs.data, same_artists=False, role="--baseline run")
    evaluation = encode_evaluation_set(other, inputs.data, inputs.evaluation.split, inputs.progress,
                                       reconstruct=other.require_clusters().needs_reconstructions)
    evaluation.attributed = inputs.evaluation.attributed  # the same paintings in the same order: a paired comparison
    probabilities = other.require_clusters().predict_proba(evaluation.views.select(evaluation.known))
    result = scored(probabilities, evaluation, other.artists)
    result.details = {"run": str(other.run_dir), "encoders": other.config.model.encoders}
    return [(None, result)]


def _colour_histogram(inputs: BaselineInputs) -> Measured:
    if inputs.training is None:
        return []
    return [(None, _probe(colour_histogram_classifier(seed=inputs.run.config.training.seed), inputs))]


def _pretrained_features(inputs: BaselineInputs) -> Measured:
    """Per network: its pooled features at the size the run reads paintings + logistic regression;
    and for the run's trunk its style statistics into concat+trunk's regression (`<network>
    style`: like for like, so what z adds shows) and its Gram statistics (`<network> gram`, 256
    principal components: the strongest probe of the network measured), from the views."""
    run = inputs.run
    if inputs.training is None:
        return []
    measured: Measured = []
    if inputs.networks:
        layers = {name: network_spec(name).pooled_layer for name in inputs.networks}
        networks = load_networks(run.config, progress=False, recorded=run.recorded_networks, run=f"run {run.run_dir}",
                                 layers=layers)
        size = run.config.model.trunk_size if run.config.model.trunk else run.config.model.input_size
        for name, network in networks.items():
            network.to(run.device)
            result = _probe(pretrained_features_classifier(network, size, run.inference, run.config.training.seed,
                                                           inputs.progress), inputs)
            result.details = {"features": "pooled", "image_size": size, "layers": [layers[name]],
                              "strength": DEFAULT_STRENGTH, "components": None, "weights_sha256": network.record.sha256}
            measured.append((name, result))
    model = run.config.model
    if model.trunk:
        for kind, features in (("style", "style statistics"), ("gram", "Gram statistics")):
            regression = inputs.trunk_regression(kind)
            result = _probability_metrics(regression.predict_proba(getattr(inputs.evaluation.views, kind)),
                                          regression.classes_, inputs)
            result.details = {"features": features, "image_size": model.trunk_size, "layers": run.model.style_layers,
                              "strength": TRUNK_PROBE_STRENGTH, "components": TRUNK_PROBE_COMPONENTS[kind],
                              "weights_sha256": run.recorded_networks[model.trunk]["sha256"]}
            measured.append((f"{model.trunk} {kind}", result))
    return measured


TRUNK_PROBE_COMPONENTS = {"style": None, "gram": GRAM_COMPONENTS}  # principal components each probe reads


def trunk_statistics_regression(kind: str, views: LatentViews, labels: np.ndarray, seed: int):
    """The trunk network's own probe: a regression on its "style" or "gram" statistics of the
    paintings (concat+trunk's strength; the Gram statistics reduced to 256 components)."""
    return fit_standardised_logistic_regression(getattr(views, kind), labels, TRUNK_PROBE_STRENGTH, seed,
                                                TRUNK_PROBE_COMPONENTS[kind])


def _supervised_encoder(inputs: BaselineInputs) -> Measured:
    if inputs.supervised_epochs <= 0:
        return []
    run, evaluation = inputs.run, inputs.evaluation
    model = SupervisedBaseline(run.config, run.model, run.inference)
    model.fit(inputs.train, inputs.val, inputs.supervised_epochs, inputs.progress)
    result = scored(model.predict_proba(evaluation.images[evaluation.known]), evaluation, run.artists)
    result.details = {"epochs": inputs.supervised_epochs, "best_epoch": model.best_epoch,
                      "val_top1": model.best_val_accuracy, "seconds": round(model.seconds, 1)}
    return [(None, result)]


def _probe_row(name: str | None, probe: Baseline) -> str:
    details = probe.details
    reduced = f" + {details['components']} components" if details.get("components") else ""
    auroc = f" (unknown AUROC {probe.unknown_auroc:.3f})" if probe.unknown_auroc is not None else ""
    return (f"{str(name).split()[0]} {details['features']} ({', '.join(details['layers'])}; {details['image_size']} px)"
            f"{reduced} + logistic regression{auroc}")


BASELINES = (  # measured, printed and plotted in this order
    BaselineKind("run", _other_run, lambda _, b: f"baseline run ({b.details['encoders']})",
                 lambda _, b: f"run {Path(b.details['run']).name}"),
    BaselineKind("colour_histogram", _colour_histogram, lambda *_: "colour histogram + logistic regression",
                 lambda *_: "colour histogram"),
    BaselineKind("pretrained_features", _pretrained_features, _probe_row,
                 lambda name, b: f"{str(name).split()[0]} {b.details['features']}"),
    BaselineKind("supervised_encoder", _supervised_encoder,
                 lambda _, b: f"supervised encoder (epoch {b.details['best_epoch']} of {b.details['epochs']}, by val)",
                 lambda *_: "supervised encoder"),
)
_KINDS = {kind.key: kind for kind in BASELINES}


def measure_baselines(inputs: BaselineInputs) -> list[MeasuredBaseline]:
    """Every baseline that applies, in the order of `BASELINES`."""
    return [MeasuredBaseline(kind.key, name, result) for kind in BASELINES for name, result in kind.measure(inputs)]


def _in_order(report: EvaluationReport) -> list[MeasuredBaseline]:
    """The report's baselines in the order of `BASELINES` (a report read back from JSON keeps the file's order)."""
    order = {kind.key: index for index, kind in enumerate(BASELINES)}
    return sorted(report.baselines, key=lambda baseline: order[baseline.kind])  # stable: named ones keep their order


def shown(report: EvaluationReport) -> list[tuple[str, Baseline]]:
    """(row label, result) of every baseline, for the summary's table."""
    return [(_KINDS[b.kind].row(b.name, b.result), b.result) for b in _in_order(report)]


def leads(report: EvaluationReport) -> dict[str, Lead]:
    """Short name -> the run's lead over that baseline, for the plot."""
    return {_KINDS[b.kind].short(b.name, b.result): b.result.run_minus_baseline for b in _in_order(report)
            if b.result.run_minus_baseline is not None}
