"""The animatic engine: real PIL rendering, real ffmpeg encode, no mocks."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.generation.engines import get_engine
from studio.generation.engines.animatic import AnimaticEngine, create_engine, motion_amount
from studio.generation.engines.base import CAMERA_MOVES, GenerationRequest, JobCanceled
from studio.generation.registry import ModelSpec
from studio.media.ffmpeg import encode_mp4, probe, read_frames

SPEC = ModelSpec(
    key="animatic",
    name="Animatic",
    engine="animatic",
    modes=("text_to_image", "text_to_video", "image_to_video"),
    ratios={"16:9": (1280, 720)},
    durations={4: 96},
    fps=24,
)
W, H, T = 160, 90, 12


def request(**changes: object) -> GenerationRequest:
    base = GenerationRequest(
        mode="text_to_video",
        prompt="A lighthouse keeper climbs the stairs as the storm breaks over the bay.",
        width=W,
        height=H,
        seed=7,
        steps=1,
        guidance=0.0,
        num_frames=T,
        fps=24,
        title="SC01-SH010",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def run(req: GenerationRequest) -> np.ndarray:
    calls: list[tuple[int, int]] = []
    out = create_engine().run(SPEC, req, lambda done, total: calls.append((done, total)))
    assert out.fps == req.fps
    assert out.frames.dtype == np.uint8
    assert calls and calls[-1] == (out.frames.shape[0], out.frames.shape[0])
    return out.frames


@pytest.fixture(scope="module")
def textured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A smooth but detailed 16:9 picture (so crops can be compared)."""
    ys, xs = np.mgrid[0:360, 0:640].astype(np.float32)
    pixels = np.stack(
        [
            128 + 100 * np.sin(xs / 23) * np.cos(ys / 31),
            128 + 100 * np.cos((xs + ys) / 41),
            xs * 255 / 639,
        ],
        axis=-1,
    )
    path = tmp_path_factory.mktemp("img") / "textured.png"
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def marker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bright square in the middle of a dark picture."""
    pixels = np.full((360, 640, 3), 20, np.uint8)
    pixels[150:210, 290:350] = 250
    path = tmp_path_factory.mktemp("img") / "marker.png"
    Image.fromarray(pixels).save(path)
    return path


def centroid(frame: np.ndarray) -> tuple[float, float]:
    weight = (frame.mean(axis=2) > 128).astype(np.float64)
    ys, xs = np.nonzero(weight)
    assert len(xs) > 0, "the marker left the frame"
    return float(xs.mean()), float(ys.mean())


def mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def magnified_centre(frame: np.ndarray, factor: float) -> np.ndarray:
    h, w = frame.shape[:2]
    cw, ch = w / factor, h / factor
    box = ((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2)
    return np.asarray(Image.fromarray(frame).resize((w, h), Image.Resampling.BICUBIC, box=box))


def test_engine_protocol() -> None:
    engine = get_engine("animatic")
    assert isinstance(engine, AnimaticEngine)
    assert engine.is_warm(SPEC) is True
    assert engine.weights_present(SPEC) is True


@pytest.mark.parametrize("move", [*CAMERA_MOVES, None])
@pytest.mark.parametrize("with_image", [True, False])
def test_every_move_gives_the_right_frames(
    move: str | None, with_image: bool, textured: Path
) -> None:
    req = request(
        camera_move=move,
        image_path=textured if with_image else None,
        mode="image_to_video" if with_image else "text_to_video",
    )
    frames = run(req)
    assert frames.shape == (T, H, W, 3)
    if move in (None, "static"):
        assert all(np.array_equal(frames[0], f) for f in frames[1:])
    else:
        assert mean_diff(frames[0], frames[-1]) > 1.0, f"{move} does not move"


def test_odd_and_portrait_sizes(textured: Path) -> None:
    frames = run(
        request(width=91, height=161, num_frames=5, camera_move="pan_left", image_path=textured)
    )
    assert frames.shape == (5, 161, 91, 3)
    frames = run(request(width=91, height=161, num_frames=5, camera_move="tilt_up"))
    assert frames.shape == (5, 161, 91, 3)


def test_zoom_in_ends_on_a_magnified_centre(textured: Path) -> None:
    frames = run(request(camera_move="zoom_in", image_path=textured, width=320, height=180))
    factor = 1 + motion_amount(None)
    expected = magnified_centre(frames[0], factor)
    assert mean_diff(frames[-1], expected) < 4.0
    assert mean_diff(frames[-1], frames[0]) > 4 * mean_diff(frames[-1], expected)


def test_zoom_out_starts_on_a_magnified_centre(textured: Path) -> None:
    frames = run(request(camera_move="zoom_out", image_path=textured, width=320, height=180))
    expected = magnified_centre(frames[-1], 1 + motion_amount(None))
    assert mean_diff(frames[0], expected) < 4.0


def test_motion_strength_scales_the_move(textured: Path) -> None:
    weak = run(request(camera_move="zoom_in", image_path=textured, motion_strength=0.0))
    strong = run(request(camera_move="zoom_in", image_path=textured, motion_strength=1.0))
    assert mean_diff(weak[0], strong[0]) < 2.0  # both start on the whole picture
    assert mean_diff(weak[0], weak[-1]) < mean_diff(strong[0], strong[-1])


@pytest.mark.parametrize(
    ("move", "axis", "sign"),
    [("pan_right", 0, -1), ("pan_left", 0, 1), ("tilt_up", 1, 1), ("tilt_down", 1, -1)],
)
def test_pans_and_tilts_move_content_the_right_way(
    marker: Path, move: str, axis: int, sign: int
) -> None:
    """pan_right: the camera turns right, so the picture slides left; tilt_up: it slides down."""
    frames = run(request(camera_move=move, image_path=marker, num_frames=9))
    path = [centroid(f)[axis] for f in frames]
    assert sign * (path[-1] - path[0]) > 0.1 * (W if axis == 0 else H)
    steps = np.diff(path) * sign
    assert (steps >= -0.01).all(), f"{move} is not monotonic: {path}"
    other = [centroid(f)[1 - axis] for f in frames]
    assert max(other) - min(other) < 1.0  # no drift on the other axis


def test_same_request_gives_identical_frames(textured: Path) -> None:
    for req in (
        request(camera_move="pan_left"),
        request(camera_move="zoom_in", image_path=textured),
    ):
        assert np.array_equal(run(req), run(req))


def test_cancel_from_progress_stops_early() -> None:
    calls: list[int] = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if done == 3:
            raise JobCanceled

    with pytest.raises(JobCanceled):
        create_engine().run(SPEC, request(camera_move="zoom_in", num_frames=50), progress)
    assert calls == [1, 2, 3]


def test_card_is_drawn_when_there_is_no_image() -> None:
    frame = run(request(mode="text_to_image", num_frames=1, width=640, height=360))[0]
    assert frame.shape == (360, 640, 3)
    grey = frame.mean(axis=2)
    assert grey.std() > 5  # not a flat fill
    assert grey.mean() < 80  # dark card
    bright = grey > 200  # the text
    assert bright.sum() > 2000
    rows = np.nonzero(bright.any(axis=1))[0]
    assert rows.min() < 360 * 0.45, "the title should be in the upper part"


def test_card_depends_on_title_caption_and_seed() -> None:
    base = request(mode="text_to_image", num_frames=1)
    card = run(base)[0]
    assert not np.array_equal(card, run(replace(base, title="SC02-SH020"))[0])
    assert not np.array_equal(card, run(replace(base, caption="Something else entirely."))[0])
    assert not np.array_equal(card, run(replace(base, seed=8))[0])
    untitled = run(replace(base, title=None, prompt="", caption=None))[0]
    assert untitled.mean(axis=2).std() > 5  # "Animatic" is drawn


def test_long_captions_and_odd_text_do_not_break_the_card() -> None:
    caption = (
        "supercalifragilisticexpialidocious" * 5 + " "
    ) * 40 + "ünïcödé 日本語 🎬\nsecond line"
    frames = run(request(caption=caption, title="X" * 200, num_frames=3, camera_move="pan_right"))
    assert frames.shape == (3, H, W, 3)


def test_text_to_image_with_an_image_is_one_still(textured: Path) -> None:
    frames = run(
        request(mode="text_to_image", num_frames=1, image_path=textured, camera_move="zoom_in")
    )
    assert frames.shape == (1, H, W, 3)


def test_a_bad_reference_image_is_a_readable_error(tmp_path: Path) -> None:
    from studio.media.ffmpeg import MediaError

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(MediaError, match="corrupt"):
        create_engine().run(SPEC, request(image_path=bad), lambda d, t: None)


def test_unknown_camera_move_is_refused() -> None:
    with pytest.raises(ValueError, match="camera move"):
        create_engine().run(SPEC, request(camera_move="dolly_zoom"), lambda d, t: None)


def test_end_to_end_720p_four_seconds(tmp_path: Path) -> None:
    req = request(width=1280, height=720, num_frames=96, fps=24, camera_move="zoom_in")
    started = time.perf_counter()
    out = create_engine().run(SPEC, req, lambda d, t: None)
    rendered = time.perf_counter() - started
    assert out.frames.shape == (96, 720, 1280, 3)
    path = tmp_path / "shot.mp4"
    encode_mp4(out.frames, out.fps, path)
    info = probe(path)
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert (info.width, info.height, info.frames) == (1280, 720, 96)
    assert info.fps == pytest.approx(24.0) and info.duration == pytest.approx(4.0, abs=0.05)
    assert info.faststart is True
    assert read_frames(path, max_frames=2).shape == (2, 720, 1280, 3)
    assert rendered < 30, f"rendering took {rendered:.1f} s"
