"""Mixed precision: which dtype the model computes in, and the autocast context for it.

`auto` picks bf16 where the hardware does it natively (CUDA GPUs with bf16, CPUs with
AVX-512 BF16 or AMX), fp16 on older CUDA GPUs (with a gradient scaler), and fp32 elsewhere.
Weights, optimizer states and losses stay fp32; autocast runs the convolutions and matrix
products in the low precision. On this project's 2-core development CPU, bf16 with
channels-last memory runs a 256 px training step 2.8x faster than fp32 (README, bench/).
"""

from __future__ import annotations

import contextlib
from typing import ContextManager

import torch

from painterly_vae.config import PRECISIONS
from painterly_vae.errors import UsageError

_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_has_native_bf16() -> bool:
    """AVX-512 BF16 or AMX: bf16 matrix work in hardware (elsewhere it is emulated, slowly)."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)


def resolve_precision(name: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for `name` on `device`; None means plain fp32."""
    if name not in PRECISIONS:
        raise UsageError(f"training.precision must be one of {', '.join(PRECISIONS)}, got '{name}'")
    if name == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if device.type == "cpu" and cpu_has_native_bf16():
            return torch.bfloat16
        return None
    if name == "fp16" and device.type != "cuda":
        raise UsageError("training.precision fp16 needs a CUDA GPU (use bf16 or fp32 on this device)")
    return _DTYPES[name]


def autocast(device: torch.device, dtype: torch.dtype | None) -> ContextManager[object]:
    """Autocast to `dtype` on `device`, or nothing for fp32."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def full_precision(device: torch.device) -> ContextManager[object]:
    """fp32 inside an autocast region: for measures (SSIM, PSNR, histograms) whose sums and
    divisions bf16 would round, and whose results must convert to NumPy (which has no bf16)."""
    return torch.autocast(device_type=device.type, enabled=False)


def describe(dtype: torch.dtype | None) -> str:
    return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]
