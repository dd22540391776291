"""Every tiny model family generates through the API and through the page handler,
on a real Celery worker over Redis; outputs pass a probe; seeds reproduce."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from studio.config import Settings
from studio.db.session import Database
from studio.generation.registry import Registry
from studio.media import ffmpeg
from tests.factories import login, make_api_key, make_workspace
from tests.generation.celery_stack import Stack, build_stack, wait_task
from tests.media.sound import audible
from tests.ui import named

RATIO = "1280:720"


@pytest.fixture(scope="module")
def stack(
    settings: Settings,
    tiny_models: Path,
    tmp_path_factory: pytest.TempPathFactory,
    artifacts_dir: Path,
) -> Iterator[Stack]:
    name = "families-" + settings.database_url.split(":")[0]
    # Without the animatic entry: the session's embedded server runs "animatic" jobs.
    text = tiny_models.read_text()
    start = text.index("[models.animatic]")
    end = text.index("[models.", start + 1)
    models = tiny_models.with_name("diffusers-only.toml")
    models.write_text(text[:start] + text[end:])
    built = build_stack(settings, models, artifacts_dir / name, job_lease_seconds=30)
    built.start_worker("gpu,cpu")
    yield built
    built.stop_all()
    built.server.stop()


@pytest.fixture
def team(db: Database, stack: Stack) -> Iterator[tuple[httpx.Client, str, Any]]:
    workspace = make_workspace(db)
    key = make_api_key(db, workspace.owner, workspace)
    with httpx.Client(base_url=stack.server.url, timeout=60) as client:
        yield client, key, workspace


def reference_png() -> bytes:
    gradient = np.zeros((90, 160, 3), dtype=np.uint8)
    gradient[..., 0] = np.linspace(0, 255, 160, dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(gradient).save(buffer, format="PNG")
    return buffer.getvalue()


def families(registry: Registry) -> list[tuple[str, str]]:
    return [(s.key, m) for s in registry.all() if s.engine == "diffusers" for m in s.modes]


def check_output(
    client: httpx.Client, task: dict[str, Any], registry: Registry, key: str, mode: str, tmp: Path
) -> None:
    spec = registry.get(key)
    width, height = spec.ratios[RATIO]
    data = client.get(task["output"][0])
    assert data.status_code == 200
    if mode == "text_to_image":
        image = Image.open(io.BytesIO(data.content))
        assert image.format == "PNG" and image.size == (width, height)
        return
    path = tmp / f"{key}-{mode}.mp4"
    path.write_bytes(data.content)
    video = ffmpeg.probe(path)
    assert (video.codec, video.pix_fmt) == ("h264", "yuv420p")
    assert (video.width, video.height) == (width - width % 2, height - height % 2)
    assert video.frames == spec.durations[1]
    assert video.faststart
    if spec.audio:  # LTX-2: its own sound, as AAC, as long as the picture
        assert (video.audio_codec, video.audio_channels) == ("aac", 2), video
        assert video.audio_seconds is not None
        assert abs(video.audio_seconds - video.duration) <= 1 / video.fps
        assert audible(path)
    else:
        assert video.audio_codec is None


def test_each_family_generates_through_the_api(
    stack: Stack, team, tiny_registry: Registry, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    client, key, _ = team
    auth = {"Authorization": f"Bearer {key}"}
    image = "data:image/png;base64," + base64.b64encode(reference_png()).decode()
    submitted = {}
    for model, mode in families(tiny_registry):
        body: dict[str, Any] = {
            "model": model,
            "ratio": RATIO,
            "promptText": "a lighthouse at dusk",
            "seed": 3,
        }
        if mode != "text_to_image":
            body["duration"] = 1
        if mode == "image_to_video":
            body["promptImage"] = image
        if not tiny_registry.get(model).prompt:
            body.pop("promptText")
        response = client.post(f"/v1/{mode}", json=body, headers=auth)
        assert response.status_code == 200, (model, mode, response.text)
        submitted[(model, mode)] = response.json()["id"]
    assert len(submitted) >= 6  # SD, LTX (t2v + i2v), SVD, AnimateDiff, Wan
    for (model, mode), task_id in submitted.items():
        task = wait_task(client, key, task_id, {"SUCCEEDED", "FAILED"}, timeout=180)
        assert task["status"] == "SUCCEEDED", (model, mode, task, stack.worker_logs())
        assert task["studio"]["seed"] == 3
        check_output(client, task, tiny_registry, model, mode, tmp_path)


def test_same_seed_same_frames_and_a_new_seed_differs(stack: Stack, team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, key, _ = team
    auth = {"Authorization": f"Bearer {key}"}
    frames = []
    for seed in (11, 11, 12):
        body = {
            "model": "tiny-ltx",
            "ratio": RATIO,
            "duration": 1,
            "promptText": "waves",
            "seed": seed,
        }
        task_id = client.post("/v1/text_to_video", json=body, headers=auth).json()["id"]
        task = wait_task(client, key, task_id, {"SUCCEEDED"}, timeout=120)
        path = tmp_path / f"{len(frames)}.mp4"
        path.write_bytes(client.get(task["output"][0]).content)
        frames.append(ffmpeg.read_frames(path))
    assert np.array_equal(frames[0], frames[1])
    assert not np.array_equal(frames[0], frames[2])


def test_each_mode_generates_through_the_page_handler(
    db: Database, stack: Stack, team, tiny_registry: Registry
) -> None:  # type: ignore[no-untyped-def]
    client, key, workspace = team
    login(client, workspace.owner)
    upload = client.post(
        "/gradio_api/upload", files={"files": ("still.png", reference_png(), "image/png")}
    )
    assert upload.status_code == 200, upload.text
    image = {"path": upload.json()[0], "meta": {"_type": "gradio.FileData"}}
    cases = [
        ("tiny-sd", "text_to_image", None, None),
        ("tiny-wan", "text_to_video", None, 1),
        ("tiny-animatediff", "text_to_video", None, 1),
        ("tiny-ltx", "image_to_video", image, 1),
        ("tiny-svd", "image_to_video", image, 1),
        ("tiny-ltx2", "text_to_video", None, 1),
    ]
    for model, mode, reference, duration in cases:
        spec = tiny_registry.get(model)
        result = named.call(
            client,
            "generate",
            gen_workspace=workspace.id,
            gen_model=model,
            gen_mode=mode,
            gen_prompt="a lighthouse",
            gen_reference=reference,
            gen_ratio=RATIO,
            gen_duration=duration,
            gen_camera="static" if spec.camera_move != "none" else None,
            gen_motion=0.5,
            gen_random=False,
            gen_seed=99,
        )
        assert named.error(result, "gen-error") == "", (model, result)
    tasks = client.get("/v1/tasks", headers={"Authorization": f"Bearer {key}"}).json()["tasks"]
    assert len(tasks) == len(cases)
    for task in tasks:
        done = wait_task(client, key, task["id"], {"SUCCEEDED", "FAILED"}, timeout=180)
        assert done["status"] == "SUCCEEDED", (done, stack.worker_logs())
