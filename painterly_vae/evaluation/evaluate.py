"""`painterly-vae evaluate`: how well does a run attribute paintings it has never seen?

On the run's test split by default, or on any folder of artist sub-folders (prepared on the
fly exactly as the run's data was) or prepared directory: a folder that is not the run's own
data is a test set, so all of it is evaluated unless a split is asked for. Artists in the data
that the run does not know test the "unknown" answer. Writes `report.json` and PNG plots and
returns the report:

- attribution: top-1 / top-3 / balanced accuracy, per-artist precision and recall,
  confusion matrix and the pairs of painters confused most; calibration (expected calibration
  error, reliability diagram);
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
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, roc_auc_score, silhouette_score
from sklearn.mixture import GaussianMixture

from data_tools.atomic import atomic_write_bytes
from data_tools.processed import SPLITS, ProcessedData
from painterly_vae.errors import UsageError
from painterly_vae.evaluation import plots
from painterly_vae.evaluation.baselines import BaselineInputs, leads, measure_baselines, split_labels
from painterly_vae.evaluation.classification import classification_metrics
from painterly_vae.evaluation.evaluation_set import ALL_SPLITS, EvaluationSet, encode_evaluation_set
from painterly_vae.evaluation.fidelity_comparison import compare_reconstructions
from painterly_vae.evaluation.generation import crossing_shift, sample_frechet
from painterly_vae.evaluation.reconstructions import Reconstructions
from painterly_vae.evaluation.report import Attribution, Dating, EvaluationReport, RepresentationScore, Unknown
from painterly_vae.inference.clustering import ArtistClusters
from painterly_vae.inference.dating import dating_metrics, median_years, split_years
from painterly_vae.inference.hard_pairs import most_confused
from painterly_vae.inference.latents import LatentViews
from painterly_vae.inference.projections import project, shared_space_features
from painterly_vae.inference.representation_choice import fit_representations, offers_concat
from painterly_vae.inference.representations import REPRESENTATIONS
from painterly_vae.inference.run_data import folder_name, open_run_data
from painterly_vae.inference.trained_run import TrainedRun, split_views

CONFUSED_PAIRS_PLOTTED = 10  # the pairs of painters drawn in plots/confused_pairs.png, most confused first
# `elbo` reads every painting's reconstruction through every encoder, a decoder pass per encoder: at
# 100 painters encoding with them took 3.5x as long as without, most of `evaluate`. Beyond this many
# encoders it is left out of the representations compared (`auto` never chooses it), unless the run
# attributes with it.
ELBO_COMPARED_ENCODERS = 20


def evaluate_run(run: TrainedRun, data_path: Path | None = None, split: str | None = None,
                 baseline: TrainedRun | None = None, supervised_epochs: int = 0,
                 progress: bool = True, pretrained: list[str] | None = None,
                 unknown_split: str | None = None) -> tuple[EvaluationReport, Path]:
    """Evaluate, write report.json and plots; returns the report and the folder written.

    `split` is train, val, test or all; None means test on the run's own data and all of any
    other folder. `supervised_epochs` > 0 also trains the supervised-encoder baseline for that
    many epochs. The pretrained-features baseline runs for every network the run was trained
    with, and for those named in `pretrained`. `unknown_split` takes the paintings of artists the
    run does not know from another split (None: the same)."""
    clusters = run.require_clusters()
    if baseline is not None and baseline.artists != run.artists:
        raise UsageError(f"--baseline {baseline.run_dir.name} knows {', '.join(baseline.artists)}, the run knows "
                         f"{', '.join(run.artists)}: compare runs trained on the same artists")
    data = open_run_data(run, data_path, same_artists=False, progress=progress)
    training = _training_data(run)
    if split is None:  # the run's own paintings (even as a raw folder): its test split; any other folder: all of it
        split = "test" if data_path is None or _shares_paintings(training, data) else ALL_SPLITS
    if unknown_split == split:
        unknown_split = None
    out_dir = run.run_dir if data_path is None else run.run_dir / "evaluations" / (
        f"{folder_name(Path(data_path))}-{split}" + (f"-unknown-{unknown_split}" if unknown_split else ""))
    plot_dir = out_dir / "plots"
    compared = _compared_representations(run, clusters)
    reconstruct = clusters.needs_reconstructions or any(REPRESENTATIONS[name].needs_reconstructions for name in compared)
    evaluation = encode_evaluation_set(run, data, split, progress, unknown_split, reconstruct)
    where = f"{data.root}" if split == ALL_SPLITS else f"the {split} split of {data.root}"
    if not evaluation.known.any():
        raise UsageError(f"no paintings of the run's artists ({', '.join(run.artists)}) in {where}")
    for asked, option in ((supervised_epochs > 0, "--supervised-baseline"), (bool(pretrained), "--pretrained-baseline")):
        if asked and training is None:
            raise UsageError(f"{option} trains on the run's prepared data, which is not at "
                             f"{run.config.data.path} (or holds other artists)")
    reconstructions = Reconstructions(run, evaluation)
    reconstructions.picture(plot_dir / "reconstructions.png")
    attribution, evaluation.attributed = _attribution_metrics(clusters, evaluation, run.artists, plot_dir, "this run")
    report = EvaluationReport(
        run=str(run.run_dir),
        data=str(data_path or data.root),
        prepared_data=str(data.root),
        split=split,
        unknown_split=unknown_split,
        image_size=run.config.model.image_size,
        input_size=run.config.model.input_size,
        trunk=run.config.model.trunk or None,
        encoders=run.config.model.encoders,
        representation=clusters.representation,
        selection=clusters.selection,
        paintings={"known": int(evaluation.known.sum()), "unknown_artists": int((~evaluation.known).sum())},
        artists=run.artists,
        unknown_artists=sorted({n for n, k in zip(evaluation.names, evaluation.known) if not k}),
        attribution=attribution,
        unknown=_unknown_metrics(clusters, evaluation),
        clustering=_unsupervised_metrics(evaluation),
        reconstruction=reconstructions.quality(),
    )
    _latent_map(run, evaluation, plot_dir)
    train_views = train_labels = None
    if training is not None:
        if run.dating is not None:
            report.dating = _dating(run, training, evaluation)
        train_views, train_labels = split_views(run.model, training, "train", run.inference, progress,
                                                reconstruct=reconstruct)
        report.representations = _compare_representations(run, compared, training, train_views, train_labels,
                                                           evaluation, progress, reconstruct)
    networks = list(dict.fromkeys([*run.recorded_networks, *(pretrained or [])]))
    inputs = BaselineInputs(run, evaluation, data, training, train_views, train_labels, networks, supervised_epochs,
                            baseline, progress)
    probe = reconstructions.style_probe(inputs)
    report.fidelity = reconstructions.fidelity(inputs, probe)
    report.fidelity.crossings = crossing_shift(run, evaluation, reconstructions, probe)
    report.fidelity.samples_frechet = sample_frechet(run, reconstructions, probe)
    if baseline is not None:
        compared = compare_reconstructions(reconstructions, baseline, evaluation, probe, run.config.training.seed)
        report.fidelity.against_baseline = compared
        if compared is not None:
            plots.reconstruction_leads_png(compared, plot_dir / "reconstructions_against_baseline.png",
                                           f"this run's reconstructions against {baseline.run_dir.name}'s "
                                           f"({compared['encoders']} encoders), on all paintings and painter by painter")
    report.baselines = measure_baselines(inputs)
    run_leads = leads(report)
    if run_leads:
        plots.lead_png(run_leads, plot_dir / "baselines.png",
                       f"this run against each baseline on the same {int(evaluation.known.sum())} paintings")
    report.plots = sorted(str(p.relative_to(out_dir)) for p in plot_dir.glob("*.png"))
    atomic_write_bytes(out_dir / "report.json", json.dumps(report.to_json(), indent=1).encode("utf-8"))
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


# ---------------------------------------------------------------------- attribution
def _attribution_metrics(clusters: ArtistClusters, evaluation: EvaluationSet, artists: list[str],
                         plot_dir: Path, title: str) -> tuple[Attribution, np.ndarray]:
    """The run's attribution metrics and plots, and the artist it names for each known painting."""
    known = evaluation.known
    probabilities = clusters.predict_proba(evaluation.views.select(known))
    metrics = classification_metrics(probabilities, evaluation.labels[known], artists)
    plots.confusion_png(np.array(metrics.confusion), artists, plot_dir / "confusion.png",
                        f"{title}: top-1 {metrics.top1:.0%} on {known.sum()} paintings")
    plots.reliability_png(probabilities.max(1), probabilities.argmax(1) == evaluation.labels[known], plot_dir / "reliability.png")
    confused = most_confused(np.array(metrics.confusion), artists, top=CONFUSED_PAIRS_PLOTTED)
    if confused:
        plots.confused_pairs_png(confused, plot_dir / "confused_pairs.png",
                                 f"{title}: the pairs of painters confused most on {known.sum()} paintings")
    return metrics, probabilities.argmax(1)


def _share_per_artist(chosen: np.ndarray, labels: np.ndarray, artists: list[str]) -> dict[str, float]:
    """The share of each known painter's paintings where `chosen` holds (painters with none left out)."""
    return {artist: float(chosen[labels == index].mean()) for index, artist in enumerate(artists)
            if np.any(labels == index)}


def _unknown_metrics(clusters: ArtistClusters, evaluation: EvaluationSet) -> Unknown:
    familiarity = clusters.familiarity(evaluation.views)
    probabilities = clusters.predict_proba(evaluation.views)
    flagged = clusters.rejects(familiarity, probabilities.argmax(1))
    known = evaluation.known
    metrics = Unknown(threshold=clusters.threshold, accept_share_on_val=clusters.accept_share,
                      false_rejection_rate=float(flagged[known].mean()),
                      threshold_rule="overall" if clusters.painter_thresholds is None else "per-painter")
    # which painters pay for the threshold (one for all: the config asks a share over all; one per painter: of each)
    metrics.false_rejections_per_artist = _share_per_artist(flagged, evaluation.labels, clusters.artists)
    if clusters.familiarity_mix is not None:
        metrics.familiarity_mix = clusters.familiarity_mix.mix
    if clusters.strangers is not None and clusters.strangers.auroc is not None:
        metrics.held_out_auroc, metrics.held_out_flagged = clusters.strangers.auroc, 1 - clusters.strangers.pass_rate
        metrics.held_out_painters = clusters.strangers.left_out()
    if clusters.plausible is not None:
        sets = clusters.plausible_given(probabilities, familiarity)
        own = np.zeros(len(sets), bool)
        own[known] = sets[np.flatnonzero(known), evaluation.labels[known]]
        metrics.plausible_coverage, metrics.plausible_size = float(own[known].mean()), float(sets[known].sum(1).mean())
        metrics.plausible_coverage_per_artist = _share_per_artist(own, evaluation.labels, clusters.artists)
        if (~known).any():
            metrics.plausible_empty_strangers = float((sets[~known].sum(1) == 0).mean())
    if (~known).any():
        metrics.detection_rate = float(flagged[~known].mean())
        metrics.auroc = float(roc_auc_score(~known, -familiarity))
        names = np.asarray(evaluation.names)
        metrics.per_artist = {  # which painters the run tells apart from its own, and which it mistakes for them
            name: {"paintings": int((names == name).sum()), "detection_rate": float(flagged[names == name].mean()),
                   "auroc": float(roc_auc_score(names[known | (names == name)] == name,
                                                -familiarity[known | (names == name)]))}
            for name in sorted(set(names[~known]))
        }
    return metrics


def _compared_representations(run: TrainedRun, clusters: ArtistClusters) -> list[str]:
    """The representations `evaluate` fits on the training paintings and scores beside the run's:
    every one the run can use, less concat where `auto` does not offer it and, beyond
    `ELBO_COMPARED_ENCODERS` encoders, elbo (unless the run attributes with it)."""
    trunk, encoders = bool(run.config.model.trunk), len(run.model.encoders)
    names = [name for name, kind in REPRESENTATIONS.items() if trunk or not kind.needs_trunk]
    if not offers_concat(trunk, encoders * run.config.model.latent_dim):
        names.remove("concat")  # as `auto`, which does not offer it there
    if encoders > ELBO_COMPARED_ENCODERS and clusters.representation != "elbo":
        names.remove("elbo")
    return names


def _compare_representations(run: TrainedRun, names: list[str], training: ProcessedData, train_views: LatentViews,
                             train_labels: np.ndarray, evaluation: EvaluationSet, progress: bool,
                             reconstruct: bool) -> dict[str, RepresentationScore]:
    val_views, val_labels = split_views(run.model, training, "val", run.inference, progress, reconstruct=reconstruct)
    known = evaluation.known
    fitted = fit_representations(names, lambda name: ArtistClusters(run.artists, run.model.encoder_of_each_artist(),
                                                                     run.config.loss, name),
                                 train_views, train_labels)
    results = {}
    for representation, clusters in fitted.items():
        clusters.calibrate(val_views, val_labels)
        probabilities = clusters.predict_proba(evaluation.views.select(known))
        metrics = classification_metrics(probabilities, evaluation.labels[known], run.artists)
        results[representation] = RepresentationScore(metrics.top1, metrics.top3, metrics.balanced_accuracy,
                                                      metrics.expected_calibration_error)
    return results


def _dating(run: TrainedRun, training: ProcessedData, evaluation: EvaluationSet) -> Dating | None:
    """The year regression's error on dated paintings, against each artist's median training year."""
    train_labels = split_labels(training, run.artists, "train")
    medians = median_years(split_years(training, run.artists, "train"), train_labels, len(run.artists))
    attributed = run.require_clusters().predict(evaluation.views)
    measured = dating_metrics(run.dating, evaluation.views, evaluation.years, evaluation.labels, medians, attributed)
    return Dating.from_json(measured) if measured else None


# ---------------------------------------------------------------------- the latent space
def _unsupervised_metrics(evaluation: EvaluationSet) -> dict[str, object]:
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
