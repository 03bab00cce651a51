"""Freed memory kept in the process: a large tensor freed and allocated again faults no new pages."""

from __future__ import annotations

import subprocess
import sys

import pytest

from painterly_vae.runtime.host_memory import is_glibc

pytestmark = pytest.mark.skipif(not is_glibc(), reason="the allocator settings are glibc's")

# what a training step does to its largest activations: allocate, write, free, again
ALLOCATE_AND_FREE = """
import resource, sys, torch
from painterly_vae.runtime.host_memory import keep_freed_memory
if sys.argv[1] == "kept":
    print(keep_freed_memory(), file=sys.stderr)
for _ in range(10):  # 64 MB: above the 32 MB that glibc serves from its heap by default; the heap
    torch.empty(64 << 18).fill_(1.0)  # settles within a few (an aligned allocation asks a little more than it frees)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    torch.empty(64 << 18).fill_(1.0)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
PAGES_OF_64_MB = (64 << 20) // 4096


def faults_of(variant: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-c", ALLOCATE_AND_FREE, variant],
                          capture_output=True, text=True, check=True)
    return int(done.stdout.strip()), done.stderr


def test_the_default_allocator_faults_a_large_tensor_in_afresh_each_time():
    faults, _ = faults_of("system")
    assert faults > 5 * PAGES_OF_64_MB  # ten allocations, each mapped from the kernel anew (huge pages: fewer faults)


def test_kept_memory_serves_the_next_allocation_without_page_faults():
    faults, said = faults_of("kept")
    assert faults < PAGES_OF_64_MB // 10
    assert "kept for the next step" in said
