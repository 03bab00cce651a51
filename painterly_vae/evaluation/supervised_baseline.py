"""A ceiling beside the VAE: the same encoder trained as a supervised artist classifier.

The VAE never sees an artist label while it learns; its clusters are fitted afterwards. How
much attribution does that cost, and how much can any network of this size learn from these
paintings at all? This baseline answers both: a fresh copy of the run's encoder (same
`ModelConfig`, dropout included) with a linear layer from mu to the artists, trained with
cross-entropy on the run's training split (class-balanced weights, random horizontal flips)
for a fixed number of epochs; the epoch kept is the one with the best validation accuracy,
so the evaluated split is never looked at. If the VAE is close to this number, more
clustering cannot help: the limit is what the backbone can learn from the data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from painterly_vae.config import Config
from painterly_vae.model.model import Encoder, PainterlyVAE
from painterly_vae.runtime.batched import InferenceSettings, run_batched
from painterly_vae.runtime.batches import to_device_images
from painterly_vae.runtime.precision import autocast, resolve_precision


@dataclass
class LabelledImages:
    """uint8 (N, 3, H, W) images and their artist indices."""

    images: np.ndarray
    labels: np.ndarray


class SupervisedEncoder(nn.Module):
    """The VAE's encoder with a linear artist classifier on its posterior mean; it reads what
    the run's encoders read (pixels, or the run's frozen trunk's maps)."""

    def __init__(self, model: PainterlyVAE, artists: int) -> None:
        super().__init__()
        self.__dict__["run_model"] = model  # only for its (frozen) input path: not trained, not in the state dict
        self.encoder = Encoder(model.config, *model.encoder_input_shape())
        self.classify = nn.Linear(model.config.latent_dim, artists)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classify(self.encoder(self.run_model.inputs(images).encoder).mu)


class SupervisedBaseline:
    """fit on training images (validation picks the epoch), then predict_proba."""

    def __init__(self, config: Config, model: PainterlyVAE, settings: InferenceSettings) -> None:
        self.config = config
        artists = len(model.artists)
        self.artists = artists
        self.device = settings.device
        # it trains: the run's training precision (not its inference's, fp32 under auto) and layout;
        # bf16 only, since fp16 would need loss scaling
        trained_in = resolve_precision(config.training.precision, self.device)
        self.settings = settings.with_precision(trained_in if trained_in == torch.bfloat16 else None)
        torch.manual_seed(config.training.seed)
        self.network = SupervisedEncoder(model, artists).to(self.device, memory_format=settings.memory_format)
        self.best_epoch = 0
        self.best_val_accuracy = 0.0
        self.seconds = 0.0

    def fit(self, train: LabelledImages, val: LabelledImages, epochs: int, progress: bool = True) -> "SupervisedBaseline":
        t = self.config.training
        optimizer = torch.optim.Adam(self.network.parameters(), lr=t.encoder_lr, betas=tuple(t.adam_betas))
        counts = np.bincount(train.labels, minlength=self.artists).astype(np.float64)
        weights = torch.tensor(len(train.labels) / (self.artists * np.maximum(counts, 1)), dtype=torch.float32, device=self.device)
        loss_function = nn.CrossEntropyLoss(weight=weights)
        generator = np.random.default_rng(t.seed)
        best_state: dict[str, torch.Tensor] = {}
        started = time.perf_counter()
        for epoch in tqdm(range(1, epochs + 1), desc="supervised baseline", unit="epoch", disable=not progress, leave=False):
            self.network.train()
            order = generator.permutation(len(train.labels))
            for start in range(0, len(order), t.batch_size):
                rows = np.sort(order[start : start + t.batch_size])
                images = train.images[rows]
                flips = generator.random(len(rows)) < 0.5
                images[flips] = images[flips][..., ::-1]
                batch = self._on_device(images)
                labels = torch.from_numpy(train.labels[rows]).to(self.device)
                with autocast(self.device, self.settings.amp_dtype):
                    logits = self.network(batch)
                loss = loss_function(logits.float(), labels)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            accuracy = float(np.mean(self.predict_proba(val.images).argmax(1) == val.labels)) if len(val.labels) else 0.0
            if epoch == 1 or accuracy > self.best_val_accuracy:
                self.best_epoch, self.best_val_accuracy = epoch, accuracy
                best_state = {k: v.clone() for k, v in self.network.state_dict().items()}
        if best_state:  # no epochs, no state to restore
            self.network.load_state_dict(best_state)
        self.seconds = time.perf_counter() - started
        return self

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        self.network.eval()
        parts = run_batched(images, lambda batch: torch.softmax(self.network(batch).float(), 1).cpu(), self.settings)
        return torch.cat(parts).numpy() if parts else np.zeros((0, self.artists))

    def _on_device(self, images: np.ndarray) -> torch.Tensor:
        """uint8 images as a float training batch on the device, laid out as the network is."""
        return to_device_images(images, self.device).contiguous(memory_format=self.settings.memory_format)
