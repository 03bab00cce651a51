"""`painterly-vae train`: start a run or resume one, and return its summary.

Starting: load the config (file + overrides), create `runs/<name>/`, write `config.toml`,
train. Resuming: the run's own config comes from its last checkpoint, so a resumed run never
depends on today's defaults; only keys that do not change what is learned (length of
training, device, logging cadence, data location) may be overridden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from data_tools.processed import ProcessedData
from painterly_vae.config import Config, load_config, save_config
from painterly_vae.errors import UsageError
from painterly_vae.runs import find_run, last_checkpoint, new_run_dir
from painterly_vae.training_plan import plan_training

if TYPE_CHECKING:
    from painterly_vae.trainer import TrainingSummary

# torch is imported only once the request has been checked: a usage mistake is reported in
# a fraction of a second instead of after loading torch.

# Keys a resumed run may change: none of them changes the model or what a step computes.
RESUMABLE_KEYS = {
    "data.path",
    "training.steps",
    "training.epochs",
    "training.device",
    "training.precision",
    "training.channels_last",
    "training.log_every",
    "training.image_every",
    "training.eval_every",
    "training.checkpoint_every",
    "training.max_nonfinite_steps",
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
    plan_training(config, data)
    run_dir = new_run_dir(Path(config.training.runs_dir), request.name)
    from painterly_vae.device import resolve_device
    from painterly_vae.trainer import Trainer

    trainer = Trainer(config, data, run_dir, resolve_device(config.training.device))
    run_dir.mkdir(parents=True, exist_ok=True)
    save_config(config, run_dir / "config.toml")
    return trainer.fit(progress=request.progress)


def _resume(request: TrainRequest, overrides: dict[str, Any]) -> "TrainingSummary":
    if request.config_file is not None:
        raise UsageError("--resume continues a run with its own config; drop --config (use --set for what may change)")
    runs_dir = Path(overrides.get("training.runs_dir", Config().training.runs_dir))
    run_dir = find_run(runs_dir, request.name)
    from painterly_vae.checkpoint import load_checkpoint
    from painterly_vae.device import resolve_device
    from painterly_vae.trainer import Trainer

    state = load_checkpoint(last_checkpoint(run_dir))
    saved = Config.from_dict(state["config"])
    config = saved.with_overrides(request.assignments).with_values(overrides)
    _check_resumable(saved, config)
    data = ProcessedData.open(config.data.path)
    plan_training(config, data)
    trainer = Trainer(config, data, run_dir, resolve_device(config.training.device))
    trainer.load_state_dict(state)
    if trainer.step >= trainer.total_steps():
        raise UsageError(
            f"run {run_dir.name} already reached step {trainer.step} of {trainer.total_steps()}: "
            f"give a larger --steps or --epochs to train further"
        )
    save_config(config, run_dir / "config.toml")
    return trainer.fit(progress=request.progress)


def _check_resumable(saved: Config, requested: Config) -> None:
    old, new = saved.to_dict(), requested.to_dict()
    for section, values in new.items():
        for key, value in values.items():
            name = f"{section}.{key}"
            if value != old[section][key] and name not in RESUMABLE_KEYS:
                raise UsageError(
                    f"cannot change {name} when resuming (the run has {old[section][key]!r}, asked {value!r}); "
                    f"start a new run instead"
                )
