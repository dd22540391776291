"""The diffusers engine on real (tiny, random-weight) pipelines: no mocks.

Every tiny model and mode from diffusers_tiny runs through the engine: sizes
and frame counts from the registry, per-step progress, seeds, cancellation,
the warm cache and its memory budget, and where weights may come from.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from studio.generation.engines.base import GenerationRequest, JobCanceled
from studio.generation.registry import ModelSpec, Registry, resolve

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Locally without the ml extra: skip. In CI: run, and fail.
pytestmark = pytest.mark.skipif(
    find_spec("diffusers") is None and not IN_CI,
    reason="the ml extra (torch, diffusers) is not installed",
)

# (model, mode) pairs that diffusers_tiny writes; checked against its models.toml.
CASES = [
    ("tiny-sd", "text_to_image"),
    ("tiny-ltx", "text_to_video"),
    ("tiny-ltx", "image_to_video"),
    ("tiny-svd", "image_to_video"),
    ("tiny-animatediff", "text_to_video"),
    ("tiny-wan", "text_to_video"),
    ("tiny-ltx2", "text_to_video"),
    ("tiny-ltx2", "image_to_video"),
]
CASE_IDS = [f"{key}-{mode}" for key, mode in CASES]
THREADS = 1  # one thread: steady timings on a busy 2-core machine


def make_engine(budget_gb: float = 10.0) -> Any:
    from studio.generation.engines.diffusers_engine import create_engine

    return create_engine(memory_budget_gb=budget_gb, threads=THREADS)


@pytest.fixture(scope="module")
def engine() -> Any:
    """One engine for the module: pipelines stay warm between tests."""
    return make_engine()


@pytest.fixture(scope="module")
def reference_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A picture of another size and mode (RGBA), so the engine must convert and resize."""
    x = np.linspace(0, 255, 100, dtype=np.uint8)
    y = np.linspace(0, 255, 70, dtype=np.uint8)
    pixels = np.zeros((70, 100, 4), dtype=np.uint8)
    pixels[..., 0] = x[None, :]
    pixels[..., 1] = y[:, None]
    pixels[..., 2] = 90
    pixels[..., 3] = 255
    path = tmp_path_factory.mktemp("reference") / "reference.png"
    Image.fromarray(pixels, "RGBA").save(path)
    return path


def make_request(
    spec: ModelSpec,
    mode: str,
    image: Path,
    *,
    ratio: str | None = None,
    duration: int | None = None,
    seed: int = 7,
) -> GenerationRequest:
    """What the studio would send: the request resolved against the registry entry."""
    resolved = resolve(
        spec,
        mode=mode,
        prompt="a red fox runs through snow" if spec.prompt else "",
        ratio=ratio,
        duration=None if mode == "text_to_image" else duration,
        negative_prompt="blurry" if spec.negative_prompt else None,
        camera_move="zoom_in" if spec.camera_move != "none" and mode != "text_to_image" else None,
        motion_strength=0.6 if spec.motion_strength else None,
    )
    return GenerationRequest(
        mode=mode,  # type: ignore[arg-type]
        prompt=resolved.prompt,
        width=resolved.width,
        height=resolved.height,
        seed=seed,
        steps=resolved.steps,
        guidance=resolved.guidance,
        num_frames=resolved.num_frames,
        fps=resolved.fps,
        negative_prompt=resolved.negative_prompt,
        image_path=image if mode == "image_to_video" else None,
        motion_strength=resolved.motion_strength,
    )


class Recorder:
    """A progress callback that keeps its calls; optionally cancels at a step."""

    def __init__(self, cancel_at: int | None = None) -> None:
        self.calls: list[tuple[int, int]] = []
        self.cancel_at = cancel_at

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))
        if self.cancel_at is not None and done >= self.cancel_at:
            raise JobCanceled()


# ---------------------------------------------------------------- the tiny set


def test_tiny_registry_lists_every_family(tiny_registry: Registry, tiny_models: Path) -> None:
    specs = tiny_registry.all()
    assert specs[0].key == "animatic" and specs[0].engine == "animatic"
    pairs = [(s.key, m) for s in specs if s.engine == "diffusers" for m in s.modes]
    assert sorted(pairs) == sorted(CASES)
    for spec in specs[1:]:
        assert Path(spec.weights).parent == tiny_models.parent
        assert (Path(spec.weights) / "model_index.json").is_file()
        assert spec.default_steps == 2 and spec.dtype == "float32" and spec.fps == 8
        assert {"1280:720", "960:960"} <= set(spec.ratios)
    ltx, wan = tiny_registry.get("tiny-ltx"), tiny_registry.get("tiny-wan")
    assert all((n - 1) % 8 == 0 for n in ltx.durations.values())
    assert all((n - 1) % 4 == 0 for n in wan.durations.values())
    assert all(w % 32 == 0 and h % 32 == 0 for w, h in ltx.ratios.values())
    svd = tiny_registry.get("tiny-svd")
    assert svd.motion_strength and svd.camera_move == "none" and not svd.negative_prompt


def test_weights_present(tiny_registry: Registry, tmp_path: Path) -> None:
    engine = make_engine()
    spec = tiny_registry.get("tiny-sd")
    assert engine.weights_present(spec)
    assert not engine.weights_present(replace(spec, weights=str(tmp_path / "missing")))
    assert not engine.weights_present(replace(spec, weights="nobody-here/no-such-model-4711"))
    assert not engine.weights_present(replace(spec, weights=""))
    # A folder without model_index.json, and one missing a component it names.
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not engine.weights_present(replace(spec, weights=str(empty)))
    partial = tmp_path / "partial"
    shutil.copytree(spec.weights, partial)
    shutil.rmtree(partial / "unet")
    assert not engine.weights_present(replace(spec, weights=str(partial)))


def test_hub_id_resolves_from_the_local_cache_only(
    tiny_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference_image: Path
) -> None:
    """A hub id in the HF cache layout loads with local_files_only; nothing is fetched."""
    from huggingface_hub import constants

    spec = tiny_registry.get("tiny-sd")
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--studio-tests--tiny-sd"
    shutil.copytree(spec.weights, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    engine = make_engine()
    hub_spec = replace(spec, weights="studio-tests/tiny-sd")
    assert engine.weights_present(hub_spec)
    assert not engine.weights_present(replace(spec, weights="studio-tests/other"))
    out = engine.run(hub_spec, make_request(hub_spec, "text_to_image", reference_image), Recorder())
    assert out.frames.shape == (1, *spec.ratios["1280:720"][::-1], 3)


# ---------------------------------------------------------------- running


@pytest.mark.parametrize(("key", "mode"), CASES, ids=CASE_IDS)
def test_every_size_and_duration(
    engine: Any, tiny_registry: Registry, reference_image: Path, key: str, mode: str
) -> None:
    spec = tiny_registry.get(key)
    durations = [None] if mode == "text_to_image" else sorted(spec.durations)
    for ratio, (width, height) in spec.ratios.items():
        for duration in durations:
            request = make_request(spec, mode, reference_image, ratio=ratio, duration=duration)
            progress = Recorder()
            out = engine.run(spec, request, progress)

            frames = 1 if duration is None else spec.durations[duration]
            assert out.frames.shape == (frames, height, width, 3), (ratio, duration)
            assert out.frames.dtype == np.uint8
            assert out.frames.std() > 0  # not a blank picture
            assert out.fps == spec.fps
            assert out.is_video == (mode != "text_to_image")
            assert out.extra["device"] == "cpu"

            done = [d for d, _ in progress.calls]
            totals = {t for _, t in progress.calls}
            assert done == list(range(1, request.steps + 1))
            assert totals == {request.steps}


@pytest.mark.parametrize(("key", "mode"), CASES, ids=CASE_IDS)
def test_seed_decides_the_frames(
    engine: Any, tiny_registry: Registry, reference_image: Path, key: str, mode: str
) -> None:
    spec = tiny_registry.get(key)
    first = engine.run(spec, make_request(spec, mode, reference_image, seed=11), Recorder())
    again = engine.run(spec, make_request(spec, mode, reference_image, seed=11), Recorder())
    other = engine.run(spec, make_request(spec, mode, reference_image, seed=12), Recorder())
    assert np.array_equal(first.frames, again.frames)
    assert not np.array_equal(first.frames, other.frames)


@pytest.mark.parametrize(("key", "mode"), CASES, ids=CASE_IDS)
def test_cancel_stops_at_once(
    engine: Any, tiny_registry: Registry, reference_image: Path, key: str, mode: str
) -> None:
    spec = tiny_registry.get(key)
    progress = Recorder(cancel_at=1)
    with pytest.raises(JobCanceled):
        engine.run(spec, make_request(spec, mode, reference_image), progress)
    assert progress.calls == [(1, 2)]
    # The warm pipeline is still usable for the next job.
    out = engine.run(spec, make_request(spec, mode, reference_image), Recorder())
    assert out.frames.dtype == np.uint8


@pytest.mark.parametrize(("key", "mode"), CASES, ids=CASE_IDS)
def test_second_run_is_warm(
    tiny_registry: Registry, reference_image: Path, key: str, mode: str
) -> None:
    spec = tiny_registry.get(key)
    engine = make_engine()
    assert not engine.is_warm(spec)
    cold = engine.run(spec, make_request(spec, mode, reference_image), Recorder())
    assert engine.is_warm(spec)
    warm = engine.run(spec, make_request(spec, mode, reference_image), Recorder())
    assert cold.extra["load_seconds"] > 0
    assert warm.extra["load_seconds"] < cold.extra["load_seconds"] / 10
    assert engine.loads == 1


@pytest.mark.parametrize("key", ["tiny-ltx", "tiny-svd"])
def test_image_to_video_without_a_prompt(
    engine: Any, tiny_registry: Registry, reference_image: Path, key: str
) -> None:
    spec = tiny_registry.get(key)
    request = replace(make_request(spec, "image_to_video", reference_image), prompt="")
    out = engine.run(spec, request, Recorder())
    assert out.frames.shape[0] == request.num_frames


def test_motion_strength_reaches_svd(
    engine: Any, tiny_registry: Registry, reference_image: Path
) -> None:
    spec = tiny_registry.get("tiny-svd")
    request = make_request(spec, "image_to_video", reference_image)
    calm = engine.run(spec, replace(request, motion_strength=0.0), Recorder())
    wild = engine.run(spec, replace(request, motion_strength=1.0), Recorder())
    assert not np.array_equal(calm.frames, wild.frames)


def test_ltx_modes_share_one_load(tiny_registry: Registry, reference_image: Path) -> None:
    """LTX's image_to_video class is built over the text_to_video modules."""
    spec = tiny_registry.get("tiny-ltx")
    engine = make_engine()
    t2v = engine.run(spec, make_request(spec, "text_to_video", reference_image), Recorder())
    i2v = engine.run(spec, make_request(spec, "image_to_video", reference_image), Recorder())
    assert engine.loads == 1 and len(engine.warm_keys()) == 1
    assert t2v.extra["pipeline"] == "LTXPipeline"
    assert i2v.extra["pipeline"] == "LTXImageToVideoPipeline"
    assert i2v.extra["load_seconds"] < t2v.extra["load_seconds"]
    # Same frames as an engine that loaded image_to_video on its own.
    alone = make_engine()
    solo = alone.run(spec, make_request(spec, "image_to_video", reference_image), Recorder())
    assert np.array_equal(i2v.frames, solo.frames)


def test_memory_budget_evicts_least_recently_used(
    tiny_registry: Registry, reference_image: Path
) -> None:
    sd, ltx, svd = (tiny_registry.get(k) for k in ("tiny-sd", "tiny-ltx", "tiny-svd"))
    assert sd.memory_gb + ltx.memory_gb <= 0.12 < sd.memory_gb + ltx.memory_gb + svd.memory_gb
    engine = make_engine(budget_gb=0.12)

    def run(spec: ModelSpec, mode: str) -> None:
        engine.run(spec, make_request(spec, mode, reference_image), Recorder())

    run(sd, "text_to_image")
    run(ltx, "text_to_video")
    run(sd, "text_to_image")  # sd is now the most recently used
    assert engine.is_warm(sd) and engine.is_warm(ltx) and engine.evictions == 0
    run(svd, "image_to_video")
    assert engine.is_warm(sd) and engine.is_warm(svd)
    assert not engine.is_warm(ltx)
    assert engine.evictions == 1 and engine.loads == 3

    # A model bigger than the whole budget still runs, alone.
    tiny_budget = make_engine(budget_gb=0.01)
    tiny_budget.run(sd, make_request(sd, "text_to_image", reference_image), Recorder())
    tiny_budget.run(svd, make_request(svd, "image_to_video", reference_image), Recorder())
    assert tiny_budget.warm_keys() == [(svd.weights, svd.revision)]


def test_get_engine_makes_this_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.generation import engines
    from studio.generation.engines.diffusers_engine import DiffusersEngine

    # Leave no process-wide engine or options behind.
    monkeypatch.setattr(engines, "_loaded", {})
    monkeypatch.setattr(engines, "_options", {})
    engines.configure("diffusers", threads=THREADS, memory_budget_gb=3.5)
    engine = engines.get_engine("diffusers")
    assert isinstance(engine, DiffusersEngine)
    assert engine.memory_budget_gb == 3.5
    assert engines.get_engine("diffusers") is engine


def test_image_to_video_needs_an_image(engine: Any, tiny_registry: Registry) -> None:
    from studio.generation.engines.diffusers_engine import EngineError

    spec = tiny_registry.get("tiny-svd")
    request = replace(make_request(spec, "image_to_video", Path("unused")), image_path=None)
    with pytest.raises(EngineError, match="reference image"):
        engine.run(spec, request, Recorder())


def test_unknown_pipeline_class_is_a_clear_error(engine: Any, tiny_registry: Registry) -> None:
    from studio.generation.engines.diffusers_engine import EngineError

    spec = tiny_registry.get("tiny-sd")
    broken = replace(spec, pipelines={"text_to_image": "NoSuchPipeline"})
    request = make_request(spec, "text_to_image", Path("unused"))
    with pytest.raises(EngineError, match="NoSuchPipeline"):
        engine.run(broken, request, Recorder())


def test_tiny_weights_are_deterministic(tmp_path: Path, tiny_models: Path) -> None:
    """make_tiny seeds torch: the same call writes the same tensors."""
    from studio.generation.engines.diffusers_tiny import make_tiny

    again = make_tiny(tmp_path, families=["tiny-ltx"])
    index = json.loads((again.parent / "tiny-ltx" / "model_index.json").read_text())
    assert index["_class_name"] == "LTXPipeline"
    for part in ("transformer", "vae", "text_encoder"):
        files = sorted((tiny_models.parent / "tiny-ltx" / part).glob("*.safetensors"))
        assert files, part
        for file in files:
            assert file.read_bytes() == (again.parent / "tiny-ltx" / part / file.name).read_bytes()
