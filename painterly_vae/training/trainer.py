"""The alternating trainer: one artist's encoder and the shared decoder per step.

Each step draws a batch of the scheduled artist, runs it through that artist's encoder and
the shared decoder, and updates exactly those two with one forward and one backward pass
(`losses` explains the gradient scaling that gives them different L1 weights). Every other
encoder is left untouched: its optimizer does not step and its BatchNorm does not run (with
the discriminative term on z, `artist_term`, the other encoders' means join the step in eval
mode, and with `loss.artist_gradient = "every"` what that term teaches them waits for their own turn).
With `training.shared_encoder_epochs` the first steps train one encoder for every artist and
copy it into the others (`shared_start`); with `training.encoder_pull` each encoder, after its own
step, moves part of the way towards the encoders' mean (`encoder_pull`).

A non-finite loss never reaches the weights: the step is skipped, the BatchNorm statistics
the forward pass touched are restored, and after `max_nonfinite_steps` skips in a row the
run stops with `TrainingDiverged` (`nonfinite`).

Under torchrun (`painterly_vae.runtime.distributed`) every rank runs this same loop on its own shard
of each batch; DDP averages the gradients of the active encoder and the decoder, so N
processes with batch B take the step one process with batch N x B would take (up to
BatchNorm, whose batch statistics are per rank). Rank 0 alone writes.

Validation (`validation`) and what is shown while training (`monitoring`: running sums,
TensorBoard scalars and pictures) live in modules of their own; the checkpoint's fields are
named once, in `runtime.run_state`.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from data_tools.processed import ProcessedData
from painterly_vae.config import Config
from painterly_vae.errors import DataError, TrainingInterrupted
from painterly_vae.model.losses import (
    LossTerms,
    decoder_only_loss,
    kl_warmup_scale,
    latent_gradient_scale,
    vae_loss,
    withheld_from_latent,
)
from painterly_vae.model.model import ModelInputs, PainterlyVAE, encode_decode, resize
from painterly_vae.model.perceptual import FeatureDistances, PerceptualLoss
from painterly_vae.model.pretrained import load_networks
from painterly_vae.runtime.batched import InferenceSettings
from painterly_vae.runtime.batches import TrainingBatches
from painterly_vae.runtime.checkpoint import capture_rng_state, restore_rng_state
from painterly_vae.runtime.distributed import (
    SINGLE_PROCESS,
    Processes,
    agree_all_finite,
    any_rank,
    average_buffers,
    rank_seed,
    wrap,
)
from painterly_vae.runtime.host_memory import keep_freed_memory_for
from painterly_vae.runtime.precision import autocast, describe, resolve_precision
from painterly_vae.runtime.run_log import close_run_log, open_run_log
from painterly_vae.runtime.run_state import RunState, save_run_state
from painterly_vae.runtime.stop_signals import StopSignals
from painterly_vae.training.adversary import Adversary, last_layer_weight
from painterly_vae.training.artist_term import ArtistTerm
from painterly_vae.training.duration import DurationEstimate
from painterly_vae.training.encoder_pull import EncoderPull
from painterly_vae.training.monitoring import RunningSums, TrainingSummary, log_pictures, log_validation
from painterly_vae.training.nonfinite import NonfiniteSteps
from painterly_vae.training.schedule import AlternatingSchedule
from painterly_vae.training.shared_start import SharedStart
from painterly_vae.training.training_plan import plan_training
from painterly_vae.model.trunk_cache import TrunkCache
from painterly_vae.training.validation import Validation, validate

if TYPE_CHECKING:  # training does not need the attribution layer, only carries its state
    from painterly_vae.inference.clustering import ArtistClusters
    from painterly_vae.inference.dating import YearRegression


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
        self.inference = InferenceSettings.of(config, device)  # validation, pictures, clusters: as attribute computes
        # every training step's autocast dtype: bf16 under `auto` where the hardware has it, unlike the
        # inference settings, which compute in fp32 under `auto` so an answer does not depend on the machine
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
        self.shared_start = SharedStart(t.shared_encoder_epochs, sum(self.train_counts), self.global_batch_size,
                                        len(self.model.encoders))
        self.encoder_pull = EncoderPull(t.encoder_pull, t.encoder_pull_mean, self.train_counts,
                                        self.model.encoder_of_each_artist())
        self.latent_gradient_scale = latent_gradient_scale(config.loss)
        self.perceptual = None
        if config.loss.uses_feature_network:
            network = self.networks[config.loss.perceptual_network]
            self.perceptual = PerceptualLoss(network, config.loss.resolved_perceptual_layers(),
                                             config.loss.resolved_texture_layers(), config.loss.measured_only(),
                                             config.loss.texture_grid)
            self.perceptual.to(device, memory_format=self.model.memory_format)

        self.adversary = (Adversary(config, device, processes, self.model.memory_format)
                          if config.loss.adversarial_weight > 0 else None)
        self.artist_term = (ArtistTerm(config, self.model, device, processes, self.schedule.steps_per_artist)
                            if config.loss.artist_weight > 0 else None)
        self.trunk_cache: TrunkCache | None = None  # built at the start of fit()
        # the attribution models, fitted on the trained encoders after `fit` (see train_command) and
        # stored in last.pt beside the weights; the trainer only carries them into the checkpoint
        self.clusters: "ArtistClusters | None" = None
        self.dating: "YearRegression | None" = None
        self.step = 0
        self.best_val_loss: float | None = None
        self.nonfinite = NonfiniteSteps(t.max_nonfinite_steps)

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

    def _perceptual_term(self, reconstruction: torch.Tensor, images: torch.Tensor) -> FeatureDistances | None:
        """The deep-feature distances of a batch, or None when neither `loss.perceptual_weight` nor
        `loss.texture_weight` is on."""
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
        return ModelInputs(self.model.encoder_input(maps, images), resize(images, self.config.model.image_size))

    def build_trunk_cache(self, progress: bool = True) -> None:
        """Compute (or open) the trunk's maps of every training painting, when the config asks for them."""
        if self.model.trunk is not None and self.config.training.trunk_cache and self.trunk_cache is None:
            self.trunk_cache = TrunkCache.build(self.model, self.data, self.inference, progress)

    def train_step(self, artist: int, batch: torch.Tensor | ModelInputs) -> LossTerms | None:
        """Update the artist's encoder and the shared decoder on one batch (images at the
        model's input size, or ModelInputs); None if skipped."""
        self.model.train()
        shared = self.shared_start.shares(self.step)
        if self.shared_start.parts_at(self.step):  # each copy goes on alone from here
            self.shared_start.update_copies(self.model.encoders)
            self.shared_start.copy_optimizer(self.encoder_optimizers)
        encoder_index = 0 if shared else self.model.encoder_index(artist)
        artist_term = self.artist_term if not shared else None  # off while the encoders are one encoder's copies
        optimizers = [self.encoder_optimizers[encoder_index], self.decoder_optimizer]
        if artist_term is not None:
            optimizers.append(artist_term.optimizer)
        # buffers only the step's own encoder and the decoder change (other encoders run in eval mode)
        touched = [self.model.encoders[encoder_index], self.model.shared_decoder]
        kept = self.nonfinite.keep(touched)

        # with the artist term every encoder may receive gradients: none may carry a stale one into them
        for optimizer in optimizers + (self.encoder_optimizers if artist_term is not None else []):
            optimizer.zero_grad(set_to_none=True)
        with autocast(self.device, self.amp_dtype):
            inputs = batch if isinstance(batch, ModelInputs) else self.model.inputs(self.model.laid_out(batch))
            output = encode_decode(
                self.step_encoders[encoder_index], self.step_decoder, inputs, True, self.latent_gradient_scale,
                self.model.encoder_index(artist),  # the decoder's statistics: the painter's own row, shared start or not
            )
            perceptual = self._perceptual_term(output.reconstruction, output.target)
        kl_scale = kl_warmup_scale(self.step, self.config.loss.kl_warmup_steps)
        terms = vae_loss(output.reconstruction, output.target, output.mu, output.logvar, self.config.loss, kl_scale,
                         perceptual)
        if artist_term is not None:
            terms = artist_term.with_term(terms, output.mu, encoder_index, inputs.encoder, list(self.model.encoders),
                                          artist, self.amp_dtype)
        adversarial = self.adversary is not None and self.adversary.active(self.step)
        if adversarial and torch.isfinite(terms.total):
            terms = self.adversary.with_decoder_term(terms, output.reconstruction,
                                                     last_layer_weight(self.model.shared_decoder), self.amp_dtype)

        if not agree_all_finite(torch.isfinite(terms.total), self.processes):
            self.nonfinite.skip(touched, kept, f"step {self.step}, artist {self.artists[artist]}")
            return None
        self.nonfinite.passed()
        backpropagated = self.grad_scaler.scale(terms.total)
        decoder_only = decoder_only_loss(self.config.loss, perceptual)
        if decoder_only is not None:  # scaled like the rest, so fp16 gradients do not underflow
            backpropagated = backpropagated + withheld_from_latent(self.grad_scaler.scale(decoder_only), output.z)
        backpropagated.backward()
        if artist_term is not None:
            artist_term.after_backward(list(self.model.encoders), encoder_index, self.grad_scaler.get_scale())
        for optimizer in optimizers:
            self.grad_scaler.step(optimizer)
        self.grad_scaler.update()
        if shared:
            self.shared_start.shared_step_taken()
        else:
            self.encoder_pull.after_step(self.model.encoders, encoder_index)
        if adversarial:
            judged = self.adversary.step(output.target, output.reconstruction, self.grad_scaler, self.amp_dtype)
            if judged is None:
                self.nonfinite.total += 1
            else:
                terms = terms._replace(discriminator=judged)
        return terms

    # ----------------------------------------------------------------- validation
    def validate(self, split: str = "val") -> Validation | None:
        """Each artist's split through its own encoder (eval mode); None if the split is empty."""
        self.shared_start.update_copies(self.model.encoders)
        return validate(self.model, self.data, split, self.config.loss, self.inference, self._perceptual_term)

    # ----------------------------------------------------------------- state
    def run_state(self, with_optimizers: bool = True) -> RunState:
        """Everything `--resume` needs, as tensors and plain values (no pickled objects).

        Without optimizers (best.pt) the checkpoint rebuilds the model but cannot resume; it
        is a third of the size, since Adam keeps two moments per weight, and a sixth when the
        steps compute in half precision (its weights then stored in it: `run_state.weights_in`)."""
        self.shared_start.update_copies(self.model.encoders)
        state = RunState(
            config=self.config.to_dict(),
            artists=list(self.artists),
            model=self.model.state_dict(),
            train_counts=list(self.train_counts),
            schedule=list(self.schedule.steps_per_artist),
            step=self.step,
            sampler=self.batches.sampler.state_dict(),
            rng=capture_rng_state(),
            best_val_loss=self.best_val_loss,
            nonfinite_steps=self.nonfinite.total,
            preprocessing=self.data.index.get("prepared_with", {}).get("options"),
            feature_networks={name: network.record.to_dict() for name, network in self.networks.items()},
            clusters=self.clusters.state_dict() if self.clusters is not None else None,
            dating=self.dating.state_dict() if self.dating is not None else None,
            encoder_optimizers=[o.state_dict() for o in self.encoder_optimizers],
            decoder_optimizer=self.decoder_optimizer.state_dict(),
            grad_scaler=self.grad_scaler.state_dict(),
            **(self.adversary.state() if self.adversary is not None else {}),
            **(self.artist_term.state() if self.artist_term is not None else {}),
        )
        if with_optimizers:
            return state
        half = self.amp_dtype if self.amp_dtype in (torch.bfloat16, torch.float16) else None
        return state.without_optimizers(half)

    def load_run_state(self, state: RunState) -> None:
        if list(state.artists) != self.artists:
            raise DataError(
                f"the checkpoint was trained on artists {state.artists} but the data at "
                f"{self.data.root} has {self.artists}"
            )
        self.model.load_state_dict(state.model)
        for optimizer, optimizer_state in zip(self.encoder_optimizers, state.encoder_optimizers or [], strict=True):
            optimizer.load_state_dict(optimizer_state)
        self.decoder_optimizer.load_state_dict(state.decoder_optimizer)
        self.step = int(state.step)
        self.batches.sampler.load_state_dict(state.sampler)
        restore_rng_state(state.rng)  # rank 0's streams; other ranks re-seed from the step
        self._seed_this_rank(self.step)
        self.best_val_loss = state.best_val_loss
        self.nonfinite.total = int(state.nonfinite_steps)
        if state.grad_scaler:
            self.grad_scaler.load_state_dict(state.grad_scaler)
        if self.adversary is not None:
            self.adversary.load(state.discriminator, state.discriminator_optimizer)
        if self.artist_term is not None:
            self.artist_term.load(state.artist_head, state.artist_head_optimizer, state.artist_held)
        self.clusters = self.dating = None  # refitted at the end of the resumed training

    def save(self, name: str, with_optimizers: bool = True) -> Path:
        """Writes a checkpoint (rank 0 only; call `_before_reading` on every rank first)."""
        path = self.run_dir / "checkpoints" / name
        if self.processes.is_main:
            save_run_state(path, self.run_state(with_optimizers))
        return path

    def _before_reading(self) -> None:
        """Every rank, before the encoders are read or saved: the shared start's copies brought up
        to date, the BatchNorm running statistics averaged over the ranks."""
        self.shared_start.update_copies(self.model.encoders)
        average_buffers([self.model], self.processes)

    # ----------------------------------------------------------------- the loop
    def fit(self, progress: bool = True, stop: StopSignals | None = None) -> TrainingSummary:
        """Train up to `total_steps()`, logging, validating and checkpointing on the way.

        Under torchrun every rank runs this loop; only rank 0 writes (events, log, checkpoints)
        and shows a progress bar. The artist clusters are fitted afterwards (`train_command`).
        A signal recorded by `stop` ends training between two steps: the checkpoint of the step
        reached is written (every rank agrees on that step) and `TrainingInterrupted` raised."""
        t = self.config.training
        main = self.processes.is_main
        total = self.total_steps()
        first_step = self.step
        log = open_run_log(self.run_dir, writes=main)
        memory = keep_freed_memory_for(self.device, t.keep_freed_memory)  # else CPU steps fault in afresh
        if memory is not None:
            log.info("memory: %s", memory)
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
            self.global_batch_size, "; ".join(filter(None, [self.schedule.describe(self.artists),
                                                           self.shared_start.describe(),
                                                           self.encoder_pull.describe()])),
        )
        sums = RunningSums(len(self.artists), self.device)
        bar = tqdm(total=total, initial=first_step, disable=not (progress and main), unit="step", dynamic_ncols=True)
        started = time.perf_counter()
        final: Validation | None = None
        duration = DurationEstimate(first_step, total, tell=log.warning if main else None)
        try:
            while self.step < total:
                if stop is not None and any_rank(stop.received is not None, self.processes, self.device):
                    self._stop(stop.received or "a signal on another process", first_step, total)
                artist = self.schedule.artist_at(self.step)
                terms = self.train_step(artist, self.next_inputs(artist))
                self.step += 1
                bar.update(1)
                duration.after_step(self.step)
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
                    self._before_reading()
                if writer is not None:
                    if show_images:
                        log_pictures(writer, self.model, self.data, self.inference, self.step)
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
            nonfinite_steps=self.nonfinite.total,
            run_dir=self.run_dir,
            artists=list(self.artists),
        )

    def _stop(self, signal_name: str, first_step: int, total: int) -> None:
        """Keep the step reached (when this session trained any) and raise TrainingInterrupted."""
        kept = self.step > first_step
        if kept:
            self._before_reading()
            self.save("last.pt")
        raise TrainingInterrupted(signal_name, self.step, total, self.run_dir,
                                  kept or (self.run_dir / "checkpoints" / "last.pt").is_file())

    def _log_training(self, writer: SummaryWriter, sums: RunningSums, bar: tqdm) -> None:
        means = sums.write(writer, self.step, self.artists)
        writer.add_scalar("train/learning_rate/encoder", self.encoder_optimizers[0].param_groups[0]["lr"], self.step)
        writer.add_scalar("train/learning_rate/decoder", self.decoder_optimizer.param_groups[0]["lr"], self.step)
        writer.add_scalar("train/nonfinite_steps", self.nonfinite.total, self.step)
        bar.set_postfix(means, refresh=False)

    def _validate_and_keep_best(self, writer: SummaryWriter, log: logging.Logger) -> Validation | None:
        validation = self.validate("val")
        if validation is None:
            log.warning("step %d: no validation images; best.pt follows the last checkpoint", self.step)
            self.save("best.pt", with_optimizers=False)
            return None
        log_validation(writer, validation, self.step)
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
