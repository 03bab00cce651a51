"""Training under torchrun: one process per device, gradients averaged by DDP.

`torchrun --nproc_per_node=N -m painterly_vae train ...` starts N copies of the command;
torchrun tells each its place through environment variables (RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR, MASTER_PORT). Without them, `train` runs as one process and nothing here does
any communication.

Choices, and why:

- Backend: NCCL when the processes train on CUDA, gloo on the CPU (NCCL has no CPU path).
  On CUDA each process takes the GPU numbered by its LOCAL_RANK.
- One DistributedDataParallel wrapper per encoder and one for the decoder, instead of one
  around the whole model. A step runs one encoder; with a single wrapper the other N-1
  encoders would be "unused parameters", which DDP either refuses or finds by walking the
  autograd graph every step (`find_unused_parameters=True`) and still all-reduces their
  zero gradients. Per-module wrappers all-reduce exactly the active encoder and the decoder,
  and every rank calls the same wrapper at the same step because every rank follows the same
  alternating schedule.
- BatchNorm statistics per rank, not SyncBatchNorm: SyncBatchNorm has no CPU implementation
  and adds two collectives per BatchNorm layer per step (nine layers here), a latency that
  dominates between nodes; with per-process batches of 16 or more, per-rank statistics
  are stable. The running statistics (used in eval mode: validation, checkpoints,
  attribution) are averaged over the ranks before each validation and checkpoint, so the
  saved model reflects every rank's data, not rank 0's alone.
- Timeouts: every collective gives up after `training.distributed_timeout_s` (default 30
  minutes: long enough for rank 0 alone to validate and fit the clusters while the others
  wait). A rank that crashes is noticed by torchrun, which stops the others at once.
"""

from __future__ import annotations

import datetime as dt
import inspect
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterable, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from painterly_vae.errors import UsageError
from painterly_vae.runtime.device import resolve_device
from painterly_vae.runtime.torchrun_env import launched_by_torchrun

T = TypeVar("T")


@dataclass(frozen=True)
class Processes:
    """Where this process stands among the processes training one run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints, TensorBoard events, logs and the clusters."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1


SINGLE_PROCESS = Processes()


def join(device_name: str, timeout_s: float) -> tuple[Processes, torch.device]:
    """Join torchrun's process group (if launched by torchrun) and pick this process's device."""
    if not launched_by_torchrun():
        return SINGLE_PROCESS, resolve_device(device_name)
    processes = Processes(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"]))
    device = _device_for(device_name, processes.local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=dt.timedelta(seconds=timeout_s))
    return processes, device


def leave() -> None:
    """Leave the process group (no-op outside torchrun)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _device_for(device_name: str, local_rank: int) -> torch.device:
    """Under torchrun: GPU number LOCAL_RANK on CUDA machines, else the CPU."""
    if device_name == "auto":
        device_name = "cuda" if torch.cuda.is_available() else "cpu"
    device = resolve_device(device_name)
    if device.type == "mps":
        raise UsageError("torchrun training runs on CUDA (NCCL) or the CPU (gloo), not on MPS: use --device cpu")
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise UsageError(
                f"local rank {local_rank} has no GPU: this node has {torch.cuda.device_count()}; "
                f"use --nproc_per_node={torch.cuda.device_count()} or fewer"
            )
        return torch.device("cuda", local_rank)
    return device


def wrap(module: nn.Module, processes: Processes, device: torch.device) -> nn.Module:
    """`module` inside DDP when several processes train, else `module` itself.

    Buffers are not broadcast from rank 0 at every forward (per-rank BatchNorm statistics,
    averaged by `average_buffers` when they are read)."""
    if not processes.is_distributed:
        return module
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    # newer torch renamed the switch (and syncs once at construction, harmless here)
    parameters = inspect.signature(DistributedDataParallel).parameters
    no_buffer_sync = {"forward_sync_buffers": False} if "forward_sync_buffers" in parameters else {"broadcast_buffers": False}
    return DistributedDataParallel(module, device_ids=device_ids, **no_buffer_sync)


def agree_all_finite(finite: torch.Tensor, processes: Processes) -> bool:
    """True only if the flag is true on every rank: all skip a step together, or none does."""
    if processes.is_distributed:
        flag = finite.to(torch.int32).reshape(1)
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
        return bool(flag.item())
    return bool(finite)


def any_rank(flag: bool, processes: Processes, device: torch.device) -> bool:
    """True on every rank if `flag` is true on any (one rank's Ctrl-C stops them all at the same step)."""
    if processes.is_distributed:
        value = torch.tensor([int(flag)], dtype=torch.int32, device=device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())
    return flag


def sum_over_ranks_(tensor: torch.Tensor, processes: Processes) -> torch.Tensor:
    """Sums `tensor` over the ranks, in place."""
    if processes.is_distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def average_buffers(modules: Iterable[nn.Module], processes: Processes) -> None:
    """Averages the floating-point buffers (BatchNorm running mean/var) over the ranks."""
    _average_over_ranks_((buffer for module in modules for buffer in module.buffers() if buffer.is_floating_point()),
                         processes)


def average_gradients(modules: Iterable[nn.Module], processes: Processes) -> None:
    """Averages the gradients of modules that a step used outside DDP over the ranks (what DDP
    does for its own modules): every rank must hold gradients for the same parameters."""
    _average_over_ranks_((parameter.grad for module in modules for parameter in module.parameters()
                          if parameter.grad is not None), processes)


def _average_over_ranks_(tensors: Iterable[torch.Tensor], processes: Processes) -> None:
    """Each tensor replaced, in place, by its mean over the ranks (nothing in one process)."""
    if not processes.is_distributed:
        return
    for tensor in tensors:
        sum_over_ranks_(tensor, processes).div_(processes.world_size)


def decided_by_main(decide: Callable[[], T], processes: Processes) -> T:
    """Rank 0 runs `decide` (e.g. naming a new run) and every rank gets its answer.

    A `UsageError` on rank 0 is raised on every rank, so no rank waits for a decision that
    will never come."""
    if not processes.is_distributed:
        return decide()
    outcome: list[Any] = [None]
    if processes.is_main:
        try:
            outcome[0] = ("value", decide())
        except UsageError as error:
            outcome[0] = ("error", str(error))
    dist.broadcast_object_list(outcome, src=0)
    kind, value = outcome[0]
    if kind == "error":
        raise UsageError(value)
    return value


def rank_seed(seed: int, step: int, rank: int) -> int:
    """The RNG seed of a rank other than 0 (dropout and z noise must differ between ranks)."""
    import numpy as np

    return int(np.random.SeedSequence([seed, step, rank]).generate_state(1, np.uint64)[0] >> 1)
