"""What one GPU worker can serve, from the registry's memory figures and the
GPU's free memory. Pure: the free figure is passed in (the worker reads it
from CUDA at start, engines.diffusers_device), so the rules are tested
without a GPU.

- One worker per GPU (`studio worker --queues gpu --gpu N`), so a GPU's
  free memory is that worker's alone.
- A model whose `memory_gb` (its peak with its own placement: `cpu_offload`
  keeps only the module at work on the GPU, `vae_tiling` bounds the decode)
  is above the free memory less a reserve is refused at start, with a message
  that says so, and never claimed by this worker: its jobs wait for a worker
  whose GPU can hold it instead of dying out of memory mid-job.
- The warm-pipeline cache gets the free memory less the reserve: as many
  models stay warm as fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.generation.registry import ModelSpec, Registry

# CUDA context, allocator fragmentation and activations the figures leave out.
RESERVE_GB = 1.5


class NothingFits(RuntimeError):
    """No model of the registry fits this GPU: the worker would only refuse work."""


@dataclass(frozen=True)
class GpuPlan:
    free_gb: float
    budget_gb: float  # the warm-pipeline cache's budget
    served: tuple[str, ...]  # model keys this worker runs
    refused: dict[str, str] = field(default_factory=dict)  # model key -> why not


def plan_gpu(models: list[ModelSpec], free_gb: float, reserve_gb: float = RESERVE_GB) -> GpuPlan:
    """Which GPU models fit `free_gb` of GPU memory, and the cache budget."""
    budget = max(0.0, free_gb - reserve_gb)
    served, refused = [], {}
    for spec in models:
        if spec.engine != "diffusers" or spec.memory_gb <= budget:
            served.append(spec.key)
            continue
        placement = "with CPU offload" if spec.cpu_offload else "all on the GPU"
        advice = (
            "serve it from a GPU with more free memory"
            if spec.cpu_offload
            else "set cpu_offload = true in its registry entry, or serve it from a larger GPU"
        )
        refused[spec.key] = (
            f"{spec.name} needs about {spec.memory_gb:g} GB of GPU memory ({placement}); "
            f"this GPU has {free_gb:.1f} GB free ({budget:.1f} GB usable): not served by "
            f"this worker; {advice}."
        )
    return GpuPlan(free_gb=free_gb, budget_gb=budget, served=tuple(served), refused=refused)


def check_worker(registry: Registry, free_gb: float) -> GpuPlan:
    """The plan for a GPU worker; NothingFits when it could run no GPU model at all."""
    plan = plan_gpu(registry.all(), free_gb)
    gpu_models = [m for m in registry.all() if m.engine == "diffusers"]
    if gpu_models and not any(m.key in plan.served for m in gpu_models):
        smallest = min(gpu_models, key=lambda m: m.memory_gb)
        raise NothingFits(
            f"No model fits this GPU: {free_gb:.1f} GB free, and the smallest, "
            f"{smallest.name}, needs about {smallest.memory_gb:g} GB."
        )
    return plan


def served_registry(registry: Registry, plan: GpuPlan) -> Registry:
    """The registry less the models this worker refused (it never claims their jobs)."""
    kept = [m for m in registry.all() if m.key in plan.served]
    aliases = {
        alias: tuple(k for k in keys if k in plan.served)
        for alias, keys in registry.aliases.items()
        if any(k in plan.served for k in keys)
    }
    return Registry(kept, registry.source, aliases)
