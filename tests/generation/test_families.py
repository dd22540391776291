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
    """(model, mode) for each /v1/<mode> route; video_to_video is a take's restyle."""
    return [
        (s.key, m)
        for s in registry.all()
        if s.engine == "diffusers"
        for m in s.modes
        if m != "video_to_video"
    ]


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
    assert len(submitted) >= 13  # SD, LTX x2, SVD, AnimateDiff, Wan, Wan 2.2 x4, Hunyuan x2, FLUX.2
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
        ("tiny-wan22-5b", "text_to_video", None, 1),
        ("tiny-wan22-i2v-a14b", "image_to_video", image, 1),
        ("tiny-hunyuan15-i2v", "image_to_video", image, 1),
        ("tiny-flux2-klein", "text_to_image", None, None),
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


def data_uri(color: tuple[int, int, int]) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 48), color).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_first_and_last_frame_reach_the_pipeline(stack: Stack, team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """promptImage [first, last] on Wan 2.2 I2V A14B: the last frame changes the clip
    (same seed); a model without first-last-frame refuses it, nothing queued."""
    client, key, _ = team
    auth = {"Authorization": f"Bearer {key}"}
    first = {"uri": data_uri((220, 30, 30)), "position": "first"}
    last = {"uri": data_uri((30, 30, 220)), "position": "last"}
    clips = []
    for images in ([first], [first, last]):
        body = {
            "model": "tiny-wan22-i2v-a14b",
            "ratio": RATIO,
            "duration": 1,
            "promptText": "a door opens",
            "promptImage": images,
            "seed": 4,
        }
        response = client.post("/v1/image_to_video", json=body, headers=auth)
        assert response.status_code == 200, response.text
        task = wait_task(client, key, response.json()["id"], {"SUCCEEDED", "FAILED"}, timeout=120)
        assert task["status"] == "SUCCEEDED", (task, stack.worker_logs())
        path = tmp_path / f"{len(clips)}.mp4"
        path.write_bytes(client.get(task["output"][0]).content)
        clips.append(ffmpeg.read_frames(path))
    assert clips[0].shape == clips[1].shape
    assert not np.array_equal(clips[0], clips[1])

    before = len(client.get("/v1/tasks", headers=auth).json()["tasks"])
    for model in ("tiny-ltx", "tiny-wan22-5b"):
        refused = client.post(
            "/v1/image_to_video",
            json={"model": model, "promptText": "x", "promptImage": [first, last]},
            headers=auth,
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"] == "unsupported_control"
        assert "tiny-wan22-i2v-a14b" in refused.json()["message"]
    assert len(client.get("/v1/tasks", headers=auth).json()["tasks"]) == before


def test_restyle_a_take_records_its_source(
    stack: Stack, team, tiny_registry: Registry, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """video_to_video over an uploaded take: a new take whose parent is the source,
    rendered by Wan's video-to-video pipeline; models without it are refused."""
    client, key, _ = team
    auth = {"Authorization": f"Bearer {key}"}
    project = client.post("/v1/projects", json={"title": "Restyle"}, headers=auth).json()
    shot = client.post(
        f"/v1/projects/{project['id']}/shots",
        json={"prompt": "a street at night", "target_duration": 1, "ratio": RATIO},
        headers=auth,
    ).json()
    clip = tmp_path / "source.mp4"
    ramp = np.linspace(0, 255, 24, dtype=np.uint8)[:, None, None, None]
    ffmpeg.encode_mp4(np.broadcast_to(ramp, (24, 48, 80, 3)).copy(), 24, clip)
    uploaded = client.post(
        f"/v1/shots/{shot['id']}/takes/upload",
        content=clip.read_bytes(),
        headers={**auth, "Content-Type": "video/mp4"},
    )
    assert uploaded.status_code == 201, uploaded.text
    source = uploaded.json()["take"]

    for model, code in (("tiny-ltx", "unsupported_mode"), ("tiny-sd", "unsupported_mode")):
        refused = client.post(
            f"/v1/takes/{source}/restyle",
            json={"prompt": "as a watercolour", "model": model},
            headers=auth,
        )
        assert refused.status_code == 422 and refused.json()["error"] == code, refused.text
        assert "tiny-wan" in refused.json()["message"]
    too_strong = client.post(
        f"/v1/takes/{source}/restyle",
        json={"prompt": "as a watercolour", "model": "tiny-wan", "strength": 3},
        headers=auth,
    )
    assert too_strong.status_code == 422 and too_strong.json()["error"] == "invalid_strength"

    made = client.post(
        f"/v1/takes/{source}/restyle",
        json={"prompt": "as a watercolour", "model": "tiny-wan", "strength": 0.5, "seed": 8},
        headers=auth,
    )
    assert made.status_code == 200, made.text
    task = wait_task(client, key, made.json()["id"], {"SUCCEEDED", "FAILED"}, timeout=120)
    assert task["status"] == "SUCCEEDED", (task, stack.worker_logs())
    assert task["studio"]["mode"] == "video_to_video" and task["studio"]["model"] == "tiny-wan"
    listed = client.get(f"/v1/shots/{shot['id']}/takes", headers=auth).json()
    restyled = next(t for t in listed if t["id"] == made.json()["take"])
    assert restyled["parent_take_id"] == source and restyled["lineage"] == "variation"
    path = tmp_path / "restyled.mp4"
    path.write_bytes(client.get(task["output"][0]).content)
    video = ffmpeg.probe(path)
    wan = tiny_registry.get("tiny-wan")
    assert (video.width, video.height) == tuple(wan.ratios[RATIO])
    assert video.frames == wan.durations[1]
