"""The current open models (Wan 2.2, HunyuanVideo 1.5, FLUX.2 [klein]) on their tiny,
random-weight pipelines, through the same engine as real weights: what each
family does that the older ones did not (first and last frame, two experts,
per-token timesteps, a pipeline without step callbacks)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from studio.generation.registry import Registry, load_registry
from tests.generation.test_diffusers_engine import Recorder, make_engine, make_request


@pytest.fixture(scope="module")
def engine() -> Any:
    return make_engine()


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A red first frame and a blue last frame."""
    folder = tmp_path_factory.mktemp("keyframes")
    first, last = folder / "first.png", folder / "last.png"
    Image.new("RGB", (100, 60), (220, 30, 30)).save(first)
    Image.new("RGB", (100, 60), (30, 30, 220)).save(last)
    return first, last


def test_shipped_registry_has_the_current_models() -> None:
    shipped = load_registry()
    expected = {
        "wan2_2-ti2v-5b": ("WanPipeline", "WanImageToVideoPipeline"),
        "wan2_2-t2v-a14b": ("WanPipeline",),
        "wan2_2-i2v-a14b": ("WanImageToVideoPipeline",),
        "hunyuan-video-1_5-t2v": ("HunyuanVideo15Pipeline",),
        "hunyuan-video-1_5-i2v": ("HunyuanVideo15ImageToVideoPipeline",),
        "flux2-klein-4b": ("Flux2KleinPipeline",),
    }
    for key, classes in expected.items():
        spec = shipped.get(key)
        assert tuple(spec.pipelines.values()) == classes
        assert spec.memory_gb > 0 and spec.dtype == "bfloat16"
        if spec.frame_rule is not None:  # Wan and HunyuanVideo: 4k+1 frames
            k, offset = spec.frame_rule
            assert all((n - offset) % k == 0 for n in spec.durations.values())
    assert shipped.get("wan2_2-i2v-a14b").last_frame
    assert not shipped.get("wan2_2-ti2v-5b").last_frame  # its pipeline ignores a last frame
    # 720p of the 5B is 1280x704 (its VAE and patches need multiples of 32).
    assert all(
        w % 32 == 0 and h % 32 == 0 for w, h in shipped.get("wan2_2-ti2v-5b").ratios.values()
    )


def test_last_frame_reaches_wan_first_last_frame(
    engine: Any, tiny_registry: Registry, frames: tuple[Path, Path]
) -> None:
    spec = tiny_registry.get("tiny-wan22-i2v-a14b")
    first, last = frames
    request = make_request(spec, "image_to_video", first)
    alone = engine.run(spec, request, Recorder())
    again = engine.run(spec, request, Recorder())
    ended = engine.run(spec, replace(request, last_image_path=last), Recorder())
    assert np.array_equal(alone.frames, again.frames)  # same seed, same frames
    assert ended.frames.shape == alone.frames.shape
    assert not np.array_equal(alone.frames, ended.frames)  # the last frame changed the clip


def test_a_last_frame_is_refused_by_a_pipeline_without_one(
    engine: Any, tiny_registry: Registry, frames: tuple[Path, Path]
) -> None:
    from studio.generation.engines.diffusers_engine import EngineError

    spec = tiny_registry.get("tiny-ltx")
    first, last = frames
    request = replace(make_request(spec, "image_to_video", first), last_image_path=last)
    with pytest.raises(EngineError, match="cannot end on a given frame"):
        engine.run(spec, request, Recorder())


def test_a14b_runs_both_experts(
    engine: Any, tiny_registry: Registry, frames: tuple[Path, Path]
) -> None:
    """High noise goes to `transformer`, low noise to `transformer_2` (boundary 0.875)."""
    spec = tiny_registry.get("tiny-wan22-t2v-a14b")
    request = replace(make_request(spec, "text_to_video", frames[0]), steps=4)
    engine.run(spec, request, Recorder())  # load
    pipe = engine._cache[(spec.weights, spec.revision)].pipes["WanPipeline"]
    calls = {"transformer": 0, "transformer_2": 0}
    hooks = [
        getattr(pipe, name).register_forward_hook(
            lambda *_, name=name: calls.__setitem__(name, calls[name] + 1)
        )
        for name in calls
    ]
    try:
        engine.run(spec, request, Recorder())
    finally:
        for hook in hooks:
            hook.remove()
    assert calls["transformer"] > 0 and calls["transformer_2"] > 0


def test_wan22_5b_modes_share_one_load(tiny_registry: Registry, frames: tuple[Path, Path]) -> None:
    """TI2V-5B: one set of weights; image to video is built over the text to video modules."""
    spec = tiny_registry.get("tiny-wan22-5b")
    engine = make_engine()
    t2v = engine.run(spec, make_request(spec, "text_to_video", frames[0]), Recorder())
    i2v = engine.run(spec, make_request(spec, "image_to_video", frames[0]), Recorder())
    assert engine.loads == 1
    assert (t2v.extra["pipeline"], i2v.extra["pipeline"]) == (
        "WanPipeline",
        "WanImageToVideoPipeline",
    )
    pipe = engine._cache[(spec.weights, spec.revision)].pipes["WanImageToVideoPipeline"]
    assert pipe.config.expand_timesteps  # per-token timesteps: the first frame stays clean


def test_hunyuan_reports_progress_and_cancels_without_a_step_callback(
    engine: Any, tiny_registry: Registry, frames: tuple[Path, Path]
) -> None:
    from studio.generation.engines.base import JobCanceled

    spec = tiny_registry.get("tiny-hunyuan15-t2v")
    request = replace(make_request(spec, "text_to_video", frames[0]), steps=3)
    progress = Recorder()
    engine.run(spec, request, progress)
    assert progress.calls == [(1, 3), (2, 3), (3, 3)]
    canceled = Recorder(cancel_at=1)
    with pytest.raises(JobCanceled):
        engine.run(spec, request, canceled)
    assert canceled.calls == [(1, 3)]
    # The scheduler is itself again: a later run reports from the start.
    again = Recorder()
    engine.run(spec, request, again)
    assert again.calls == [(1, 3), (2, 3), (3, 3)]


def test_hunyuan_image_to_video_renders_the_registry_size(
    engine: Any, tiny_registry: Registry, frames: tuple[Path, Path]
) -> None:
    """Its pipeline picks the size from the picture: the engine hands it the
    registry's size, so the bucket is that size."""
    spec = tiny_registry.get("tiny-hunyuan15-i2v")
    for ratio, (width, height) in spec.ratios.items():
        request = make_request(spec, "image_to_video", frames[0], ratio=ratio)
        out = engine.run(spec, request, Recorder())
        assert out.frames.shape[1:3] == (height, width)


def test_video_to_video_restyles_the_source_frames(
    engine: Any, tiny_registry: Registry, tmp_path: Path
) -> None:
    """Wan's video-to-video pipeline gets the source's frames at the output size;
    a different source gives a different clip, unless strength 1 ignores it."""
    from studio.media import ffmpeg

    spec = tiny_registry.get("tiny-wan")
    sources = []
    for name, level in (("dark", 30), ("light", 220)):
        path = tmp_path / f"{name}.mp4"
        ffmpeg.encode_mp4(np.full((20, 48, 80, 3), level, dtype=np.uint8), 20, path)
        sources.append(path)
    request = replace(
        make_request(spec, "text_to_video", sources[0]),
        mode="video_to_video",
        video_path=sources[0],
        strength=0.6,
        steps=4,
    )
    dark = engine.run(spec, request, Recorder())
    width, height = spec.ratios["1280:720"]
    assert dark.frames.shape == (request.num_frames, height, width, 3)
    assert dark.extra["pipeline"] == "WanVideoToVideoPipeline"
    light = engine.run(spec, replace(request, video_path=sources[1]), Recorder())
    assert not np.array_equal(dark.frames, light.frames)
    # At strength 1 the source is pure noise: the clip no longer depends on it.
    free = engine.run(spec, replace(request, strength=1.0), Recorder())
    free_light = engine.run(spec, replace(request, strength=1.0, video_path=sources[1]), Recorder())
    assert not np.array_equal(dark.frames, free.frames)
    assert np.array_equal(free.frames, free_light.frames)


def test_video_to_video_needs_a_source(
    engine: Any, tiny_registry: Registry, tmp_path: Path
) -> None:
    from studio.generation.engines.diffusers_engine import EngineError

    spec = tiny_registry.get("tiny-wan")
    request = replace(make_request(spec, "text_to_video", tmp_path), mode="video_to_video")
    with pytest.raises(EngineError, match="needs a source video"):
        engine.run(spec, request, Recorder())
