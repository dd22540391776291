"""The diffusers engine: real pipelines, kept warm per process.

The only module (with diffusers_tiny) that imports torch and diffusers. A
registry entry names a diffusers pipeline class per mode; this engine loads it
from local files only (a folder, or a hub id already in the local HF cache),
keeps it warm in an LRU cache under a memory budget, and runs it with the
request's seed, size, frames, steps and guidance, reporting progress per step.

Warm cache: one entry per weights (weights, revision), holding a pipeline per
class. A second class on the same weights (LTX text_to_video and
image_to_video) is built over the loaded modules, as `from_pipe` does, so the
entry costs `spec.memory_gb` once. Entries are evicted least recently used
first when the next load would pass the budget; the entry in use is never
evicted, so a model bigger than the budget still runs, alone.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import diffusers
import numpy as np
import torch
from diffusers import DiffusionPipeline
from PIL import Image
from transformers.utils import logging as transformers_logging

from studio.generation.engines.base import EngineOutput, GenerationRequest, ProgressFn
from studio.generation.registry import ModelSpec

# A loaded diffusers pipeline. Typed loosely: diffusers' lazy exports hide the
# pipeline attributes from mypy.
Pipeline = Any

DEFAULT_MEMORY_BUDGET_GB = 20.0  # as Settings.model_memory_budget_gb
DEFAULT_THREADS = 2  # as Settings.torch_threads
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
# Pipelines decode video in chunks of this many frames (SVD's decode_chunk_size).
DECODE_CHUNK = 8


class EngineError(RuntimeError):
    """The model cannot be loaded or run as the registry describes it."""


@dataclass
class _Warm:
    """A loaded set of weights: one pipeline per class, sharing modules."""

    pipes: dict[str, Pipeline] = field(default_factory=dict)
    memory_gb: float = 0.0


def create_engine(
    memory_budget_gb: float | None = None, threads: int | None = None
) -> DiffusersEngine:
    """The engine. Workers pass Settings' values through engines.configure();
    the defaults match Settings' own."""
    return DiffusersEngine(
        memory_budget_gb=DEFAULT_MEMORY_BUDGET_GB if memory_budget_gb is None else memory_budget_gb,
        threads=DEFAULT_THREADS if threads is None else threads,
    )


class DiffusersEngine:
    def __init__(self, memory_budget_gb: float, threads: int | None = None) -> None:
        if threads:
            # Same seed -> same frames only with the same thread count.
            torch.set_num_threads(threads)
        self.memory_budget_gb = float(memory_budget_gb)
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        # Worker logs get progress through ProgressFn, not tqdm bars.
        diffusers.utils.logging.disable_progress_bar()
        transformers_logging.disable_progress_bar()
        self._cache: OrderedDict[tuple[str, str | None], _Warm] = OrderedDict()
        self._lock = threading.RLock()
        self.load_seconds_total = 0.0  # all loading this process has done
        self.loads = 0  # from_pretrained calls
        self.evictions = 0

    # ------------------------------------------------------------ protocol

    def run(
        self, spec: ModelSpec, request: GenerationRequest, progress: ProgressFn
    ) -> EngineOutput:
        class_name = spec.pipelines.get(request.mode)
        if not class_name:
            raise EngineError(f"{spec.name} names no pipeline for {request.mode}.")
        with self._lock:
            pipe, load_seconds = self._pipeline(spec, class_name)
            kwargs = self._call_kwargs(pipe, request, progress)
            started = time.perf_counter()
            output = pipe(**kwargs)
            seconds = time.perf_counter() - started
        frames = _to_frames(output)
        if request.mode == "text_to_image":
            frames = frames[:1]
        audio, rate = _to_audio(pipe, output) if spec.audio else (None, 0)
        return EngineOutput(
            frames=frames,
            fps=request.fps,
            audio=audio,
            sample_rate=rate,
            extra={
                "load_seconds": round(load_seconds, 4),
                "seconds": round(seconds, 4),
                "device": self.device,
                "pipeline": class_name,
            },
        )

    def is_warm(self, spec: ModelSpec) -> bool:
        return _key(spec) in self._cache

    def weights_present(self, spec: ModelSpec) -> bool:
        index_file = _index_file(spec)
        return index_file is not None and _complete(index_file.parent)

    # ------------------------------------------------------------ cache

    def warm_keys(self) -> list[tuple[str, str | None]]:
        """Warm weights, least recently used first."""
        return list(self._cache)

    def unload_all(self) -> None:
        with self._lock:
            while self._cache:
                self._evict_oldest()

    def _pipeline(self, spec: ModelSpec, class_name: str) -> tuple[Pipeline, float]:
        """The warm pipeline of this class for these weights, and the seconds spent loading it."""
        pipeline_class = _pipeline_class(class_name)
        key = _key(spec)
        entry = self._cache.get(key)
        if entry is not None:
            self._cache.move_to_end(key)
            pipe = entry.pipes.get(class_name)
            if pipe is not None:
                return pipe, 0.0
            started = time.perf_counter()
            pipe = self._from_sibling(spec, pipeline_class, next(iter(entry.pipes.values())))
            if pipe is None:  # the classes share no components: a second, full load
                self._make_room(spec.memory_gb, keep=key)
                pipe = self._load(spec, pipeline_class)
                entry.memory_gb += spec.memory_gb
            entry.pipes[class_name] = pipe
            seconds = time.perf_counter() - started
            self.load_seconds_total += seconds
            return pipe, seconds

        self._make_room(spec.memory_gb, keep=None)
        started = time.perf_counter()
        pipe = self._load(spec, pipeline_class)
        seconds = time.perf_counter() - started
        self._cache[key] = _Warm(pipes={class_name: pipe}, memory_gb=spec.memory_gb)
        self.load_seconds_total += seconds
        return pipe, seconds

    def _make_room(self, needed_gb: float, keep: tuple[str, str | None] | None) -> None:
        def used() -> float:
            return sum(e.memory_gb for e in self._cache.values())

        while used() + needed_gb > self.memory_budget_gb:
            victims = [k for k in self._cache if k != keep]
            if not victims:
                return
            self._evict(victims[0])

    def _evict_oldest(self) -> None:
        self._evict(next(iter(self._cache)))

    def _evict(self, key: tuple[str, str | None]) -> None:
        entry = self._cache.pop(key)
        for pipe in entry.pipes.values():
            remove_hooks = getattr(pipe, "remove_all_hooks", None)
            if callable(remove_hooks):
                with contextlib.suppress(Exception):  # freeing is best effort
                    remove_hooks()
        entry.pipes.clear()
        del entry
        self.evictions += 1
        gc.collect()
        if self.device == "cuda":
            torch.cuda.empty_cache()

    # ------------------------------------------------------------ loading

    def _dtype(self, spec: ModelSpec) -> torch.dtype:
        return _DTYPES[spec.dtype] if self.device == "cuda" else torch.float32

    def _load(self, spec: ModelSpec, pipeline_class: type[DiffusionPipeline]) -> Pipeline:
        options: dict[str, Any] = {"dtype": self._dtype(spec), "local_files_only": True}
        if _local_folder(spec) is None and spec.revision:
            options["revision"] = spec.revision
        try:
            pipe = pipeline_class.from_pretrained(spec.weights, **options)
        except (OSError, ValueError) as exc:
            raise EngineError(
                f"Cannot load {spec.name} ({pipeline_class.__name__}) from {spec.weights}: {exc}"
            ) from exc
        self.loads += 1
        if spec.vae_tiling:
            vae = getattr(pipe, "vae", None)
            if vae is not None and hasattr(vae, "enable_tiling"):
                vae.enable_tiling()
        self._place(pipe, spec)
        return pipe

    def _from_sibling(
        self,
        spec: ModelSpec,
        pipeline_class: type[DiffusionPipeline],
        sibling: Pipeline,
    ) -> Pipeline | None:
        """The new class over the sibling's modules, or None when it needs others.

        What `from_pipe` does, less its final `.to(dtype)`: that cast (float32
        when no dtype is given) would also hit the modules the weights keep in
        float32, and the modules are shared with the sibling.
        """
        parameters = inspect.signature(pipeline_class.__init__).parameters
        components = sibling.components
        # A component the weights hold but the sibling's class never loaded
        # (an image encoder, say) needs a full load of the new class.
        if any(name in parameters and name not in components for name in _components_of(spec)):
            return None
        config = dict(sibling.config)
        arguments: dict[str, Any] = {}
        for name, parameter in parameters.items():
            if name == "self" or parameter.kind in (
                inspect.Parameter.VAR_POSITIONAL,
                inspect.Parameter.VAR_KEYWORD,
            ):
                continue
            if name in components:
                arguments[name] = components[name]
            elif name in config:
                arguments[name] = config[name]
            elif parameter.default is inspect.Parameter.empty:
                return None  # a component the sibling does not have
        try:
            pipe = pipeline_class(**arguments)
        except (TypeError, ValueError, AttributeError):
            return None
        self._place(pipe, spec)
        return pipe

    def _place(self, pipe: Pipeline, spec: ModelSpec) -> None:
        if self.device == "cuda" and spec.cpu_offload:
            pipe.enable_model_cpu_offload()
        else:
            pipe.to(self.device)
        pipe.set_progress_bar_config(disable=True)

    # ------------------------------------------------------------ calling

    def _call_kwargs(
        self, pipe: Pipeline, request: GenerationRequest, progress: ProgressFn
    ) -> dict[str, Any]:
        params = inspect.signature(pipe.__call__).parameters

        def accepts(name: str) -> bool:
            parameter = params.get(name)
            return parameter is not None and parameter.kind is not inspect.Parameter.VAR_KEYWORD

        kwargs: dict[str, Any] = {"output_type": "np"}

        def offer(name: str, value: object) -> None:
            if accepts(name):
                kwargs[name] = value

        offer("prompt", request.prompt)  # "" allowed: image_to_video may have no prompt
        if request.negative_prompt:
            offer("negative_prompt", request.negative_prompt)
        offer("width", request.width)
        offer("height", request.height)
        offer("num_inference_steps", request.steps)
        if request.mode != "text_to_image":
            offer("num_frames", request.num_frames)
            offer("decode_chunk_size", min(request.num_frames, DECODE_CHUNK))
            offer("fps", request.fps)  # SVD's micro-conditioning
            offer("frame_rate", request.fps)  # LTX's
        if accepts("guidance_scale"):
            kwargs["guidance_scale"] = request.guidance
        elif accepts("max_guidance_scale"):  # SVD ramps guidance over the frames
            kwargs["max_guidance_scale"] = request.guidance
            kwargs["min_guidance_scale"] = min(1.0, request.guidance)
        if request.mode == "image_to_video":
            if request.image_path is None:
                raise EngineError("image_to_video needs a reference image.")
            offer("image", _reference_image(request.image_path, request.width, request.height))
        if request.motion_strength is not None:
            strength = min(max(request.motion_strength, 0.0), 1.0)
            offer("motion_bucket_id", 1 + round(strength * 254))
        offer("generator", torch.Generator(device=self.device).manual_seed(request.seed))

        total_steps = request.steps

        def on_step_end(
            pipeline: Pipeline, step: int, timestep: object, tensors: dict[str, Any]
        ) -> dict[str, Any]:
            total = int(getattr(pipeline, "num_timesteps", 0) or total_steps)
            progress(step + 1, total)  # JobCanceled propagates: no decode follows
            return tensors

        if accepts("callback_on_step_end"):
            kwargs["callback_on_step_end"] = on_step_end
        elif accepts("callback"):  # older pipelines: callback(step, timestep, latents)
            kwargs["callback"] = lambda step, timestep, latents: progress(step + 1, total_steps)
            offer("callback_steps", 1)
        return kwargs


# ---------------------------------------------------------------- helpers


def _key(spec: ModelSpec) -> tuple[str, str | None]:
    return (spec.weights, spec.revision)


def _local_folder(spec: ModelSpec) -> Path | None:
    """The weights folder when the weights name a path rather than a hub id."""
    if not spec.weights:
        return None
    path = Path(spec.weights).expanduser()
    if path.is_absolute() or path.exists() or spec.weights.startswith((".", "~")):
        return path
    return None


def _index_file(spec: ModelSpec) -> Path | None:
    """model_index.json of the weights: in their folder, or in the local HF cache (no network)."""
    folder = _local_folder(spec)
    if folder is not None:
        index_file = folder / "model_index.json"
        return index_file if index_file.is_file() else None
    if not spec.weights:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(spec.weights, "model_index.json", revision=spec.revision)
    except Exception:  # an invalid repo id, an unreadable cache
        return None
    return Path(found) if isinstance(found, str) else None


def _read_components(index_file: Path) -> list[str] | None:
    """The components a model_index.json names (a null entry names none)."""
    try:
        index = json.loads(index_file.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(index, dict):
        return None
    return [
        name
        for name, value in index.items()
        if not name.startswith("_")
        and isinstance(value, list)
        and len(value) == 2
        and value[0] is not None
        and value[1] is not None
    ]


def _components_of(spec: ModelSpec) -> list[str]:
    index_file = _index_file(spec)
    return (_read_components(index_file) or []) if index_file is not None else []


def _complete(folder: Path) -> bool:
    """A pipeline folder: model_index.json and a subfolder per component it names."""
    names = _read_components(folder / "model_index.json")
    return names is not None and all((folder / name).is_dir() for name in names)


def _pipeline_class(name: str) -> type[DiffusionPipeline]:
    try:
        found = getattr(diffusers, name)
    except AttributeError as exc:
        raise EngineError(f"diffusers {diffusers.__version__} has no pipeline {name}.") from exc
    if not (isinstance(found, type) and issubclass(found, DiffusionPipeline)):
        raise EngineError(f"{name} is not a diffusers pipeline class.")
    return found


def _reference_image(path: Path, width: int, height: int) -> Image.Image:
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    if rgb.size != (width, height):
        rgb = rgb.resize((width, height), Image.Resampling.LANCZOS)
    return rgb


def _to_frames(output: Any) -> np.ndarray:
    """The first batch item of a pipeline output as uint8 (T, H, W, 3)."""
    batch = getattr(output, "frames", None)
    if batch is None:
        batch = output.images
    item = batch[0]
    if isinstance(item, Image.Image):
        array = np.asarray(item.convert("RGB"))
    elif isinstance(item, list | tuple):
        array = np.stack([np.asarray(_as_rgb(frame)) for frame in item])
    elif isinstance(item, torch.Tensor):
        array = item.detach().float().cpu().numpy()
    else:
        array = np.asarray(item)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise EngineError(f"Unexpected pipeline output shape {array.shape}.")
    if array.shape[-1] != 3 and array.shape[1] == 3:  # (T, C, H, W)
        array = array.transpose(0, 2, 3, 1)
    if array.dtype != np.uint8:
        array = np.nan_to_num(array.astype(np.float32), nan=0.0)
        array = (np.clip(array, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    return np.ascontiguousarray(array)


def _to_audio(pipe: Pipeline, output: Any) -> tuple[np.ndarray | None, int]:
    """The first batch item's sound as float32 (channels, samples), and its rate
    (the vocoder's output rate: LTX-2 returns a waveform, not latents, for "np")."""
    batch = getattr(output, "audio", None)
    vocoder = getattr(pipe, "vocoder", None)
    rate = int(getattr(getattr(vocoder, "config", None), "output_sampling_rate", 0) or 0)
    if batch is None or rate <= 0:
        return None, 0
    item = batch[0]
    if isinstance(item, torch.Tensor):
        item = item.detach().float().cpu().numpy()
    array = np.asarray(item, dtype=np.float32)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[-1] == 0:
        raise EngineError(f"Unexpected audio output shape {array.shape}.")
    return np.ascontiguousarray(array), rate


def _as_rgb(frame: Any) -> Any:
    return frame.convert("RGB") if isinstance(frame, Image.Image) else frame
