"""`painterly-vae evaluate`: how well does a run attribute paintings it has never seen?

On the run's test split by default, or on any folder of artist sub-folders (prepared on the
fly exactly as the run's data was) or prepared directory: a folder that is not the run's own
data is a test set, so all of it is evaluated unless a split is asked for. Artists in the data
that the run does not know test the "unknown" answer. Writes `report.json` and PNG plots and
returns the report:

- attribution: top-1 / top-3 / balanced accuracy, per-artist precision and recall,
  confusion matrix; calibration (expected calibration error, reliability diagram);
- unknown artists: AUROC of the familiarity score, rates at the calibrated threshold;
- the representations compared (own / concat / elbo), each fitted on the training split;
- unsupervised clustering of the latents: k-means and a Gaussian mixture against the true
  artists (NMI, ARI) and the silhouette of the true artists;
- reconstruction per artist through its own encoder: L1, PSNR, SSIM, and a picture;
- a 2-D map of the latents (PCA and t-SNE) coloured by artist;
- baselines on the same paintings: a colour-histogram classifier, a second run (e.g. the
  single-encoder model) when given, and on request the run's encoder trained as a supervised
  classifier (the ceiling of what this backbone learns from these paintings).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import (
    adjusted_rand_score,
    balanced_accuracy_score,
    normalized_mutual_info_score,
    precision_recall_fscore_support,
    roc_auc_score,
    silhouette_score,
)
from sklearn.mixture import GaussianMixture

from data_tools.atomic import atomic_write_bytes
from data_tools.processed import SPLITS, ProcessedData
from painterly_vae.config import REPRESENTATIONS
from painterly_vae.errors import UsageError
from painterly_vae.evaluation import plots
from painterly_vae.evaluation.colour_baseline import colour_histogram_classifier
from painterly_vae.evaluation.image_quality import psnr, sharpness_ratio, ssim
from painterly_vae.evaluation.paired_comparison import paired_difference
from painterly_vae.evaluation.pretrained_baseline import pretrained_features_classifier
from painterly_vae.evaluation.supervised_baseline import LabelledImages, SupervisedBaseline
from painterly_vae.feature_networks import network_spec
from painterly_vae.inference.clustering import GRAM_COMPONENTS, TRUNK_PROBE_STRENGTH, ArtistClusters
from painterly_vae.inference.dating import dating_metrics, median_years, split_years
from painterly_vae.inference.latents import LatentViews, encode_views, encoding_bar
from painterly_vae.inference.linear_probe import DEFAULT_STRENGTH, LinearProbe, fit_standardised_logistic_regression
from painterly_vae.inference.projections import project, shared_space_features
from painterly_vae.inference.run_data import check_run_data, folder_name, open_run_data
from painterly_vae.inference.trained_run import TrainedRun, split_views
from painterly_vae.model.pretrained import load_networks
from painterly_vae.runtime.batched import run_batched

UNKNOWN = -1
ALL_SPLITS = "all"
GRID_PER_ARTIST = 6
QUALITY_MEASURES = ("l1", "psnr", "ssim", "sharpness")  # of each reconstruction against its painting
CALIBRATION_BINS = 10


@dataclass
class EvaluationSet:
    """The paintings evaluated: their views, their artist (index in the run, or UNKNOWN), names."""

    data: ProcessedData
    split: str  # train, val, test or all
    views: LatentViews
    labels: np.ndarray  # (N,) run artist index or UNKNOWN
    names: list[str]  # (N,) artist folder name of each painting
    images: np.ndarray  # (N, 3, H, W) uint8
    years: np.ndarray  # (N,) year of each painting, NaN where unknown
    attributed: np.ndarray | None = None  # (known,) the run's own artist for each known painting, once attributed

    @property
    def known(self) -> np.ndarray:
        return self.labels != UNKNOWN


def evaluate_run(run: TrainedRun, data_path: Path | None = None, split: str | None = None,
                 baseline: TrainedRun | None = None, supervised_epochs: int = 0,
                 progress: bool = True, pretrained: list[str] | None = None) -> tuple[dict[str, Any], Path]:
    """Evaluate, write report.json and plots; returns the report and the folder written.

    `split` is train, val, test or all; None means test on the run's own data and all of any
    other folder. `supervised_epochs` > 0 also trains the supervised-encoder baseline for that
    many epochs. The pretrained-features baseline runs for every network the run was trained
    with, and for those named in `pretrained`."""
    clusters = run.require_clusters()
    if baseline is not None and baseline.artists != run.artists:
        raise UsageError(f"--baseline {baseline.run_dir.name} knows {', '.join(baseline.artists)}, the run knows "
                         f"{', '.join(run.artists)}: compare runs trained on the same artists")
    data = open_run_data(run, data_path, same_artists=False, progress=progress)
    training = _training_data(run)
    if split is None:  # the run's own paintings (even as a raw folder): its test split; any other folder: all of it
        split = "test" if data_path is None or _shares_paintings(training, data) else ALL_SPLITS
    out_dir = run.run_dir if data_path is None else run.run_dir / "evaluations" / f"{folder_name(Path(data_path))}-{split}"
    plot_dir = out_dir / "plots"
    evaluation = _encode(run, data, split, progress)
    where = f"{data.root}" if split == ALL_SPLITS else f"the {split} split of {data.root}"
    if not evaluation.known.any():
        raise UsageError(f"no paintings of the run's artists ({', '.join(run.artists)}) in {where}")
    report: dict[str, Any] = {
        "run": str(run.run_dir),
        "data": str(data_path or data.root),
        "prepared_data": str(data.root),
        "split": split,
        "image_size": run.config.model.image_size,
        "input_size": run.config.model.input_size,
        "trunk": run.config.model.trunk or None,
        "encoders": run.config.model.encoders,
        "representation": clusters.representation,
        "paintings": {"known": int(evaluation.known.sum()), "unknown_artists": int((~evaluation.known).sum())},
        "artists": run.artists,
        "unknown_artists": sorted({n for n, k in zip(evaluation.names, evaluation.known) if not k}),
    }
    report["attribution"], evaluation.attributed = _attribution_metrics(clusters, evaluation, run.artists, plot_dir,
                                                                        "this run")
    report["unknown"] = _unknown_metrics(clusters, evaluation)
    report["clustering"] = _unsupervised_metrics(evaluation)
    report["reconstruction"] = _reconstruction_metrics(run, evaluation, plot_dir)
    _latent_map(run, evaluation, plot_dir)
    if supervised_epochs > 0 and training is None:
        raise UsageError(f"--supervised-baseline trains on the run's prepared data, which is not at "
                         f"{run.config.data.path} (or holds other artists)")
    baselines: dict[str, Any] = {}
    if run.dating is not None and training is not None:
        report["dating"] = _dating(run, training, evaluation)
    if pretrained and training is None:
        raise UsageError(f"--pretrained-baseline trains on the run's prepared data, which is not at "
                         f"{run.config.data.path} (or holds other artists)")
    networks = list(dict.fromkeys([*run.recorded_networks, *(pretrained or [])]))
    if training is not None:
        train_views, train_labels = split_views(run.model, training, "train", run.inference, progress)
        report["representations"] = _compare_representations(run, training, train_views, train_labels, evaluation,
                                                             progress)
        train = _labelled(training, run.artists, "train")  # read once for every baseline
        baselines["colour_histogram"] = _colour_baseline(run, train, evaluation)
        if networks:
            baselines["pretrained_features"] = _pretrained_baselines(run, networks, train, evaluation, progress)
        if run.config.model.trunk:
            baselines.setdefault("pretrained_features", {}).update(_trunk_statistics_baselines(run, train_views, train_labels, evaluation))
        if supervised_epochs > 0:
            val = _labelled(training, run.artists, "val")
            baselines["supervised_encoder"] = _supervised_baseline(run, train, val, evaluation, supervised_epochs, progress)
    if baseline is not None:
        baselines["run"] = _baseline_run(baseline, data, evaluation, progress)
    report["baselines"] = baselines
    leads = _leads(baselines)
    if leads:
        plots.lead_png(leads, plot_dir / "baselines.png",
                       f"this run against each baseline on the same {int(evaluation.known.sum())} paintings")
    report["plots"] = sorted(str(p.relative_to(out_dir)) for p in plot_dir.glob("*.png"))
    atomic_write_bytes(out_dir / "report.json", json.dumps(report, indent=1).encode("utf-8"))
    return report, out_dir


# ---------------------------------------------------------------------- data
def _shares_paintings(training: ProcessedData | None, data: ProcessedData) -> bool:
    """Whether `data` holds any painting of the run's training split (by content hash)."""
    if training is None:
        return False
    seen = {row.get("sha256") for artist in training.artists for row in training.rows(artist, "train")}
    return any(row.get("sha256") in seen for artist in data.artists for s in SPLITS for row in data.rows(artist, s))


def _training_data(run: TrainedRun) -> ProcessedData | None:
    try:
        data = ProcessedData.open(run.config.data.path)
    except UsageError:
        return None
    return data if data.artists == run.artists else None


def _encode(run: TrainedRun, data: ProcessedData, split: str, progress: bool) -> EvaluationSet:
    """Every painting of `split` (or of every split, for "all"), artist by artist."""
    parts, labels, names, images, years = [], [], [], [], []
    splits = SPLITS if split == ALL_SPLITS else (split,)
    with encoding_bar(sum(data.count(a, s) for a in data.artists for s in splits), "encoding", progress) as bar:
        for artist in data.artists:
            for part in splits:
                array = np.asarray(data.array(artist, part))  # read once: encoded, and kept for the pictures
                if not len(array):
                    continue
                parts.append(encode_views(run.model, array, run.inference, bar=bar))
                labels.append(np.full(len(array), run.artists.index(artist) if artist in run.artists else UNKNOWN))
                names += [artist] * len(array)
                images.append(array)
                years.append(split_years(data, [artist], part))
    if not parts:
        raise UsageError(f"no paintings in the {split} split of {data.root}")
    return EvaluationSet(data, split, LatentViews.concatenate(parts), np.concatenate(labels), names,
                         np.concatenate(images), np.concatenate(years))


# ---------------------------------------------------------------------- attribution
def classification_metrics(probabilities: np.ndarray, labels: np.ndarray, artists: list[str]) -> dict[str, Any]:
    """Top-1, top-3, balanced accuracy, per-artist precision/recall, confusion, calibration."""
    predicted = probabilities.argmax(1)
    ranks = np.argsort(-probabilities, axis=1)
    top3 = np.mean([label in row[:3] for label, row in zip(labels, ranks)])
    present = sorted(set(labels.tolist()))
    precision, recall, _, support = precision_recall_fscore_support(labels, predicted, labels=list(range(len(artists))), zero_division=0)
    confidence = probabilities.max(1)
    correct = predicted == labels
    return {
        "top1": float(np.mean(correct)),
        "top3": float(top3),
        "balanced_accuracy": float(balanced_accuracy_score(labels, predicted)) if present else None,
        "per_artist": {a: {"precision": float(precision[i]), "recall": float(recall[i]), "paintings": int(support[i])}
                       for i, a in enumerate(artists)},
        "confusion": _confusion(labels, predicted, len(artists)).tolist(),
        "expected_calibration_error": expected_calibration_error(confidence, correct),
    }


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Weighted mean gap between confidence and accuracy over equal-width confidence bins."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for low, high in zip(edges, edges[1:]):
        chosen = (confidence > low) & (confidence <= high)
        if chosen.any():
            total += chosen.mean() * abs(confidence[chosen].mean() - correct[chosen].mean())
    return float(total)


def _confusion(labels: np.ndarray, predicted: np.ndarray, count: int) -> np.ndarray:
    matrix = np.zeros((count, count), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def _attribution_metrics(clusters: ArtistClusters, evaluation: EvaluationSet, artists: list[str],
                         plot_dir: Path, title: str) -> tuple[dict[str, Any], np.ndarray]:
    """The run's attribution metrics and plots, and the artist it names for each known painting."""
    known = evaluation.known
    probabilities = clusters.predict_proba(evaluation.views.select(known))
    metrics = classification_metrics(probabilities, evaluation.labels[known], artists)
    plots.confusion_png(np.array(metrics["confusion"]), artists, plot_dir / "confusion.png",
                        f"{title}: top-1 {metrics['top1']:.0%} on {known.sum()} paintings")
    plots.reliability_png(probabilities.max(1), probabilities.argmax(1) == evaluation.labels[known], plot_dir / "reliability.png")
    return metrics, probabilities.argmax(1)


def _unknown_metrics(clusters: ArtistClusters, evaluation: EvaluationSet) -> dict[str, Any]:
    familiarity = clusters.familiarity(evaluation.views)
    flagged = familiarity < clusters.threshold
    known = evaluation.known
    metrics: dict[str, Any] = {
        "threshold": clusters.threshold,
        "accept_share_on_val": clusters.accept_share,
        "false_rejection_rate": float(flagged[known].mean()),
    }
    if (~known).any():
        metrics["detection_rate"] = float(flagged[~known].mean())
        metrics["auroc"] = float(roc_auc_score(~known, -familiarity))
        names = np.asarray(evaluation.names)
        metrics["per_artist"] = {  # which painters the run tells apart from its own, and which it mistakes for them
            name: {"paintings": int((names == name).sum()), "detection_rate": float(flagged[names == name].mean()),
                   "auroc": float(roc_auc_score(names[known | (names == name)] == name,
                                                -familiarity[known | (names == name)]))}
            for name in sorted(set(names[~known]))
        }
    return metrics


def _compare_representations(run: TrainedRun, training: ProcessedData, train_views: LatentViews,
                             train_labels: np.ndarray, evaluation: EvaluationSet, progress: bool) -> dict[str, Any]:
    val_views, val_labels = split_views(run.model, training, "val", run.inference, progress)
    known = evaluation.known
    results = {}
    for representation in REPRESENTATIONS:
        if representation == "concat+trunk" and not run.config.model.trunk:
            continue
        clusters = ArtistClusters(run.artists, run.model.encoder_of_each_artist(), run.config.loss, representation)
        clusters.fit(train_views, train_labels).calibrate(val_views, val_labels)
        probabilities = clusters.predict_proba(evaluation.views.select(known))
        metrics = classification_metrics(probabilities, evaluation.labels[known], run.artists)
        results[representation] = {k: metrics[k] for k in ("top1", "top3", "balanced_accuracy", "expected_calibration_error")}
    return results


def _dating(run: TrainedRun, training: ProcessedData, evaluation: EvaluationSet) -> dict[str, Any]:
    """The year regression's error on dated paintings, against each artist's median training year."""
    train_labels = _split_labels(training, run.artists, "train")
    medians = median_years(split_years(training, run.artists, "train"), train_labels, len(run.artists))
    return dating_metrics(run.dating, evaluation.views, evaluation.years, evaluation.labels, medians)


def _split_labels(training: ProcessedData, artists: list[str], split: str) -> np.ndarray:
    """The artist index of every painting of `split`, in the data's order (artist by artist)."""
    return np.concatenate([np.full(training.count(a, split), i) for i, a in enumerate(artists)])


def _labelled(training: ProcessedData, artists: list[str], split: str) -> LabelledImages:
    """Every image of `split` of the run's training data, with its artist index."""
    images = np.concatenate([np.asarray(training.array(a, split)) for a in artists])
    return LabelledImages(images, _split_labels(training, artists, split))


def _baseline_metrics(probabilities: np.ndarray, evaluation: EvaluationSet, artists: list[str]) -> dict[str, Any]:
    """The headline numbers of a baseline's probabilities on the known evaluated paintings, and
    the run's lead over it on the same paintings with its paired bootstrap interval."""
    labels = evaluation.labels[evaluation.known]
    metrics = classification_metrics(probabilities, labels, artists)
    headline = {k: metrics[k] for k in ("top1", "top3", "balanced_accuracy")}
    if evaluation.attributed is not None:
        headline["run_minus_baseline"] = paired_difference(labels, evaluation.attributed, probabilities.argmax(1),
                                                           len(artists))
    return headline


def _colour_baseline(run: TrainedRun, train: LabelledImages, evaluation: EvaluationSet) -> dict[str, Any]:
    return _probe_metrics(colour_histogram_classifier(seed=run.config.training.seed), run, train, evaluation)


def _probe_metrics(probe: LinearProbe, run: TrainedRun, train: LabelledImages, evaluation: EvaluationSet) -> dict[str, Any]:
    """Fit a linear probe on the training paintings and score the known evaluated ones; where
    the data holds unknown artists, also the AUROC of the probe's confidence (its best
    probability) as a familiarity score, the run's own unknown-artist measure."""
    probe.fit(train.images, train.labels)
    return _probability_metrics(probe.predict_proba(evaluation.images), probe.classes, run, evaluation)


def _probability_metrics(predicted: np.ndarray, classes: np.ndarray, run: TrainedRun,
                         evaluation: EvaluationSet) -> dict[str, Any]:
    """A classifier's probabilities over every evaluated painting (columns: `classes`) -> its
    headline numbers on the known ones, and the AUROC of its best probability against the unknown."""
    known = evaluation.known
    probabilities = np.zeros((len(known), len(run.artists)))
    probabilities[:, classes] = predicted
    metrics = _baseline_metrics(probabilities[known], evaluation, run.artists)
    if (~known).any():
        metrics["unknown_auroc"] = float(roc_auc_score(~known, -probabilities.max(1)))
    return metrics


def _pretrained_baselines(run: TrainedRun, names: list[str], train: LabelledImages,
                          evaluation: EvaluationSet, progress: bool) -> dict[str, Any]:
    """Per network: its pooled features at the size the run reads paintings, + logistic regression."""
    layers = {name: network_spec(name).pooled_layer for name in names}
    networks = load_networks(run.config, progress=False, recorded=run.recorded_networks, run=f"run {run.run_dir}",
                             layers=layers)
    size = run.config.model.trunk_size if run.config.model.trunk else run.config.model.input_size
    results = {}
    for name, network in networks.items():
        network.to(run.device)
        probe = pretrained_features_classifier(network, size, run.inference, run.config.training.seed, progress)
        results[name] = {**_probe_metrics(probe, run, train, evaluation), "features": "pooled", "image_size": size,
                         "layers": [layers[name]],
                         "strength": DEFAULT_STRENGTH, "components": None, "weights_sha256": network.record.sha256}
    return results


def _trunk_statistics_baselines(run: TrainedRun, train_views: LatentViews, train_labels: np.ndarray,
                                evaluation: EvaluationSet) -> dict[str, Any]:
    """The trunk network's own statistics without the VAE, from the views (the pass that fed the
    encoders computed them): its style statistics into concat+trunk's regression (`<network>
    style`: like for like, so what z adds shows), and its Gram statistics (`<network> gram`,
    256 principal components: the strongest probe of the network measured)."""
    model = run.config.model
    results = {}
    for kind, features, components in (("style", "style statistics", None), ("gram", "Gram statistics", GRAM_COMPONENTS)):
        regression = fit_standardised_logistic_regression(getattr(train_views, kind), train_labels, TRUNK_PROBE_STRENGTH,
                                                          run.config.training.seed, components)
        predicted = regression.predict_proba(getattr(evaluation.views, kind))
        results[f"{model.trunk} {kind}"] = {
            **_probability_metrics(predicted, regression.classes_, run, evaluation), "features": features,
            "image_size": model.trunk_size,
            "layers": run.model.style_layers, "strength": TRUNK_PROBE_STRENGTH, "components": components,
            "weights_sha256": run.recorded_networks[model.trunk]["sha256"],
        }
    return results


def _supervised_baseline(run: TrainedRun, train: LabelledImages, val: LabelledImages, evaluation: EvaluationSet,
                         epochs: int, progress: bool) -> dict[str, Any]:
    model = SupervisedBaseline(run.config, run.model, run.inference)
    model.fit(train, val, epochs, progress)
    probabilities = model.predict_proba(evaluation.images[evaluation.known])
    return {**_baseline_metrics(probabilities, evaluation, run.artists), "epochs": epochs,
            "best_epoch": model.best_epoch, "val_top1": model.best_val_accuracy, "seconds": round(model.seconds, 1)}


def _baseline_run(baseline: TrainedRun, data: ProcessedData, ours: EvaluationSet, progress: bool) -> dict[str, Any]:
    """Another run (same artists) attributing the same paintings, with this run's lead over it."""
    check_run_data(baseline, data, same_artists=False, role="--baseline run")
    evaluation = _encode(baseline, data, ours.split, progress)
    evaluation.attributed = ours.attributed  # the same paintings in the same order: the comparison is paired
    probabilities = baseline.require_clusters().predict_proba(evaluation.views.select(evaluation.known))
    return {"run": str(baseline.run_dir), "encoders": baseline.config.model.encoders,
            **_baseline_metrics(probabilities, evaluation, baseline.artists)}


def _leads(baselines: dict[str, Any]) -> dict[str, dict]:
    """Short name -> the run's lead over that baseline, for the plot."""
    named = {f"run {Path(baselines['run']['run']).name}": baselines["run"]} if "run" in baselines else {}
    named["colour histogram"] = baselines.get("colour_histogram")
    for name, probe in baselines.get("pretrained_features", {}).items():
        named[f"{name.split()[0]} {probe['features']}"] = probe
    named["supervised encoder"] = baselines.get("supervised_encoder")
    return {name: values["run_minus_baseline"] for name, values in named.items()
            if values is not None and "run_minus_baseline" in values}


# ---------------------------------------------------------------------- the latent space
def _unsupervised_metrics(evaluation: EvaluationSet) -> dict[str, Any]:
    known = evaluation.known
    features, labels = shared_space_features(evaluation.views)[known], evaluation.labels[known]
    clusters = len(set(labels.tolist()))
    if clusters < 2 or len(labels) <= clusters:
        return {}
    reduced = PCA(n_components=min(20, len(labels) - 1, features.shape[1]), random_state=0).fit_transform(features)
    kmeans = KMeans(n_clusters=clusters, n_init=10, random_state=0).fit_predict(reduced)
    mixture = GaussianMixture(n_components=clusters, covariance_type="diag", random_state=0).fit(reduced).predict(reduced)
    return {
        "kmeans": {"nmi": float(normalized_mutual_info_score(labels, kmeans)), "ari": float(adjusted_rand_score(labels, kmeans))},
        "gaussian_mixture": {"nmi": float(normalized_mutual_info_score(labels, mixture)), "ari": float(adjusted_rand_score(labels, mixture))},
        "silhouette_of_true_artists": float(silhouette_score(reduced, labels)),
    }


def _latent_map(run: TrainedRun, evaluation: EvaluationSet, plot_dir: Path) -> None:
    features = shared_space_features(evaluation.views)
    coordinates = {"PCA": project(features, "pca")}
    if len(features) > 5:
        coordinates["t-SNE"] = project(features, "tsne")
    labels = [name if known else f"{name} (unknown to the run)" for name, known in zip(evaluation.names, evaluation.known)]
    plots.latent_map_png(coordinates, labels, plot_dir / "latent_map.png",
                         f"latents of the {evaluation.split} paintings (mu under every encoder)")


# ---------------------------------------------------------------------- reconstruction
def _reconstruction_metrics(run: TrainedRun, evaluation: EvaluationSet, plot_dir: Path) -> dict[str, Any]:
    """Each known painting through its own artist's encoder and the shared decoder."""
    run.model.eval()
    metrics: dict[str, Any] = {}
    grids = {}
    for index, artist in enumerate(run.artists):
        images = evaluation.images[evaluation.labels == index]
        if not len(images):
            continue

        def measured(batch: torch.Tensor, artist_index: int = index) -> dict[str, torch.Tensor]:
            output = run.model(batch, artist_index)
            target, reconstruction = output.target, output.reconstruction.float().clamp(0, 1)
            return {"target": target[:GRID_PER_ARTIST].cpu(), "reconstruction": reconstruction[:GRID_PER_ARTIST].cpu(),
                    "l1": (reconstruction - target).abs().flatten(1).mean(1).cpu(), "psnr": psnr(reconstruction, target).cpu(),
                    "ssim": ssim(reconstruction, target).cpu(), "sharpness": sharpness_ratio(reconstruction, target).cpu()}

        batches = run_batched(images, measured, run.inference)
        grids[artist] = (batches[0]["target"].numpy(), batches[0]["reconstruction"].numpy())
        metrics[artist] = {name: float(torch.cat([b[name] for b in batches]).mean()) for name in QUALITY_MEASURES}
    metrics["mean"] = {k: float(np.mean([m[k] for m in metrics.values()])) for k in QUALITY_MEASURES}
    plots.reconstructions_png(grids, plot_dir / "reconstructions.png")
    return metrics
