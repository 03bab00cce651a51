"""Keep the memory a step frees inside the process, instead of giving it back to the kernel.

On the CPU every training step allocates its activations afresh: at 128 px and batch 32 many of
them are 30-130 MB, above the largest size glibc's allocator serves from its heap (32 MB): each is
mapped from the kernel and unmapped when freed, and the next step faults every page in again,
zero-filled by the kernel. Once a validation pass (batch 64) has run, the heap's top is trimmed
after every step as well. Measured on a 2-core machine (the real data and trained
weights): a 128 px step faulted 42,000 pages (0.15 s in the kernel) before the first validation
and 153,000 (0.45 s) after it; a whole 20-epoch run of configs/pretrained-128.toml spent 15.7 of
its 53 minutes in the kernel.

`keep_freed_memory` asks glibc (mallopt) to serve every allocation under 1 GiB from its heap and
never to trim it, so a step reuses the pages of the step before. Nothing a step computes changes
(the same run trained again with it: bit-identical weights, 39.5 minutes of training instead of
47.3, 15 s in the kernel instead of 15.7 min). The cost is memory: the process keeps its largest
step's pages until it exits, and the heap grows a little past that, because an aligned allocation
asks slightly more than the same size freed gives back (peak RSS of a 256 px CPU run of the paper's
model, batch 16: 4.19 GB instead of 3.54; of a 128 px bench step: 2.43 GiB instead of 2.37).
Those peaks came from what follows training: the clusters' fit encodes every training painting in
batches of another size (64 against the steps' 16 or 32), and with the steps' pages still kept the
heap grew past them. So after training `release_freed_memory_for` hands the kept pages back and
returns to glibc's usual thresholds for the fit, which then runs nearly as without the setting
(the 256 px command's peak 3.49 GB instead of 4.46; a 128 px fit 191 s instead of 143
kept through it and 212 without the setting; experiments/performance-record.md).
`training.keep_freed_memory = false` leaves the allocator alone. Where the C library is not glibc
(macOS, Windows, musl) it does nothing and says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# mallopt's parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
_LARGEST_FROM_HEAP = 1 << 30  # allocations this large or larger are still mapped (and unmapped) one by one
_GLIBC_LARGEST_FROM_HEAP = 32 << 20  # where glibc's own sliding threshold stops (64-bit); it trims above twice that
_DEFAULT_MMAP_MAX = 65536  # glibc's
_NEVER_TRIM = 2**31 - 1  # the largest value mallopt takes (an int): more free memory at the top than any step frees


def is_glibc() -> bool:
    """Whether this process's C library is glibc on Linux (the only one whose allocator is set here)."""
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _applies(device: "torch.device", asked: bool) -> bool:
    """The run computes on the CPU and `training.keep_freed_memory` asks for the setting."""
    return asked and device.type == "cpu"


def keep_freed_memory_for(device: "torch.device", asked: bool) -> str | None:
    """`keep_freed_memory` where it applies (what `train` and `evaluate` call); None where it does not."""
    return keep_freed_memory() if _applies(device, asked) else None


def release_freed_memory_for(device: "torch.device", asked: bool) -> bool:
    """Where the setting applies, for what follows training (the clusters' fit): give the pages that
    freed memory holds back to the system now (glibc's malloc_trim) and go back to the thresholds
    glibc itself settles on (allocations over 32 MB mapped one by one, the heap trimmed above 64 MB).
    Whether anything was given back."""
    if not (_applies(device, asked) and is_glibc()):
        return False
    libc = _libc()
    libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)  # undo the fallback, where it was taken
    libc.mallopt(_M_MMAP_THRESHOLD, _GLIBC_LARGEST_FROM_HEAP)
    libc.mallopt(_M_TRIM_THRESHOLD, 2 * _GLIBC_LARGEST_FROM_HEAP)
    return bool(libc.malloc_trim(0))


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def keep_freed_memory() -> str:
    """Apply the allocator settings above to this process; returns what was done, for the run's log."""
    if not is_glibc():
        return "the C library is not glibc: freed memory goes back to the system as usual"
    libc = _libc()
    if not libc.mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM):
        return "glibc refused to keep freed memory (mallopt): it goes back to the system as usual"
    # glibc versions that cap the threshold at 32 MB refuse 1 GiB: then nothing is mapped one by one
    if libc.mallopt(_M_MMAP_THRESHOLD, _LARGEST_FROM_HEAP):
        return "freed memory kept for the next step (glibc: allocations under 1 GiB from the heap, never trimmed)"
    libc.mallopt(_M_MMAP_MAX, 0)
    return "freed memory kept for the next step (glibc: every allocation from the heap, never trimmed)"
