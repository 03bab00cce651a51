"""`painterly-vae train`: start a run or resume one, and return its summary.

Starting: load the config (file + overrides), create `runs/<name>/`, write `config.toml`,
train. Resuming: the run's own config comes from its last checkpoint, so a resumed run never
depends on today's defaults; only keys that do not change what is learned (length of
training, device, logging cadence, data location) may be overridden.

Under torchrun every process runs this; rank 0 names a new run and tells the others
(`distributed.decided_by_main`). Every rank resumes from the same `last.pt`, whatever number
of processes wrote it (a multi-node run needs `runs_dir` and the data on a shared filesystem
or copied to the same path on every node).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from data_tools.processed import ProcessedData
from painterly_vae.config import Config, chosen_keys, load_config, save_config
from painterly_vae.errors import UsageError
from painterly_vae.runtime.run_log import close_run_log, open_run_log
from painterly_vae.runtime.runs import (
    describe_folders,
    find_run,
    last_checkpoint,
    last_checkpoints,
    new_run_dir,
    runs_dirs,
)
from painterly_vae.training.training_plan import follow_data_size, plan_training

if TYPE_CHECKING:
    import torch

    from painterly_vae.runtime.distributed import Processes
    from painterly_vae.runtime.stop_signals import StopSignals
    from painterly_vae.training.monitoring import TrainingSummary
    from painterly_vae.training.trainer import Trainer

# torch is imported only once the request has been checked: a usage mistake is reported in
# a fraction of a second instead of after loading torch.

# Keys a resumed run may change: none of them changes the model or what a step computes.
RESUMABLE_KEYS = {
    "data.path",
    "clustering.others",
    "clustering.left_out_painters",
    "training.steps",
    "training.epochs",
    "training.device",
    "training.precision",
    "training.channels_last",
    "training.trunk_cache",
    "training.keep_freed_memory",
    "training.log_every",
    "training.image_every",
    "training.eval_every",
    "training.checkpoint_every",
    "training.max_nonfinite_steps",
    "training.distributed_timeout_s",
    "training.runs_dir",
}


@dataclass
class TrainRequest:
    """What the user asked `train` for; None means "not given"."""

    config_file: Path | None = None
    data: Path | None = None
    name: str | None = None
    resume: bool = False
    values: dict[str, Any] = field(default_factory=dict)  # typed, e.g. {"training.ratio": "2:5"}
    assignments: list[str] = field(default_factory=list)  # raw --set section.key=value
    progress: bool = True


def run_training(request: TrainRequest) -> "TrainingSummary":
    """Train a new run or continue one; returns the summary printed by the CLI."""
    overrides = dict(request.values)
    if request.data is not None:
        overrides["data.path"] = str(request.data)
    if request.resume:
        return _resume(request, overrides)
    config = load_config(request.config_file, request.assignments).with_values(overrides)
    data = ProcessedData.open(config.data.path)
    chosen = chosen_keys(request.config_file, request.assignments) | set(request.values)
    config = follow_data_size(config, data, chosen)
    if "training.runs_dir" not in chosen:  # $PAINTERLY_VAE_RUNS when set, else runs/
        config = config.with_values({"training.runs_dir": str(runs_dirs()[0])})
    plan_training(config, data)
    _check_others(config)
    from painterly_vae.runtime import distributed
    from painterly_vae.training.trainer import Trainer

    with _training_processes(config) as (processes, device, stop):
        run_dir = distributed.decided_by_main(lambda: new_run_dir(Path(config.training.runs_dir), request.name), processes)
        trainer = Trainer(config, data, run_dir, device, processes)
        if processes.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            save_config(config, run_dir / "config.toml")
        return train_and_fit_clusters(trainer, request.progress, stop)


def _resume(request: TrainRequest, overrides: dict[str, Any]) -> "TrainingSummary":
    if request.config_file is not None:
        raise UsageError("--resume continues a run with its own config; drop --config (use --set for what may change)")
    # where to look: training.runs_dir when --set gives it, else $PAINTERLY_VAE_RUNS and runs/
    given = chosen_keys(None, request.assignments) | set(overrides)
    folders = ([Path(Config().with_overrides(request.assignments).with_values(overrides).training.runs_dir)]
               if "training.runs_dir" in given else runs_dirs())
    from painterly_vae.runtime.run_state import load_run_state
    from painterly_vae.training.trainer import Trainer

    run_dir = find_run(folders, request.name) if request.name is not None else _latest_unfinished(folders)

    state = load_run_state(last_checkpoint(run_dir))
    saved = Config.from_dict(state.config)
    config = saved.with_overrides(request.assignments).with_values(overrides)
    _check_resumable(saved, config)
    data = ProcessedData.open(config.data.path)
    plan_training(config, data)
    _check_others(config)
    with _training_processes(config) as (processes, device, stop):
        trainer = Trainer(config, data, run_dir, device, processes)
        trainer.load_run_state(state)
        if trainer.step >= trainer.total_steps():
            if state.clusters is None:  # trained to its end, its attribution's fit stopped before it was stored
                raise UsageError(f"run {run_dir.name} finished training at step {trainer.step} but its attribution "
                                 f"was never fitted; fit it with: painterly-vae cluster --run {run_dir}")
            asked = _length_asked(request, config)
            raise UsageError(
                f"run {run_dir.name} is already at step {trainer.step} ({trainer.epochs_done():.3g} epochs), so {asked} "
                f"trains nothing: give --epochs above {trainer.epochs_done():.3g} or --steps above {trainer.step}"
            )
        if processes.is_main:
            save_config(config, run_dir / "config.toml")
        return train_and_fit_clusters(trainer, request.progress, stop)


def _check_others(config: Config) -> None:
    """The folder of other painters' paintings is read after training: a wrong path is said now."""
    others = config.clustering.others
    if others and not Path(others).is_dir():
        raise UsageError(f"clustering.others: no folder {others}")


def _latest_unfinished(folders: list[Path]) -> Path:
    """The most recent run whose training did not reach its end (its last.pt holds no fitted
    attribution: interrupted, or killed, before the end); finished runs are continued by name."""
    from painterly_vae.runtime.run_state import load_run_state

    checkpoints = last_checkpoints(folders)
    for checkpoint in checkpoints:
        if load_run_state(checkpoint, mmap=True).clusters is None:
            return checkpoint.parent.parent
    finished = ", ".join(p.parent.parent.name for p in checkpoints[:5])
    raise UsageError(f"no unfinished run in {describe_folders(folders)} to resume" + (
        f" (finished: {finished}; continue one with --resume --name NAME and a larger --epochs or --steps)"
        if checkpoints else ": train one first"))


def _length_asked(request: TrainRequest, config: Config) -> str:
    """The training length as the user gave it (--steps, --epochs, --set), or as the run has it."""
    given = {assignment.split("=", 1)[0].strip() for assignment in request.assignments} | set(request.values)
    t = config.training
    if "training.steps" in given and t.steps:
        return f"--steps {t.steps}"
    if "training.epochs" in given:
        return f"--epochs {t.epochs}"
    return f"the run's training.steps ({t.steps})" if t.steps else f"the run's training.epochs ({t.epochs})"


def train_and_fit_clusters(trainer: "Trainer", progress: bool = True,
                           stop: "StopSignals | None" = None) -> "TrainingSummary":
    """Train, then (main process) recompute the decoder's statistics per encoder (when it keeps
    them) and fit the artist clusters and the year regression on the trained encoders, and store
    them in last.pt: what `attribute` needs from a run. A signal recorded by
    `stop` ends training between two steps with that step's checkpoint kept (`Trainer.fit`), or
    the fit between two of its stages with the trained weights kept (`FitInterrupted`)."""
    from painterly_vae.inference.decoder_statistics import recompute_decoder_statistics
    from painterly_vae.inference.fit_progress import FitProgress
    from painterly_vae.inference.trained_run import fit_latent_models
    from painterly_vae.runtime.host_memory import release_freed_memory_for

    summary = trainer.fit(progress=progress, stop=stop)
    if trainer.processes.is_main:
        # the clusters' fit encodes in batches of another size: the steps' kept pages go back first
        release_freed_memory_for(trainer.device, trainer.config.training.keep_freed_memory)
        recompute_decoder_statistics(trainer.model, trainer.data, trainer.inference, trainer.config.training.batch_size,
                                     cache=trainer.trunk_cache)
        trainer.save("last.pt")  # the trained weights, kept whatever happens to the fit (`cluster` fits them)
        log = open_run_log(trainer.run_dir)
        try:
            watch = FitProgress(stop, show=progress, log=log, run_dir=trainer.run_dir)
            trainer.clusters, trainer.dating = fit_latent_models(trainer.model, trainer.config, trainer.data,
                                                                 trainer.device, progress, watch, trainer.trunk_cache)
            trainer.save("last.pt")
            summary.attribution = trainer.clusters.describe_validation()
            log.info("clusters fitted (temperature %.3g); attribution %s", trainer.clusters.temperature,
                     summary.attribution)
        finally:
            close_run_log(log)
    return summary


@contextlib.contextmanager
def _training_processes(config: Config) -> Iterator[tuple["Processes", "torch.device", "StopSignals"]]:
    """This process's place in the job (torchrun or not), its device, and the signals that ask
    training to stop, for one training.

    Meanwhile Ctrl-C and SIGTERM (what torchrun sends the surviving processes when one fails)
    stop training between two steps with that step kept (`runtime.stop_signals`) instead of
    killing the process mid-step. The process group is left and the handlers restored afterwards."""
    from painterly_vae.runtime import distributed
    from painterly_vae.runtime.stop_signals import StopSignals

    with StopSignals() as stop:
        try:
            processes, device = distributed.join(config.training.device, config.training.distributed_timeout_s)
            yield processes, device, stop
        finally:
            distributed.leave()


def _check_resumable(saved: Config, requested: Config) -> None:
    old, new = saved.to_dict(), requested.to_dict()
    # where a network's weights file is may change, not what it holds (its SHA-256 is checked on load)
    for name in set(old["networks"]) | set(new["networks"]):
        before, after = old["networks"].get(name, {}), new["networks"].get(name, {})
        if {k: v for k, v in before.items() if k != "weights"} != {k: v for k, v in after.items() if k != "weights"}:
            raise UsageError(f"cannot change networks.{name} when resuming except its weights file; start a new run instead")
    del old["networks"], new["networks"]
    for section, values in new.items():
        for key, value in values.items():
            name = f"{section}.{key}"
            if value != old[section][key] and name not in RESUMABLE_KEYS:
                raise UsageError(
                    f"cannot change {name} when resuming (the run has {old[section][key]!r}, asked {value!r}); "
                    f"start a new run instead"
                )
