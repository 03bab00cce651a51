"""Training under torchrun: 2 CPU processes with gloo against 1 process, resume, crashes.

The torchrun tests start real processes (`python -m torch.distributed.run --standalone`), so
they take a few seconds each and are marked slow; the sampler tests run in-process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from painterly_vae.cli.cli import main
from painterly_vae.runtime.batches import ArtistBatchSampler
from painterly_vae.runtime.checkpoint import load_checkpoint

# fp32, no dropout: the two layouts then differ only in BatchNorm's per-rank batch
# statistics and in the z noise each rank draws
SETTINGS = [
    "model.image_size=32", "model.channels=[8, 16]", "model.latent_dim=8", "model.encoder_dropout=0.0",
    "model.decoder_dropout=0.0", "training.precision=fp32", "training.log_every=1", "training.eval_every=4",
    "training.image_every=100", "training.checkpoint_every=4", "training.distributed_timeout_s=60",
]


def _train_arguments(data: Path, runs: Path, name: str, batch: int, steps: int, *extra: str) -> list[str]:
    arguments = ["train", "--data", str(data), "--name", name, "--steps", str(steps), "--no-progress"]
    for setting in [*SETTINGS, f"training.batch_size={batch}", f"training.runs_dir={runs}"]:
        arguments += ["--set", setting]
    return arguments + list(extra)


def _torchrun(arguments: list[str], processes: int = 2) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
            "-m", "painterly_vae", *arguments]


def _environment() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def _losses(run_dir: Path) -> list[float]:
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    return [event.value for event in events.Scalars("train/total")]


# ----------------------------------------------------------------- sampler shards
def test_ranks_draw_disjoint_shards_that_make_up_the_single_process_batch() -> None:
    single = ArtistBatchSampler([10, 7], batch_size=6, seed=3, hflip=True)
    ranks = [ArtistBatchSampler([10, 7], batch_size=3, seed=3, hflip=True, rank=r, world_size=2) for r in range(2)]
    for _ in range(5):  # crosses pass boundaries (reshuffled) for both artists
        for artist in (0, 1):
            indices, flips = single.next_batch(artist)
            shards = [sampler.next_batch(artist) for sampler in ranks]
            np.testing.assert_array_equal(np.concatenate([s[0] for s in shards]), indices)
            np.testing.assert_array_equal(np.concatenate([s[1] for s in shards]), flips)
    assert ranks[0].state_dict() == ranks[1].state_dict() == single.state_dict()


def test_sampler_state_resumes_onto_another_world_size() -> None:
    """A checkpoint written by 2 processes continues in 1 process with the same images."""
    two = [ArtistBatchSampler([9], batch_size=2, seed=0, hflip=False, rank=r, world_size=2) for r in range(2)]
    for _ in range(3):
        for sampler in two:
            sampler.next_batch(0)
    one = ArtistBatchSampler([9], batch_size=4, seed=0, hflip=False)
    one.load_state_dict(two[0].state_dict())
    reference = ArtistBatchSampler([9], batch_size=4, seed=0, hflip=False)
    for _ in range(3):
        reference.next_batch(0)
    np.testing.assert_array_equal(one.next_batch(0)[0], reference.next_batch(0)[0])
    assert one.images_drawn() == 16


# ----------------------------------------------------------------- real torchrun jobs
@pytest.mark.slow
def test_two_processes_behave_like_one_with_the_global_batch(tiny_data: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    job = subprocess.run(_torchrun(_train_arguments(tiny_data, runs, "two", 4, 8)), env=_environment(),
                         capture_output=True, text=True, timeout=240)
    assert job.returncode == 0, job.stderr[-3000:]
    assert job.stdout.count("Training finished") == 1  # one summary for the job, from rank 0
    assert main(_train_arguments(tiny_data, runs, "one", 8, 8)) == 0

    two, one = _losses(runs / "two"), _losses(runs / "one")
    assert len(two) == len(one) == 8
    relative = np.abs(np.array(two) - np.array(one)) / np.array(one)
    assert relative.max() < 0.05, (two, one)  # close, not equal: per-rank BatchNorm, own z noise

    # rank 0 alone wrote: one event file, one log, a checkpoint with clusters
    assert len(list((runs / "two" / "tensorboard").glob("events.out.tfevents.*"))) == 1
    assert "2 process(es), global batch 8" in (runs / "two" / "train.log").read_text()
    state = load_checkpoint(runs / "two" / "checkpoints" / "last.pt")
    assert state["step"] == 8 and state["clusters"] is not None
    assert state["sampler"] == load_checkpoint(runs / "one" / "checkpoints" / "last.pt")["sampler"]

    # the checkpoint of 1 process resumes under 2 (and the step count carries on)
    resumed = subprocess.run(_torchrun(["train", "--resume", "--name", "one", "--steps", "12", "--no-progress",
                                        "--set", f"training.runs_dir={runs}"]),
                             env=_environment(), capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    state = load_checkpoint(runs / "one" / "checkpoints" / "last.pt")
    assert state["step"] == 12
    assert len(_losses(runs / "one")) == 12
    # and the 2-process checkpoint resumes in 1 process
    assert main(["train", "--resume", "--name", "two", "--steps", "10", "--no-progress",
                 "--set", f"training.runs_dir={runs}"]) == 0
    assert load_checkpoint(runs / "two" / "checkpoints" / "last.pt")["step"] == 10


def _worker_pids(launcher: int) -> dict[int, int]:
    """rank -> pid of the workers torchrun started (read from /proc)."""
    workers = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environment = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if parent == launcher:
            for variable in environment:
                if variable.startswith(b"RANK="):
                    workers[int(variable[5:])] = int(entry.name)
    return workers


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker processes through /proc")
def test_a_killed_rank_ends_the_job_with_a_clear_message(tiny_data: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    job = subprocess.Popen(_torchrun(_train_arguments(tiny_data, runs, "crash", 4, 1_000_000)),
                           env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (runs / "crash" / "checkpoints" / "last.pt").exists():  # training is under way
            assert job.poll() is None and time.monotonic() < deadline, "the job did not start training"
            time.sleep(0.2)
        workers = _worker_pids(job.pid)
        assert sorted(workers) == [0, 1]
        os.kill(workers[1], signal.SIGKILL)
        killed_at = time.monotonic()
        _, stderr = job.communicate(timeout=120)
        assert time.monotonic() - killed_at < 60  # no hang
    finally:
        if job.poll() is None:
            job.kill()
            job.communicate()
    assert job.returncode != 0
    assert "lost contact with the other training processes" in stderr or "stopped by SIGTERM" in stderr, stderr[-3000:]
    assert load_checkpoint(runs / "crash" / "checkpoints" / "last.pt")["step"] > 0  # kept, resumable


def test_torchrun_on_an_unusable_device_is_a_usage_error(tiny_data: Path, tmp_path: Path, monkeypatch) -> None:
    """Under torchrun a process whose local rank has no GPU gets one sentence, not a traceback."""
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    for name, value in {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                        "MASTER_PORT": "29999"}.items():
        monkeypatch.setenv(name, value)
    assert main(_train_arguments(tiny_data, tmp_path / "runs", "gpu", 4, 2, "--device", "cuda")) == 2


@pytest.mark.parametrize("term", ["artist", "texture"])
def test_a_term_beside_the_plain_step_trains_under_torchrun_like_in_one_process(
        term: str, tiny_data: Path, tmp_path: Path, mobilenet_file: Path) -> None:
    """artist: the head (in DDP) and, with "every", the other encoders run outside DDP in eval
    mode, their gradients averaged over the ranks by hand. texture, kept from the encoders: its
    gradient at z is taken by a backward pass that stops at z, before DDP's own."""
    runs = tmp_path / "runs"
    settings = {"artist": ["loss.artist_weight=1.0", "loss.artist_gradient=every"],
                "texture": ["loss.texture_weight=20.0", "loss.texture_to_encoders=false", "loss.texture_grid=2",
                            "loss.perceptual_network=mobilenet_v2", f"networks.mobilenet_v2.weights={mobilenet_file}"]}
    extra = [argument for setting in settings[term] for argument in ("--set", setting)]
    job = subprocess.run(_torchrun(_train_arguments(tiny_data, runs, "two", 4, 6, *extra)), env=_environment(),
                         capture_output=True, text=True, timeout=240)
    assert job.returncode == 0, job.stderr[-3000:]
    assert main(_train_arguments(tiny_data, runs, "one", 8, 6, *extra)) == 0
    two, one = (EventAccumulator(str(runs / name / "tensorboard")).Reload() for name in ("two", "one"))
    values_two = np.array([event.value for event in two.Scalars(f"train/{term}")])
    values_one = np.array([event.value for event in one.Scalars(f"train/{term}")])
    assert len(values_two) == 6 and values_two.min() > 0
    relative = np.abs(values_two - values_one) / values_one  # per-rank BatchNorm of 4 paintings against 8
    assert relative.mean() < 0.03 and relative.max() < 0.1, (values_two, values_one)
    if term == "artist":
        assert load_checkpoint(runs / "two" / "checkpoints" / "last.pt")["artist_head"] is not None
