"""The alternating trainer: one artist's encoder and the shared decoder per step.

Each step draws a batch of the scheduled artist, runs it through that artist's encoder and
the shared decoder, and updates exactly those two with one forward and one backward pass
(`losses` explains the gradient scaling that gives them different L1 weights). Every other
encoder is left untouched: its optimizer does not step and its BatchNorm does not run.

A non-finite loss never reaches the weights: the step is skipped, the BatchNorm statistics
the forward pass touched are restored, and after `max_nonfinite_steps` skips in a row the
run stops with `TrainingDiverged`.

Under torchrun (`painterly_vae.runtime.distributed`) every rank runs this same loop on its own shard
of each batch; DDP averages the gradients of the active encoder and the decoder, so N
processes with batch B take the step one process with batch N x B would take (up to
BatchNorm, whose batch statistics are per rank). Rank 0 alone writes.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid
from tqdm import tqdm

from data_tools.processed import ProcessedData
from painterly_vae.config import Config
from painterly_vae.errors import DataError, TrainingDiverged
from painterly_vae.inference import explore
from painterly_vae.model.losses import (
    LossTerms,
    kl_per_dimension,
    kl_warmup_scale,
    l1_term,
    latent_gradient_scale,
    vae_loss,
)
from painterly_vae.model.model import ModelInputs, PainterlyVAE, encode_decode, resize
from painterly_vae.model.perceptual import PerceptualLoss
from painterly_vae.model.pretrained import load_networks
from painterly_vae.runtime.batches import TrainingBatches, iterate_split
from painterly_vae.runtime.checkpoint import capture_rng_state, restore_rng_state, save_checkpoint
from painterly_vae.runtime.distributed import (
    SINGLE_PROCESS,
    Processes,
    agree_all_finite,
    average_buffers,
    rank_seed,
    sum_over_ranks_,
    wrap,
)
from painterly_vae.runtime.precision import autocast, describe, resolve_precision
from painterly_vae.runtime.run_log import close_run_log, open_run_log
from painterly_vae.training.schedule import AlternatingSchedule
from painterly_vae.training.training_plan import plan_training
from painterly_vae.training.trunk_cache import TrunkCache

if TYPE_CHECKING:  # training does not need the attribution layer, only carries its state
    from painterly_vae.inference.clustering import ArtistClusters
    from painterly_vae.inference.dating import YearRegression

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. (2016): a unit is active if Var_x E[z_u | x] > 0.01
GRID_IMAGES = 8


@dataclass
class Validation:
    """Validation of the current model: each artist through its own encoder, z = mu."""

    loss: float  # mean over artists of the encoder objective kl_weight * KL + encoder_l1_weight * L1
    l1: dict[str, float]  # per artist: mean absolute pixel error (whatever the loss reduction)
    kl: dict[str, float]  # per artist: KL in nats per painting, summed over latent dimensions
    kl_per_dimension: torch.Tensor  # (latent,) nats, averaged over all validation images
    active_units: int

    @property
    def kl_total(self) -> float:
        """KL summed over latent dimensions, in nats per painting (whatever the loss reduction)."""
        return float(self.kl_per_dimension.sum())

    @property
    def mean_l1(self) -> float:
        """Per-pixel mean absolute error, averaged over artists."""
        return sum(self.l1.values()) / len(self.l1)


@dataclass
class TrainingSummary:
    """What the end of `train` reports."""

    steps: int
    steps_this_session: int
    seconds: float
    images_per_second: float
    best_val_loss: float | None
    final: Validation | None
    nonfinite_steps: int
    run_dir: Path
    artists: list[str] = field(default_factory=list)
    attribution: str | None = None  # filled once the clusters are fitted: how they did on validation


class Trainer:
    """Owns the model, the optimizers, the schedule and the batches of one run."""

    def __init__(
        self, config: Config, data: ProcessedData, run_dir: Path, device: torch.device,
        processes: Processes = SINGLE_PROCESS,
    ) -> None:
        plan = plan_training(config, data)
        self.config = config
        self.data = data
        self.run_dir = Path(run_dir)
        self.device = device
        self.processes = processes
        self.artists = plan.artists
        self.train_counts = plan.train_counts
        self.schedule: AlternatingSchedule = plan.schedule

        t = config.training
        self.amp_dtype = resolve_precision(t.precision, device)
        self.networks = load_networks(config, progress=processes.is_main)  # frozen, pretrained: trunk and loss
        torch.manual_seed(t.seed)  # seed once, before building the model
        trunk = self.networks[config.model.trunk] if config.model.trunk else None
        self.model = PainterlyVAE(config.model, self.artists, trunk).to(device).lay_out(t.channels_last)
        self._seed_this_rank(step=0)
        # what a training step calls: the modules themselves, or their DDP wrappers
        self.step_encoders = [wrap(encoder, processes, device) for encoder in self.model.encoders]
        self.step_decoder = wrap(self.model.shared_decoder, processes, device)
        # fp16 (CUDA only) needs loss scaling; bf16 and fp32 do not
        self.grad_scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        betas = (t.adam_betas[0], t.adam_betas[1])
        self.encoder_optimizers = [
            torch.optim.Adam(encoder.parameters(), lr=t.encoder_lr, betas=betas) for encoder in self.model.encoders
        ]
        self.decoder_optimizer = torch.optim.Adam(self.model.shared_decoder.parameters(), lr=t.decoder_lr, betas=betas)
        self.batches = TrainingBatches(
            data, t.batch_size, t.seed, config.data.hflip, device, processes.rank, processes.world_size
        )
        self.latent_gradient_scale = latent_gradient_scale(config.loss)
        self.perceptual = None
        if config.loss.perceptual_weight > 0:
            network = self.networks[config.loss.perceptual_network]
            self.perceptual = PerceptualLoss(network, config.loss.resolved_perceptual_layers())
            self.perceptual.to(device, memory_format=self.model.memory_format)

        self.trunk_cache: TrunkCache | None = None  # built at the start of fit()
        # the attribution models, fitted on the trained encoders after `fit` (see train_command) and
        # stored in last.pt beside the weights; the trainer only carries them into the checkpoint
        self.clusters: "ArtistClusters | None" = None
        self.dating: "YearRegression | None" = None
        self.step = 0
        self.best_val_loss: float | None = None
        self.nonfinite_in_row = 0
        self.nonfinite_total = 0

    # ----------------------------------------------------------------- one step
    @property
    def global_batch_size(self) -> int:
        return self.config.training.batch_size * self.processes.world_size

    def total_steps(self) -> int:
        """`training.steps`, or as many steps as `training.epochs` passes over all training images take.

        Counted in images still to draw, so a run resumed onto a different number of processes
        (a different global batch) still stops after the same number of epochs."""
        t = self.config.training
        if t.steps > 0:
            return t.steps
        remaining = t.epochs * sum(self.train_counts) - self.batches.sampler.images_drawn()
        return self.step + max(0, math.ceil(remaining / self.global_batch_size))

    def epochs_done(self) -> float:
        """Passes over the training images drawn so far (for messages)."""
        return self.batches.sampler.images_drawn() / max(1, sum(self.train_counts))

    def _perceptual_term(self, reconstruction: torch.Tensor, images: torch.Tensor) -> torch.Tensor | None:
        """The deep-feature distance of a batch, or None when `loss.perceptual_weight` is 0."""
        return self.perceptual(reconstruction, images) if self.perceptual is not None else None

    def _seed_this_rank(self, step: int) -> None:
        """Ranks other than 0 draw their own dropout masks and z noise (rank 0 keeps its stream)."""
        if self.processes.rank > 0:
            torch.manual_seed(rank_seed(self.config.training.seed, step, self.processes.rank))

    def next_inputs(self, artist: int) -> ModelInputs:
        """The next training batch of `artist`, as the model consumes it: the trunk's maps
        from the cache when there is one (`training.trunk_cache`), else computed now."""
        images, rows, flips = self.batches.draw(artist)
        images = self.model.laid_out(images)
        if self.trunk_cache is None:
            return self.model.inputs(images)
        maps = self.model.laid_out(self.trunk_cache.maps(artist, rows, flips, self.device))
        return ModelInputs(maps, resize(images, self.config.model.image_size))

    def build_trunk_cache(self, progress: bool = True) -> None:
        """Compute (or open) the trunk's maps of every training painting, when the config asks for them."""
        if self.model.trunk is not None and self.config.training.trunk_cache and self.trunk_cache is None:
            self.trunk_cache = TrunkCache.build(self.model, self.data, self.device, self.amp_dtype, progress)

    def train_step(self, artist: int, batch: torch.Tensor | ModelInputs) -> LossTerms | None:
        """Update the artist's encoder and the shared decoder on one batch (images at the
        model's input size, or ModelInputs); None if skipped."""
        self.model.train()
        encoder_index = self.model.encoder_index(artist)
        encoder_optimizer = self.encoder_optimizers[encoder_index]
        touched = [self.model.encoders[encoder_index], self.model.shared_decoder]
        saved_buffers = [{k: b.clone() for k, b in module.named_buffers()} for module in touched]

        encoder_optimizer.zero_grad(set_to_none=True)
        self.decoder_optimizer.zero_grad(set_to_none=True)
        with autocast(self.device, self.amp_dtype):
            inputs = batch if isinstance(batch, ModelInputs) else self.model.inputs(self.model.laid_out(batch))
            output = encode_decode(
                self.step_encoders[encoder_index], self.step_decoder, inputs, True, self.latent_gradient_scale
            )
            perceptual = self._perceptual_term(output.reconstruction, output.target)
        kl_scale = kl_warmup_scale(self.step, self.config.loss.kl_warmup_steps)
        terms = vae_loss(output.reconstruction, output.target, output.mu, output.logvar, self.config.loss, kl_scale,
                         perceptual)

        if not agree_all_finite(torch.isfinite(terms.total), self.processes):
            for module, buffers in zip(touched, saved_buffers):
                for name, buffer in module.named_buffers():
                    buffer.copy_(buffers[name])
            self.nonfinite_in_row += 1
            self.nonfinite_total += 1
            if self.nonfinite_in_row >= self.config.training.max_nonfinite_steps:
                raise TrainingDiverged(
                    f"the loss was not finite for {self.nonfinite_in_row} steps in a row (step {self.step}, "
                    f"artist {self.artists[artist]}); the weights are unchanged since the last finite step. "
                    f"Lower training.encoder_lr / training.decoder_lr or the loss weights, and resume."
                )
            return None
        self.nonfinite_in_row = 0
        self.grad_scaler.scale(terms.total).backward()
        self.grad_scaler.step(encoder_optimizer)
        self.grad_scaler.step(self.decoder_optimizer)
        self.grad_scaler.update()
        return terms

    # ----------------------------------------------------------------- validation
    @torch.inference_mode()
    def validate(self, split: str = "val") -> Validation | None:
        """Each artist's split through its own encoder (eval mode); None if the split is empty."""
        self.model.eval()
        loss_config = self.config.loss
        l1s: dict[str, float] = {}
        kls: dict[str, float] = {}
        losses: list[float] = []
        all_mu: list[torch.Tensor] = []
        kl_sum = torch.zeros(self.config.model.latent_dim, device=self.device)
        for artist_index, artist in enumerate(self.artists):
            objective, pixel_l1, kl_nats, count = 0.0, 0.0, 0.0, 0
            for images in iterate_split(self.data, artist, split, self.config.training.batch_size, self.device):
                with autocast(self.device, self.amp_dtype):
                    output = self.model(self.model.laid_out(images), artist_index)
                    perceptual = self._perceptual_term(output.reconstruction, output.target)
                terms = vae_loss(output.reconstruction, output.target, output.mu, output.logvar, loss_config,
                                 perceptual=perceptual)
                kl_dims = kl_per_dimension(output.mu.float(), output.logvar.float())  # (B, latent)
                objective += float(terms.encoder_loss) * len(images)
                pixel_l1 += float(l1_term(output.reconstruction.float(), output.target, "mean")) * len(images)
                kl_nats += float(kl_dims.sum())
                count += len(images)
                kl_sum += kl_dims.sum(0)
                all_mu.append(output.mu.float())
            if count:
                l1s[artist], kls[artist] = pixel_l1 / count, kl_nats / count
                losses.append(objective / count)
        if not losses:
            return None
        mu = torch.cat(all_mu)
        variance = mu.var(0) if len(mu) > 1 else torch.zeros_like(mu[0])
        return Validation(
            loss=sum(losses) / len(losses),
            l1=l1s,
            kl=kls,
            kl_per_dimension=(kl_sum / len(mu)).cpu(),
            active_units=int((variance > ACTIVE_UNIT_THRESHOLD).sum()),
        )

    # ----------------------------------------------------------------- state
    def state_dict(self, with_optimizers: bool = True) -> dict[str, Any]:
        """Everything `--resume` needs, as tensors and plain values (no pickled objects).

        Without optimizers (best.pt) the checkpoint rebuilds the model but cannot resume; it
        is a third of the size, since Adam keeps two moments per weight."""
        state = {
            "config": self.config.to_dict(),
            "artists": list(self.artists),
            "train_counts": list(self.train_counts),
            "schedule": list(self.schedule.steps_per_artist),
            "model": self.model.state_dict(),
            "encoder_optimizers": [o.state_dict() for o in self.encoder_optimizers],
            "decoder_optimizer": self.decoder_optimizer.state_dict(),
            "step": self.step,
            "sampler": self.batches.sampler.state_dict(),
            "rng": capture_rng_state(),
            "best_val_loss": self.best_val_loss,
            "nonfinite_steps": self.nonfinite_total,
            "grad_scaler": self.grad_scaler.state_dict(),
            "preprocessing": self.data.index.get("prepared_with", {}).get("options"),
            "feature_networks": {name: network.record.to_dict() for name, network in self.networks.items()},
            "clusters": self.clusters.state_dict() if self.clusters is not None else None,
            "dating": self.dating.state_dict() if self.dating is not None else None,
        }
        if not with_optimizers:
            del state["encoder_optimizers"], state["decoder_optimizer"], state["grad_scaler"]
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if list(state["artists"]) != self.artists:
            raise DataError(
                f"the checkpoint was trained on artists {state['artists']} but the data at "
                f"{self.data.root} has {self.artists}"
            )
        self.model.load_state_dict(state["model"])
        for optimizer, optimizer_state in zip(self.encoder_optimizers, state["encoder_optimizers"], strict=True):
            optimizer.load_state_dict(optimizer_state)
        self.decoder_optimizer.load_state_dict(state["decoder_optimizer"])
        self.step = int(state["step"])
        self.batches.sampler.load_state_dict(state["sampler"])
        restore_rng_state(state["rng"])  # rank 0's streams; other ranks re-seed from the step
        self._seed_this_rank(self.step)
        self.best_val_loss = state["best_val_loss"]
        self.nonfinite_total = int(state["nonfinite_steps"])
        if state.get("grad_scaler"):
            self.grad_scaler.load_state_dict(state["grad_scaler"])
        self.clusters = self.dating = None  # refitted at the end of the resumed training

    def save(self, name: str, with_optimizers: bool = True) -> Path:
        """Writes a checkpoint (rank 0 only; call `_gather_statistics` on every rank first)."""
        path = self.run_dir / "checkpoints" / name
        if self.processes.is_main:
            save_checkpoint(path, self.state_dict(with_optimizers))
        return path

    def _gather_statistics(self) -> None:
        """Every rank: average the BatchNorm running statistics, before they are read or saved."""
        average_buffers([self.model], self.processes)

    # ----------------------------------------------------------------- the loop
    def fit(self, progress: bool = True) -> TrainingSummary:
        """Train up to `total_steps()`, logging, validating and checkpointing on the way.

        Under torchrun every rank runs this loop; only rank 0 writes (events, log, checkpoints)
        and shows a progress bar. The artist clusters are fitted afterwards (`train_command`)."""
        t = self.config.training
        main = self.processes.is_main
        total = self.total_steps()
        first_step = self.step
        log = open_run_log(self.run_dir, writes=main)
        cache_started = time.perf_counter()
        self.build_trunk_cache(progress and main)
        if self.trunk_cache is not None:
            log.info("trunk maps of the training paintings: %.0f MB, ready in %.1f s (%s)", self.trunk_cache.bytes / 1e6,
                     time.perf_counter() - cache_started, self.trunk_cache.folder or "in memory")
        # on resume, drop events a killed session logged after its last checkpoint (step first_step
        # itself was logged before that checkpoint was written, so it stays)
        purge = first_step + 1 if first_step else None
        writer = SummaryWriter(log_dir=str(self.run_dir / "tensorboard"), purge_step=purge) if main else None
        log.info(
            "training %s at %d px on %s (%s) from step %d to %d; %d process(es), global batch %d; schedule: %s",
            self.run_dir.name, self.config.model.image_size, self.device, describe(self.amp_dtype), first_step, total,
            self.processes.world_size,
            self.global_batch_size, self.schedule.describe(self.artists),
        )
        sums = _RunningSums(len(self.artists), self.device)
        bar = tqdm(total=total, initial=first_step, disable=not (progress and main), unit="step", dynamic_ncols=True)
        started = time.perf_counter()
        final: Validation | None = None
        try:
            while self.step < total:
                artist = self.schedule.artist_at(self.step)
                terms = self.train_step(artist, self.next_inputs(artist))
                self.step += 1
                bar.update(1)
                if terms is not None:
                    sums.add(artist, terms)
                last = self.step == total
                if self.step % t.log_every == 0 or last:
                    sums.sum_over_ranks(self.processes)
                    if writer is not None:
                        self._log_training(writer, sums, bar)
                    sums.reset()
                show_images = self.step % t.image_every == 0 or last
                validate = self.step % t.eval_every == 0 or last
                checkpoint = self.step % t.checkpoint_every == 0 and not last
                if show_images or validate or checkpoint:
                    self._gather_statistics()
                if writer is not None:
                    if show_images:
                        self._log_reconstructions(writer)
                    if validate:
                        final = self._validate_and_keep_best(writer, log)
                    if checkpoint:
                        self.save("last.pt")
            seconds = time.perf_counter() - started
            steps_done = self.step - first_step
            images_per_second = steps_done * self.global_batch_size / seconds if seconds > 0 else 0.0
            log.info("finished at step %d: %.1f s, %.1f images/s", self.step, seconds, images_per_second)
        except BaseException as error:
            log.error("stopped at step %d: %s: %s", self.step, type(error).__name__, error)
            raise
        finally:
            bar.close()
            if writer is not None:
                writer.close()
            close_run_log(log)
        return TrainingSummary(
            steps=self.step,
            steps_this_session=steps_done,
            seconds=seconds,
            images_per_second=images_per_second,
            best_val_loss=self.best_val_loss,
            final=final,
            nonfinite_steps=self.nonfinite_total,
            run_dir=self.run_dir,
            artists=list(self.artists),
        )

    def _log_training(self, writer: SummaryWriter, sums: "_RunningSums", bar: tqdm) -> None:
        means = sums.write(writer, self.step, self.artists)
        writer.add_scalar("train/learning_rate/encoder", self.encoder_optimizers[0].param_groups[0]["lr"], self.step)
        writer.add_scalar("train/learning_rate/decoder", self.decoder_optimizer.param_groups[0]["lr"], self.step)
        writer.add_scalar("train/nonfinite_steps", self.nonfinite_total, self.step)
        bar.set_postfix(means, refresh=False)

    def _validate_and_keep_best(self, writer: SummaryWriter, log: logging.Logger) -> Validation | None:
        validation = self.validate("val")
        if validation is None:
            log.warning("step %d: no validation images; best.pt follows the last checkpoint", self.step)
            self.save("best.pt", with_optimizers=False)
            return None
        writer.add_scalar("val/loss", validation.loss, self.step)
        writer.add_scalar("val/kl_total_nats", validation.kl_total, self.step)
        writer.add_scalar("val/active_units", validation.active_units, self.step)
        writer.add_histogram("val/kl_per_dimension", validation.kl_per_dimension, self.step)
        for artist in validation.l1:
            writer.add_scalar(f"val/{artist}/l1", validation.l1[artist], self.step)
            writer.add_scalar(f"val/{artist}/kl", validation.kl[artist], self.step)
        improved = self.best_val_loss is None or validation.loss < self.best_val_loss
        if improved:
            self.best_val_loss = validation.loss
            self.save("best.pt", with_optimizers=False)
        log.info(
            "step %d: val loss %.4f%s, L1 %.4f, KL %.2f nats over %d dims, %d active units",
            self.step, validation.loss, " (best)" if improved else "", validation.mean_l1, validation.kl_total,
            self.config.model.latent_dim, validation.active_units,
        )
        return validation

    @torch.inference_mode()
    def _log_reconstructions(self, writer: SummaryWriter) -> None:
        """A grid per artist: a row of inputs above a row of their reconstructions."""
        self.model.eval()
        for artist_index, artist in enumerate(self.artists):
            split = "val" if self.data.count(artist, "val") else "train"
            images = next(iterate_split(self.data, artist, split, GRID_IMAGES, self.device), None)
            if images is None:
                continue
            output = self.model(images, artist_index)
            grid = make_grid(torch.cat([output.target, output.reconstruction.float()]).clamp(0, 1), nrow=len(images))
            writer.add_image(f"reconstructions/{artist}", grid, self.step)
            if artist_index == 0 and len(self.model.encoders) > 1:  # one painting through every encoder
                crossed = explore.cross(self.model, images[:1])
                writer.add_image("explore/cross", make_grid(torch.cat([output.target[:1], crossed]), nrow=len(crossed) + 1),
                                 self.step)
        # the same prior draws at every logging step: how the decoder's idea of a painting evolves
        samples = explore.sample(self.model, None, None, GRID_IMAGES, seed=0)
        writer.add_image("explore/prior_samples", make_grid(samples, nrow=GRID_IMAGES), self.step)


class _RunningSums:
    """Per-artist loss sums kept on the device; read (one sync) only when logged."""

    NAMES = LossTerms._fields  # every term of the loss, by its own name

    def __init__(self, artists: int, device: torch.device) -> None:
        self.values = torch.zeros(artists, len(self.NAMES), device=device)
        self.counts = torch.zeros(artists, device=device)

    def add(self, artist: int, terms: LossTerms) -> None:
        self.values[artist] += torch.stack([term.detach() for term in terms])
        self.counts[artist] += 1

    def sum_over_ranks(self, processes: Processes) -> None:
        """Every rank: add up all ranks' sums, so what rank 0 logs covers the global batch."""
        sum_over_ranks_(self.values, processes)
        sum_over_ranks_(self.counts, processes)

    def reset(self) -> None:
        self.values.zero_()
        self.counts.zero_()

    def write(self, writer: SummaryWriter, step: int, artists: list[str]) -> dict[str, str]:
        """Per-artist and overall means since the last reset, to TensorBoard; returns the bar's postfix."""
        values, counts = self.values.to("cpu", copy=True), self.counts.to("cpu", copy=True)
        seen = counts > 0
        if not bool(seen.any()):
            return {}
        for index in torch.nonzero(seen).flatten().tolist():
            for name, value in zip(self.NAMES, (values[index] / counts[index]).tolist()):
                writer.add_scalar(f"train/{artists[index]}/{name}", value, step)
        mean = dict(zip(self.NAMES, (values[seen].sum(0) / counts[seen].sum()).tolist()))
        for name, value in mean.items():
            writer.add_scalar(f"train/{name}", value, step)
        return {"l1": f"{mean['l1']:.4f}", "kl": f"{mean['kl']:.3f}"}
