"""GPU readiness: full-size models from their configs with random weights.

    .venv/bin/python bench/gpu.py                 # CUDA: full size; CPU: --tiny
    .venv/bin/python bench/gpu.py --tiny          # the same code at tiny size (seconds)
    .venv/bin/python bench/gpu.py --models wan2_2-ti2v-5b --steps 10 --json out.json

For each model (Wan 2.2 TI2V-5B, LTX-Video) it builds the pipeline in memory
from the architecture's published config, random weights (speed does not
depend on weight values; nothing comes from the hub), and measures side by side:

(a) studio / raw: the studio engine's run (kwargs, progress callback, frame
    conversion) over calling the same pipeline object directly with the same
    arguments; goal <= 1.02. Runs alternate to share the machine's noise.
(b) peak memory of the studio run against the registry's memory_gb (CUDA:
    max_memory_allocated; CPU: the process's peak RSS, for the plumbing only).
(c) torch.compile speed-up of the transformer's forward (inductor on CUDA;
    on CPU the "eager" backend: graph capture without code generation).
(d) model FLOP utilization: the transformer's FLOPs per forward, counted from
    the architecture by torch's FlopCounterMode, times the forwards of a run
    (two per step with classifier-free guidance), over the denoising time,
    against the device's peak (a table of dense bf16 peaks; elsewhere the
    measured peak of a large matmul, said so).

The text encoders are one layer deep with the real output width: prompts
cost little next to denoising, and a full UMT5-XXL/T5-XXL would only add
load time. The VAEs are full size (decoding is part of a run).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.generation.engines import diffusers_tiny as tiny  # noqa: E402
from studio.generation.engines import diffusers_tiny_current as tiny_current  # noqa: E402
from studio.generation.engines.base import GenerationRequest  # noqa: E402
from studio.generation.engines.diffusers_engine import DiffusersEngine  # noqa: E402
from studio.generation.registry import ModelSpec, load_registry  # noqa: E402

# Dense bf16 tensor-core peaks (TFLOP/s), from the vendors' data sheets.
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "4090": 165.0}


@dataclass(frozen=True)
class Case:
    key: str  # the registry entry whose memory figure and pipeline classes are used
    build_full: Callable[[torch.dtype], Any]
    build_tiny: Callable[[], Any]
    tiny_size: tuple[int, int, int]  # width, height, frames


def _text_encoder(width: int, umt5: bool) -> Any:
    """One layer with the real output width (the transformer's text_dim)."""
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    tokenizer = tiny.t5_tokenizer()
    fields: dict[str, Any] = dict(
        vocab_size=len(tokenizer), d_model=width, d_kv=64, d_ff=10240, num_layers=1, num_heads=64
    )
    model = UMT5EncoderModel(UMT5Config(**fields)) if umt5 else T5EncoderModel(T5Config(**fields))
    return tokenizer, model


def build_wan22_5b(dtype: torch.dtype) -> Any:
    """Wan2.2-TI2V-5B's transformer and VAE configs (diffusers layout)."""
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanPipeline,
        WanTransformer3DModel,
    )

    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=24,
        attention_head_dim=128,
        in_channels=48,
        out_channels=48,
        text_dim=4096,
        freq_dim=256,
        ffn_dim=14336,
        num_layers=30,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
        rope_max_seq_len=1024,
    )
    vae = AutoencoderKLWan(
        base_dim=160,
        decoder_base_dim=256,
        z_dim=48,
        dim_mult=[1, 2, 4, 4],
        num_res_blocks=2,
        temperal_downsample=[False, True, True],
        is_residual=True,
        in_channels=12,
        out_channels=12,
        patch_size=2,
        scale_factor_spatial=16,
        scale_factor_temporal=4,
        latents_mean=[0.0] * 48,
        latents_std=[1.0] * 48,
        clip_output=False,
    )
    tokenizer, text_encoder = _text_encoder(4096, umt5=True)
    pipe = WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        transformer=transformer.to(dtype),
        vae=vae.to(torch.float32),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
        expand_timesteps=True,
    )
    text_encoder.to(dtype)
    return pipe


def build_ltx(dtype: torch.dtype) -> Any:
    """LTX-Video 0.9's transformer and VAE: diffusers' defaults are the released sizes."""
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    tokenizer, text_encoder = _text_encoder(4096, umt5=False)
    pipe = LTXPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=AutoencoderKLLTXVideo().to(dtype),
        text_encoder=text_encoder.to(dtype),
        tokenizer=tokenizer,
        transformer=LTXVideoTransformer3DModel().to(dtype),
    )
    return pipe


CASES = {
    "wan2_2-ti2v-5b": Case(
        "wan2_2-ti2v-5b", build_wan22_5b, tiny_current.build_wan22_5b, (64, 32, 9)
    ),
    "ltx-video": Case("ltx-video", build_ltx, tiny.build_ltx, (64, 32, 9)),
}


# ---------------------------------------------------------------- measuring


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def peak_tflops(device: str) -> tuple[float, str]:
    """The device's dense bf16 peak from the table, else a measured matmul peak."""
    if device == "cuda":
        name = torch.cuda.get_device_name()
        for marker, peak in PEAK_TFLOPS.items():
            if marker in name:
                return peak, f"{name}: data-sheet dense bf16 peak"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    n = 4096 if device == "cuda" else 512
    a = torch.randn(n, n, device=device, dtype=dtype)
    a @ a  # warm-up
    sync(device)
    started = time.perf_counter()
    for _ in range(5):
        a @ a
    sync(device)
    measured = 5 * 2 * n**3 / (time.perf_counter() - started) / 1e12
    return measured, f"measured {n}x{n} matmul on {device} (no data-sheet figure)"


def transformer_flops(pipe: Any, call: dict[str, Any], device: str) -> int:
    """FLOPs of one transformer forward, counted from the architecture on the
    inputs a run really gives it (captured by a forward pre-hook)."""
    captured: dict[str, Any] = {}

    def grab(module: Any, args: Any, kwargs: Any) -> None:
        captured.setdefault("args", (args, kwargs))

    hook = pipe.transformer.register_forward_pre_hook(grab, with_kwargs=True)
    try:
        pipe(**{**call, "num_inference_steps": 1, "output_type": "latent"})
    finally:
        hook.remove()
    args, kwargs = captured["args"]
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        pipe.transformer(*args, **kwargs)
    return int(counter.get_total_flops())


def compile_speedup(pipe: Any, call: dict[str, Any], device: str, repeats: int) -> dict[str, Any]:
    captured: dict[str, Any] = {}
    hook = pipe.transformer.register_forward_pre_hook(
        lambda m, a, k: captured.setdefault("x", (a, k)), with_kwargs=True
    )
    try:
        pipe(**{**call, "num_inference_steps": 1, "output_type": "latent"})
    finally:
        hook.remove()
    args, kwargs = captured["x"]
    backend = "inductor" if device == "cuda" else "eager"
    compiled = torch.compile(pipe.transformer, backend=backend)

    def timed(module: Any) -> float:
        with torch.no_grad():
            module(*args, **kwargs)  # warm-up (and compilation)
            sync(device)
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                module(*args, **kwargs)
                sync(device)
                times.append(time.perf_counter() - started)
        return statistics.median(times)

    eager = timed(pipe.transformer)
    fast = timed(compiled)
    return {"backend": backend, "eager_s": eager, "compiled_s": fast, "speedup": eager / fast}


def peak_memory_gb(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB


def bench_case(case: Case, args: argparse.Namespace, device: str) -> dict[str, Any]:
    shipped = load_registry().get(case.key)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    started = time.perf_counter()
    with torch.device(device):
        pipe = case.build_tiny() if args.tiny else case.build_full(dtype)
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    build_s = time.perf_counter() - started
    if args.tiny:
        width, height, frames = case.tiny_size
    else:
        width, height = shipped.ratios["1280:720"]
        frames = shipped.durations[min(shipped.durations)]
    spec: ModelSpec = replace(shipped, weights=f"bench:{case.key}", cpu_offload=False)
    class_name = spec.pipelines["text_to_video"]
    engine = DiffusersEngine(memory_budget_gb=1e6)
    engine.adopt(spec, class_name, pipe)
    request = GenerationRequest(
        mode="text_to_video",
        prompt="a lighthouse at dusk, waves",
        negative_prompt="blurry",
        width=width,
        height=height,
        num_frames=frames,
        fps=spec.fps,
        seed=1,
        steps=args.steps,
        guidance=spec.default_guidance,
    )
    call = engine._call_kwargs(pipe, request, lambda done, total: None)
    call.pop("callback_on_step_end", None)

    def raw() -> None:
        pipe(**{**call, "generator": torch.Generator(device).manual_seed(1)})

    def studio() -> None:
        engine.run(spec, request, lambda done, total: None)

    raw()  # warm-up: kernels, allocator
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    studio_times: list[float] = []
    raw_times: list[float] = []
    for _ in range(args.repeats):
        for fn, times in ((studio, studio_times), (raw, raw_times)):
            sync(device)
            t0 = time.perf_counter()
            fn()
            sync(device)
            times.append(time.perf_counter() - t0)
    peak = peak_memory_gb(device)
    flops = transformer_flops(pipe, call, device)
    forwards = args.steps * (2 if spec.default_guidance > 1.0 else 1)
    peak_tf, peak_source = peak_tflops(device)
    studio_s, raw_s = statistics.median(studio_times), statistics.median(raw_times)
    return {
        "model": case.key,
        "size": [width, height, frames],
        "steps": args.steps,
        "build_s": round(build_s, 3),
        "raw_s": round(raw_s, 4),
        "studio_s": round(studio_s, 4),
        "studio_over_raw": round(studio_s / raw_s, 4),
        "peak_memory_gb": round(peak, 3),
        "peak_memory_source": "cuda max_memory_allocated" if device == "cuda" else "process RSS",
        "registry_memory_gb": shipped.memory_gb,
        "compile": compile_speedup(pipe, call, device, args.repeats),
        "transformer_gflop_per_forward": round(flops / 1e9, 3),
        "mfu": flops * forwards / raw_s / (peak_tf * 1e12),
        "peak_tflops": round(peak_tf, 2),
        "peak_source": peak_source,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny size (default without CUDA)")
    parser.add_argument("--models", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (10; tiny 2)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    args.tiny = args.tiny or device == "cpu"
    args.steps = args.steps or (2 if args.tiny else 10)
    if device == "cpu":
        torch.set_num_threads(2)
    results = {
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "tiny": args.tiny,
        "torch": torch.__version__,
        "models": [bench_case(CASES[key], args, device) for key in args.models],
    }
    for row in results["models"]:
        print(
            f"{row['model']:16} {'x'.join(map(str, row['size']))} {row['steps']} steps  "
            f"studio/raw {row['studio_over_raw']:.3f} (goal <= 1.02)  "
            f"peak {row['peak_memory_gb']:.2f} GB vs registry {row['registry_memory_gb']} GB  "
            f"compile x{row['compile']['speedup']:.2f} ({row['compile']['backend']})  "
            f"MFU {row['mfu'] * 100:.2g}% of {row['peak_tflops']} TFLOP/s"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
