"""The evaluated paintings through their own artist's encoder and the shared decoder: how much
of each painting comes back, as a viewer would judge it.

Per painting, against the painting at the decoder's size: L1, PSNR, SSIM, sharpness
(`image_quality`), the colour measures and whether the reconstruction retrieves its own
original among all the evaluated ones (`fidelity`); per artist, how much of the variety of its
paintings its reconstructions keep (`fidelity.variety_kept`). For a run that reads paintings through a
pretrained trunk, also what that network sees: its style probe (a regression on its Gram
statistics, fitted on the original training paintings) attributing the reconstructions beside
the originals shrunk to the decoder's size (the most a picture of that size can carry), and the
Fréchet distance between its style statistics of the reconstructions and of those originals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score

from painterly_vae.evaluation import plots
from painterly_vae.evaluation.baselines import BaselineInputs
from painterly_vae.evaluation.evaluation_set import EvaluationSet
from painterly_vae.evaluation.fidelity import (
    RETRIEVAL_SIZE,
    channel_mean_error,
    colour_histogram_distance,
    frechet_distance,
    retrieves_own_original,
    variety_kept,
)
from painterly_vae.evaluation.report import Fidelity, Quality
from painterly_vae.inference.latents import LatentViews
from painterly_vae.inference.trained_run import TrainedRun
from painterly_vae.model.image_quality import psnr, sharpness_ratio, ssim
from painterly_vae.model.model import PainterlyVAE, resize
from painterly_vae.runtime.batched import run_batched
from painterly_vae.runtime.precision import full_precision

GRID_PER_ARTIST = 6
READOUT_STRENGTH = 1.0  # the ridge penalty on standardised z
PER_PAINTING = ("l1", "psnr", "ssim", "sharpness", "channel_mean_error", "colour_histogram_distance")


class Reconstructions:
    """Every known evaluated painting's reconstruction, measured (see the module docstring)."""

    def __init__(self, run: TrainedRun, evaluation: EvaluationSet, observer: PainterlyVAE | None = None) -> None:
        """`observer`: the model whose trunk reads the reconstructions for the style measures
        (default the run's own; another run's reconstructions are read by the evaluated run's trunk)."""
        self.run = run
        self.observer = observer if observer is not None else run.model
        self.artists: list[str] = []
        self.measures: list[dict[str, torch.Tensor]] = []  # per artist: per-painting measures and thumbnails
        run.model.eval()
        for index, artist in enumerate(run.artists):
            images = evaluation.images[evaluation.labels == index]
            if len(images):
                batches = run_batched(images, lambda batch, index=index: self._measured(batch, index), run.inference)
                self.artists.append(artist)
                self.measures.append({key: torch.cat([b[key] for b in batches]) for key in batches[0]})

    def _measured(self, batch: torch.Tensor, artist: int) -> dict[str, torch.Tensor]:
        output = self.run.model(batch, artist)
        target, reconstruction = output.target.float(), output.reconstruction.float().clamp(0, 1)
        with full_precision(batch.device):  # the measures in fp32 whatever precision the model ran in
            measured = self._compared(target, reconstruction)
        if self.observer.trunk is not None:  # what the network sees of each, both read at the trunk's size
            for name, images in (("target", target), ("reconstruction", reconstruction)):
                measured[f"{name}_style"], measured[f"{name}_gram"] = network_view(self.observer, images)
        return {key: value.cpu() for key, value in measured.items()}

    @staticmethod
    def _compared(target: torch.Tensor, reconstruction: torch.Tensor) -> dict[str, torch.Tensor]:
        return {
            "l1": (reconstruction - target).abs().flatten(1).mean(1), "psnr": psnr(reconstruction, target),
            "ssim": ssim(reconstruction, target), "sharpness": sharpness_ratio(reconstruction, target),
            "channel_mean_error": channel_mean_error(reconstruction, target),
            "colour_histogram_distance": colour_histogram_distance(reconstruction, target),
            "target": target[:GRID_PER_ARTIST], "reconstruction": reconstruction[:GRID_PER_ARTIST],
            "target_thumbnail": resize(target, min(RETRIEVAL_SIZE, target.shape[-1])),
            "reconstruction_thumbnail": resize(reconstruction, min(RETRIEVAL_SIZE, target.shape[-1])),
        }

    def stacked(self, key: str) -> torch.Tensor:
        """One measure of every measured painting, artist by artist (the order of `labels`)."""
        return torch.cat([m[key] for m in self.measures])

    @property
    def labels(self) -> np.ndarray:
        return np.concatenate([np.full(len(m["l1"]), self.run.artists.index(a)) for a, m in zip(self.artists, self.measures)])

    def per_painting(self, probe=None) -> dict[str, np.ndarray]:
        """Each measured painting's measures (`PER_PAINTING`), `retrieved` (1 when its
        reconstruction retrieves its own original) and, given the network's style probe (fitted
        on the training paintings), `style_kept` (1 when it names the painter from the reconstruction)
        and `style_predicted` (the painter it names, an index into the run's artists)."""
        measures = {name: self.stacked(name).numpy().astype(np.float64) for name in PER_PAINTING}
        measures["retrieved"] = retrieves_own_original(self.stacked("reconstruction_thumbnail"),
                                                       self.stacked("target_thumbnail")).astype(np.float64)
        if probe is not None and "reconstruction_gram" in self.measures[0]:
            measures["style_predicted"] = probe.classes_[probe.predict_proba(self.stacked("reconstruction_gram").numpy()).argmax(1)]
            measures["style_kept"] = (measures["style_predicted"] == self.labels).astype(np.float64)
        return measures

    def quality(self) -> dict[str, Quality]:
        """Per artist and "mean" (the mean over artists): every per-painting measure, averaged, and
        the variety of the artist's reconstructions kept (an artist with one painting has none)."""
        per_artist = {artist: Quality(**{name: float(m[name].mean()) for name in PER_PAINTING},
                                      variety_kept=self.variety(m))
                      for artist, m in zip(self.artists, self.measures)}
        varieties = [q.variety_kept for q in per_artist.values() if q.variety_kept is not None]
        per_artist["mean"] = Quality(**{name: float(np.mean([getattr(q, name) for q in per_artist.values()]))
                                        for name in PER_PAINTING},
                                     variety_kept=float(np.mean(varieties)) if varieties else None)
        return per_artist

    @staticmethod
    def variety(measures: dict[str, torch.Tensor]) -> float | None:
        """`fidelity.variety_kept` of one artist's reconstructions, on the retrieval thumbnails."""
        if len(measures["target_thumbnail"]) < 2:
            return None
        return variety_kept(measures["reconstruction_thumbnail"], measures["target_thumbnail"])

    def picture(self, path: Path) -> None:
        """A grid per artist: paintings above their reconstructions."""
        plots.reconstructions_png({artist: (m["target"].numpy(), m["reconstruction"].numpy())
                                   for artist, m in zip(self.artists, self.measures)}, path)

    def style_probe(self, inputs: BaselineInputs):
        """The network's Gram probe fitted on the original training paintings (None without a
        trunk or the run's training data): it attributes reconstructions, crossings and samples."""
        if self.run.model.trunk is None or inputs.training is None:
            return None
        return inputs.trunk_regression("gram")

    def fidelity(self, inputs: BaselineInputs, probe=None) -> Fidelity:
        """Retrieval and colour over all the paintings; with the run's training data, how much of
        the painting z itself holds (`latent_readout`); with a trunk, what its probe sees."""
        measures = self.per_painting(probe)
        fidelity = Fidelity(
            paintings=len(measures["retrieved"]),
            retrieval_top1=float(measures["retrieved"].mean()),
            retrieval_space=f"pixels at {self.stacked('target_thumbnail').shape[-1]} px (L2), among the "
                            f"{len(measures['retrieved'])} evaluated originals",
            channel_mean_error=float(measures["channel_mean_error"].mean()),
            colour_histogram_distance=float(measures["colour_histogram_distance"].mean()),
        )
        if inputs.training is None or fidelity.paintings < 2:
            return fidelity
        fidelity.readout_retrieval_top1 = latent_readout(inputs)
        fidelity.readout_space = (f"a ridge regression from z (the painting's own encoder) to {RETRIEVAL_SIZE} px "
                                  f"thumbnails, fitted on the training paintings; retrieval as above")
        if probe is None:
            return fidelity
        originals = probe.classes_[probe.predict_proba(self.stacked("target_gram").numpy()).argmax(1)]
        fidelity.style_originals = float(np.mean(originals == self.labels))
        fidelity.style_reconstructions = float(measures["style_kept"].mean())
        fidelity.style_originals_balanced = float(balanced_accuracy_score(self.labels, originals))
        fidelity.style_reconstructions_balanced = float(balanced_accuracy_score(self.labels, measures["style_predicted"]))
        fidelity.style_probe = f"{self.network} Gram statistics + logistic regression, fitted on the training paintings"
        fidelity.frechet_distance = self.frechet()
        fidelity.frechet_features = f"{self.network} style statistics (channel means and standard deviations)"
        return fidelity

    @property
    def network(self) -> str:
        return f"{self.observer.config.trunk} ({', '.join(self.observer.style_layers)})"

    def frechet(self, artist: str | None = None) -> float:
        """The Fréchet distance between the style statistics of the reconstructions and of their
        originals: all the measured paintings, or one artist's."""
        chosen = [m for a, m in zip(self.artists, self.measures) if artist in (None, a)]
        return frechet_distance(torch.cat([m["reconstruction_style"] for m in chosen]).numpy(),
                                torch.cat([m["target_style"] for m in chosen]).numpy())

    def originals_style(self, artist: str) -> np.ndarray:
        return self.measures[self.artists.index(artist)]["target_style"].numpy()


def network_view(observer: PainterlyVAE, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What the observer's trunk sees of images in [0, 1]: (style statistics, Gram statistics), float."""
    inputs = observer.inputs(images, style=True)
    return inputs.style.float(), inputs.gram.float()


def latent_readout(inputs: BaselineInputs) -> float:
    """How much of the painting z holds, whatever the decoder makes of it: a linear map (ridge,
    on standardised z) from each training painting's z under its own encoder to its thumbnail;
    the share of evaluated paintings whose predicted thumbnail retrieves their own original.
    Above the decoder's own retrieval, the decoder loses what z holds; at it, z never held it."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    run, evaluation = inputs.run, inputs.evaluation
    own = np.asarray(run.model.encoder_of_each_artist())

    def own_mu(views: LatentViews, labels: np.ndarray) -> np.ndarray:
        return views.mu[np.arange(len(labels)), own[labels]].astype(np.float64)

    def thumbnails(images: np.ndarray) -> np.ndarray:
        parts = [resize(torch.from_numpy(np.asarray(images[i : i + 256])).float() / 255, RETRIEVAL_SIZE).flatten(1)
                 for i in range(0, len(images), 256)]
        return torch.cat(parts).numpy()

    known = evaluation.known
    readout = make_pipeline(StandardScaler(), Ridge(alpha=READOUT_STRENGTH))
    readout.fit(own_mu(inputs.train_views, inputs.train_labels), thumbnails(inputs.train.images))
    predicted = readout.predict(own_mu(evaluation.views.select(known), evaluation.labels[known]))
    shape = (-1, 3, RETRIEVAL_SIZE, RETRIEVAL_SIZE)
    originals = torch.from_numpy(thumbnails(evaluation.images[known])).reshape(shape)
    return float(retrieves_own_original(torch.from_numpy(predicted).float().reshape(shape), originals).mean())
