"""The GPU as the worker sees it at start (torch lives in engines/diffusers* only)."""

from __future__ import annotations

import torch


def free_memory_gb() -> float | None:
    """Free memory of this process's GPU in GB, or None without CUDA. With one
    worker per GPU (CUDA_VISIBLE_DEVICES=N), that is device 0."""
    if not torch.cuda.is_available():
        return None
    free, _total = torch.cuda.mem_get_info()
    return free / 2**30
