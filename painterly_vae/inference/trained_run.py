"""A trained run opened for use: the model rebuilt from its own checkpoint, its clusters, its
year regression, and how its paintings were preprocessed; plus fitting those latent models.

Everything comes from the checkpoint (config, artist names, weights, clusters,
preprocessing), never from today's defaults, so a run trained months ago attributes the same
way today. Attribution and evaluation use `last.pt`, the model at the end of training, whose
clusters are fitted to it.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from data_tools.processed import ProcessedData
from painterly_vae.config import Config
from painterly_vae.errors import UsageError
from painterly_vae.inference.clustering import ArtistClusters
from painterly_vae.inference.dating import YearRegression, fit_dating, split_years
from painterly_vae.inference.decoder_statistics import recompute_decoder_statistics
from painterly_vae.inference.exposure import read_other_paintings
from painterly_vae.inference.fit_progress import FitProgress
from painterly_vae.inference.known_paintings import KnownPaintings
from painterly_vae.inference.latents import LatentViews, encode_views, encoding_bar, views_of_inputs
from painterly_vae.inference.painter_thresholds import PainterThresholds, cross_fitted
from painterly_vae.inference.plausible_painters import PlausiblePainters
from painterly_vae.inference.representation_choice import AUTO, choose_representation
from painterly_vae.inference.representations import REPRESENTATIONS, Representation
from painterly_vae.inference.run_data import open_run_data
from painterly_vae.inference.strangers import left_out_painters, measure_strangers
from painterly_vae.model.model import PainterlyVAE
from painterly_vae.model.pretrained import load_networks
from painterly_vae.model.trunk_cache import TrunkCache
from painterly_vae.runtime.batched import InferenceSettings, run_batched
from painterly_vae.runtime.run_state import RunState, load_run_state, save_run_state
from painterly_vae.runtime.runs import find_run, last_checkpoint, runs_dirs


@dataclass
class TrainedRun:
    run_dir: Path
    state: RunState
    config: Config
    model: PainterlyVAE
    clusters: ArtistClusters | None
    device: torch.device
    dating: YearRegression | None = None  # None: the run's paintings carried too few years

    @property
    def artists(self) -> list[str]:
        return self.model.artists

    @property
    def inference(self) -> InferenceSettings:
        """How the run computes without gradients (`InferenceSettings.of`: fp32 unless its config names a precision)."""
        return InferenceSettings.of(self.config, self.device)

    @property
    def recorded_networks(self) -> dict[str, dict[str, str]]:
        """The pretrained networks the run was trained with (trunk, loss): name -> weights record."""
        return dict(self.state.feature_networks or {})

    @property
    def preprocessing(self) -> dict[str, Any]:
        """How `prepare` squared this run's paintings (size, fit, crops): attribute does the same."""
        return squared_as(self.state.preprocessing, self.config)

    def require_clusters(self) -> ArtistClusters:
        if self.clusters is None:
            raise UsageError(
                f"run {self.run_dir} has no fitted clusters (trained before they existed, or interrupted before "
                f"the end): run `painterly-vae cluster --run {self.run_dir}`"
            )
        return self.clusters


def open_run(run: str | Path | None, device: torch.device, runs_dir: Path | None = None,
             weights: dict[str, str] | None = None) -> TrainedRun:
    """A run by directory, by name under `runs_dir` (None: $PAINTERLY_VAE_RUNS, then runs/;
    `runtime.runs.runs_dirs`), or the most recent one when None.

    A run that reads paintings through a pretrained trunk loads it from where the run's config
    says (or from `weights`: network name -> file), and only if its SHA-256 is the one the run
    was trained with."""
    if run is not None and Path(run).is_dir():
        run_dir = Path(run)
    elif run is not None and ("/" in str(run) or "\\" in str(run)):
        raise UsageError(f"no run directory {run}")
    else:
        run_dir = find_run(runs_dirs(runs_dir), None if run is None else str(run))
    try:
        # on the CPU: the clusters and the year regression are NumPy estimators; the model moves below
        state = load_run_state(last_checkpoint(run_dir), map_location="cpu", mmap=True)
        config = Config.from_dict(state.config)
    except KeyError as error:
        raise UsageError(f"{run_dir} holds a checkpoint this painterly-vae cannot rebuild ({error})") from None
    config = config.with_values({f"networks.{name}.weights": str(path) for name, path in (weights or {}).items()})
    trunk = None
    if config.model.trunk:
        layers = {config.model.trunk: config.model.resolved_trunk_layer()}
        trunk = load_networks(config, progress=False, recorded=state.feature_networks, run=f"run {run_dir}",
                              layers=layers)[config.model.trunk]
    try:
        model = PainterlyVAE(config.model, list(state.artists), trunk).to(device)
        model.load_state_dict(state.model)
    except (KeyError, RuntimeError) as error:
        raise UsageError(f"{run_dir} holds a checkpoint this painterly-vae cannot rebuild ({error})") from None
    model.lay_out(config.training.channels_last).eval()
    clusters = None
    if state.clusters is not None:
        clusters = ArtistClusters.from_state_dict(state.clusters, config.loss)
    dating = YearRegression.from_state_dict(state.dating) if state.dating is not None else None
    return TrainedRun(run_dir, state, config, model, clusters, device, dating)


def split_views(model: PainterlyVAE, data: ProcessedData, split: str, settings: InferenceSettings,
                progress: bool = False, watch: FitProgress | None = None, reconstruct: bool = True,
                cache: TrunkCache | None = None) -> tuple[LatentViews, np.ndarray]:
    """Views of every painting of `split` for the model's artists, and their artist indices; with
    `watch`, its bar (which honours a stop after every batch) instead of a plain one; without
    `reconstruct`, no decoder pass (`encode_views`). With the training's trunk `cache`, the
    training split's paintings are encoded from its maps and statistics instead of the trunk."""
    parts, labels = [], []
    total, what = sum(data.count(artist, split) for artist in model.artists), f"encoding {split}"
    with watch.bar(total, what) if watch is not None else encoding_bar(total, what, progress) as bar:
        for index, artist in enumerate(model.artists):
            images = data.array(artist, split)
            if cache is not None and cache.statistics is not None and split == "train":
                views = encode_cached_views(model, cache, data.artists.index(artist), images, settings, reconstruct, bar)
            else:
                views = encode_views(model, images, settings, reconstruct, bar=bar)
            parts.append(views)
            labels.append(np.full(len(views), index))
    return LatentViews.concatenate(parts), np.concatenate(labels)


def encode_cached_views(model: PainterlyVAE, cache: TrunkCache, artist: int, images: np.ndarray,
                        settings: InferenceSettings, reconstruct: bool, bar) -> LatentViews:
    """`encode_views` of the training paintings of the data's `artist`-th artist with the trunk's
    part read from `cache` (the paintings in order, batch after batch): the encoders alone run."""
    starts = iter(range(0, len(images), settings.batch_size))

    def step(batch: torch.Tensor) -> LatentViews:
        start = next(starts)
        return views_of_inputs(model, cache.inputs(model, artist, np.arange(start, start + len(batch)), batch),
                               reconstruct)

    model.eval()
    parts = run_batched(images, step, settings, bar)
    return LatentViews.concatenate(parts) if parts else encode_views(model, images, settings, reconstruct)


def fit_latent_models(model: PainterlyVAE, config: Config, data: ProcessedData, device: torch.device,
                      progress: bool = False, watch: FitProgress | None = None, cache: TrunkCache | None = None
                      ) -> tuple[ArtistClusters, YearRegression | None]:
    """The clusters (config's clustering.representation, or the one chosen on the validation
    paintings when "auto"; fitted on the training split, temperature and unknown threshold
    calibrated on val, the familiarity mix chosen and how often strangers pass measured by leaving
    each painter out, the paintings it has seen remembered) and the year regression (None if too
    few paintings carry a year), from one encoding of each split. `watch` shows each stage and
    stops the fit between two of them when asked (`FitInterrupted`); by default it shows them
    when `progress` does and never stops. `cache`: the trunk's maps and statistics of the training
    paintings (`split_views`)."""
    watch = watch if watch is not None else FitProgress(show=progress)
    settings = InferenceSettings.of(config, device)
    encoders, artists = model.encoder_of_each_artist(), model.artists
    known = KnownPaintings.of(data, artists)
    others = None
    if config.clustering.others:
        watch.stage(f"reading the paintings of other painters in {config.clustering.others}")
        squared = squared_as(data.index.get("prepared_with", {}).get("options"), config)
        others = read_other_paintings(Path(config.clustering.others), squared, known)
    # only `elbo` reads the reconstructions, a decoder pass per encoder (a third of the encoding); `auto` never chooses it
    reconstruct = REPRESENTATIONS.get(config.clustering.representation, Representation).needs_reconstructions
    train_views, train_labels = split_views(model, data, "train", settings, progress, watch, reconstruct, cache)
    val_views, val_labels = split_views(model, data, "val", settings, progress, watch, reconstruct)
    others_views = None
    if others is not None:
        with watch.bar(len(others.images), "encoding the other painters' paintings") as bar:
            others_views = encode_views(model, others.images, settings, reconstruct=False, bar=bar)

    def clusters_of(chosen: list[int], name: str) -> ArtistClusters:
        return ArtistClusters([artists[a] for a in chosen], [encoders[a] for a in chosen], config.loss,
                              name, config.clustering.accept_share)

    def candidate(name: str) -> ArtistClusters:
        watch.stage(f"fitting {name} on the training paintings")
        return clusters_of(every_artist, name)

    left_out = left_out_painters(len(artists), config.clustering.left_out_painters)

    def without_one(chosen: list[int]) -> ArtistClusters:
        (painter,) = set(every_artist) - set(chosen)
        watch.stage(f"leaving out {artists[painter]} ({left_out.index(painter) + 1} of {len(left_out)}) "
                    f"to measure strangers")
        return clusters_of(chosen, representation)

    every_artist = list(range(len(artists)))
    if config.clustering.representation == AUTO:
        clusters, selection = choose_representation(candidate, bool(config.model.trunk), train_views, train_labels,
                                                    val_views, val_labels)
    else:
        clusters, selection = candidate(config.clustering.representation), None
        clusters.fit(train_views, train_labels)
    representation = clusters.representation
    clusters.fit_exposure(train_views, train_labels, others_views)
    clusters.strangers = measure_strangers(without_one, artists, train_views, train_labels, val_views, val_labels,
                                           others_views, config.clustering.left_out_painters)
    watch.stage("calibrating on the validation paintings, and dating")
    mix = clusters.strangers.mix if clusters.strangers is not None else None
    clusters.calibrate(val_views, val_labels, mix)
    if config.clustering.unknown_threshold == "per-painter" and len(val_labels):  # without validation: one threshold
        clusters.painter_thresholds, clusters.plausible = calibrate_per_painter(
            clusters, lambda: clusters_of(every_artist, representation), train_views, train_labels, val_views,
            val_labels, others_views, watch)
    clusters.selection = selection
    clusters.known = known
    if clusters.exposure is not None:
        clusters.exposure.source = others.describe()
    dating = fit_dating(train_views, split_years(data, artists, "train"), train_labels,
                        val_views, split_years(data, artists, "val"), val_labels, clusters.predict(val_views))
    return clusters, dating


def calibrate_per_painter(clusters: ArtistClusters, new_clusters: Callable[[], ArtistClusters],
                          train_views: LatentViews, train_labels: np.ndarray, val_views: LatentViews,
                          val_labels: np.ndarray, others: LatentViews | None, watch: FitProgress
                          ) -> tuple[PainterThresholds, PlausiblePainters]:
    """Each painter's "unknown" threshold (`painter_thresholds`) and probability floor
    (`plausible_painters`), calibrated on its validation paintings and its training paintings
    cross-fitted: each fold's likeness and probabilities from the same attribution
    (representation, folder of others, familiarity mix) fitted on the other folds."""
    mix = clusters.familiarity_mix.mix if clusters.familiarity_mix is not None else None
    folds = itertools.count(1)

    def answers_without(kept: np.ndarray, held: np.ndarray) -> np.ndarray:
        watch.stage(f"calibrating each painter's threshold: fold {next(folds)}, {int(held.sum())} training paintings held out")
        fold = new_clusters().fit_fold(train_views.select(kept), train_labels[kept], like=clusters)
        fold.fit_exposure(train_views.select(kept), train_labels[kept], others)
        fold.calibrate(val_views, val_labels, mix)
        views = train_views.select(held)
        return np.column_stack([fold.likeness(fold.familiarity(views)), fold.predict_proba(views)])

    answers = np.column_stack([clusters.likeness(clusters.familiarity(val_views)), clusters.predict_proba(val_views)])
    labels = val_labels
    crossed = cross_fitted(answers_without, train_labels)
    if crossed is not None:
        answers, labels = np.concatenate([answers, crossed]), np.concatenate([labels, train_labels])
    painters, alpha = len(clusters.artists), 1 - clusters.accept_share
    return (PainterThresholds.fit(answers[:, 0], labels, painters, alpha),
            PlausiblePainters.fit(answers[:, 1:], labels, alpha))


def squared_as(options: dict[str, Any] | None, config: Config) -> dict[str, Any]:
    """How `prepare` squared a run's paintings (`options`, as it recorded them; runs that did not
    record them: cropped to the model's size): what any other painting is squared as."""
    return dict(options or {"size": config.model.input_size, "fit": "crop"})


def refit_clusters(run: TrainedRun, data_path: Path | None = None, representation: str | None = None,
                   progress: bool = True, accept_share: float | None = None,
                   watch: FitProgress | None = None, others: str | None = None,
                   unknown_threshold: str | None = None) -> ArtistClusters:
    """`painterly-vae cluster`: fit the clusters (and the year regression) of an existing run
    again and store them, after recomputing the decoder's statistics per encoder where it keeps
    them (`decoder_statistics`); `representation`, `accept_share`, `others` and
    `unknown_threshold` instead of the run's clustering keys of those names (checked as the
    config checks them)."""
    changed = {"clustering.representation": representation, "clustering.accept_share": accept_share,
               "clustering.others": others, "clustering.unknown_threshold": unknown_threshold}
    config = run.config.with_values({key: value for key, value in changed.items() if value is not None})
    data = open_run_data(run, data_path, progress=progress)
    # the trunk's maps and statistics of the training paintings, when training left them beside the data
    cache = TrunkCache.stored(run.model, data) if run.model.trunk is not None and config.training.trunk_cache else None
    recomputed = recompute_decoder_statistics(run.model, data, InferenceSettings.of(config, run.device),
                                              config.training.batch_size, cache=cache)
    clusters, dating = fit_latent_models(run.model, config, data, run.device, progress, watch, cache)
    model = run.model.state_dict() if recomputed else run.state.model  # other runs' weights are stored as they were
    state = dataclasses.replace(run.state, model=model, clusters=clusters.state_dict(),
                                dating=dating.state_dict() if dating is not None else None)
    save_run_state(last_checkpoint(run.run_dir), state)
    run.clusters, run.dating, run.state = clusters, dating, state
    return clusters
