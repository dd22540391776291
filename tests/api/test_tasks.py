"""Runway-compatible tasks on the embedded default (in-process runner, animatic engine)."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from studio.accounts.models import Role, Workspace
from studio.db.session import Database
from studio.generation.models import Job
from studio.generation.webhooks import check_webhook_url, sign
from studio.media import ffmpeg
from studio.media.models import Asset
from tests.factories import add_member, login, make_api_key, make_user, make_workspace
from tests.ui import named

RUNWAY = {"X-Runway-Version": "2024-11-06"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **RUNWAY}


def wait_for(
    http: httpx.Client, key: str, task_id: str, until: set[str], timeout: float = 90
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        task = http.get(f"/v1/tasks/{task_id}", headers=bearer(key)).json()
        if task["status"] in until:
            return task
        assert time.monotonic() < deadline, f"task stuck in {task['status']}: {task}"
        time.sleep(0.2)


def data_uri(image: Image.Image, fmt: str = "PNG") -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    mime = "image/png" if fmt == "PNG" else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode()


def download(http: httpx.Client, url: str, path: Path) -> Path:
    response = http.get(url)
    assert response.status_code == 200, response.text
    path.write_bytes(response.content)
    return path


@pytest.fixture
def team(db: Database):  # type: ignore[no-untyped-def]
    workspace = make_workspace(db)
    return workspace, make_api_key(db, workspace.owner, workspace)


def count_jobs(db: Database, workspace_id: int) -> tuple[int, int]:
    with db.session_scope() as session:
        jobs = session.scalar(
            select(func.count()).select_from(Job).where(Job.workspace_id == workspace_id)
        )
        assets = session.scalar(
            select(func.count()).select_from(Asset).where(Asset.workspace_id == workspace_id)
        )
    return int(jobs or 0), int(assets or 0)


def test_text_to_video_gives_a_browser_playable_mp4(
    http: httpx.Client, team, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _, key = team
    body = {
        "promptText": "A lighthouse at dusk",
        "model": "animatic",
        "ratio": "1280:720",
        "duration": 2,
        "seed": 7,
    }
    created = http.post(
        "/v1/text_to_video", json={**body, "cameraMove": "zoom_in"}, headers=bearer(key)
    )
    assert created.status_code == 200, created.text
    task = wait_for(http, key, created.json()["id"], {"SUCCEEDED", "FAILED"})
    assert task["status"] == "SUCCEEDED", task
    assert task["studio"]["seed"] == 7 and task["studio"]["model"] == "animatic"
    video = ffmpeg.probe(download(http, task["output"][0], tmp_path / "out.mp4"))
    assert (video.codec, video.pix_fmt, video.width, video.height) == ("h264", "yuv420p", 1280, 720)
    assert video.frames == 48 and round(video.fps) == 24 and video.faststart
    poster = Image.open(download(http, task["studio"]["poster"], tmp_path / "poster.jpg"))
    assert poster.format == "JPEG"
    # Links are signed: a tampered one is refused.
    assert http.get(task["output"][0].replace("sig=", "sig=0")).status_code == 403


def test_same_seed_gives_the_same_frames(http: httpx.Client, team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, key = team
    frames = []
    for run in range(2):
        body = {
            "promptText": "Same seed",
            "model": "animatic",
            "ratio": "960:960",
            "duration": 2,
            "seed": 42,
            "cameraMove": "pan_left",
        }
        task_id = http.post("/v1/text_to_video", json=body, headers=bearer(key)).json()["id"]
        task = wait_for(http, key, task_id, {"SUCCEEDED"})
        frames.append(
            ffmpeg.read_frames(download(http, task["output"][0], tmp_path / f"{run}.mp4"))
        )
    assert np.array_equal(frames[0], frames[1])


def test_image_to_video_and_text_to_image(http: httpx.Client, team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, key = team
    still = Image.new("RGB", (320, 180), (200, 40, 40))
    i2v = http.post(
        "/v1/image_to_video",
        json={
            "promptImage": data_uri(still),
            "model": "animatic",
            "ratio": "1280:720",
            "duration": 2,
        },
        headers=bearer(key),
    )
    assert i2v.status_code == 200, i2v.text
    task = wait_for(http, key, i2v.json()["id"], {"SUCCEEDED", "FAILED"})
    assert task["status"] == "SUCCEEDED", task
    middle = ffmpeg.read_frames(download(http, task["output"][0], tmp_path / "i2v.mp4"))[24]
    assert middle[..., 0].mean() > 150 and middle[..., 1].mean() < 90  # the red still, not a card
    t2i = http.post(
        "/v1/text_to_image",
        json={"promptText": "A storyboard frame", "model": "animatic", "ratio": "960:960"},
        headers=bearer(key),
    )
    image_task = wait_for(http, key, t2i.json()["id"], {"SUCCEEDED"})
    frame = Image.open(download(http, image_task["output"][0], tmp_path / "still.png"))
    assert frame.format == "PNG" and frame.size == (960, 960)


def test_bad_requests_get_a_clear_4xx_and_queue_nothing(
    db: Database, http: httpx.Client, team
) -> None:  # type: ignore[no-untyped-def]
    workspace, key = team
    before = count_jobs(db, workspace.id)
    bomb = Image.new("1", (4000, 4000))  # 16 MP header, tiny file: over the 4 MP test cap
    corrupt = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nnot really").decode()
    oversized = "data:image/png;base64," + base64.b64encode(b"\0" * 1_100_000).decode()
    cases = [
        (
            "/v1/text_to_video",
            {"promptText": "x", "model": "animatic", "negativePrompt": "blur"},
            422,
            "unsupported_control",
        ),
        (
            "/v1/text_to_video",
            {"promptText": "x", "model": "animatic", "duration": 11},
            422,
            "unsupported_duration",
        ),
        (
            "/v1/text_to_video",
            {"promptText": "x", "model": "animatic", "ratio": "4:3"},
            422,
            "unsupported_ratio",
        ),
        ("/v1/text_to_video", {"promptText": "x", "model": "nope"}, 422, "unknown_model"),
        ("/v1/text_to_video", {"promptText": "", "model": "animatic"}, 422, "prompt_required"),
        ("/v1/text_to_video", {"promptText": "x", "seed": -1}, 422, "invalid_seed"),
        ("/v1/text_to_video", {"promptText": "x", "bogus": 1}, 422, "invalid_input"),
        ("/v1/image_to_video", {"model": "animatic"}, 422, "image_required"),
        (
            "/v1/image_to_video",
            {"promptImage": "https://example.com/cat.png"},
            422,
            "invalid_image",
        ),
        ("/v1/image_to_video", {"promptImage": corrupt}, 422, "invalid_image"),
        ("/v1/image_to_video", {"promptImage": data_uri(bomb)}, 422, "invalid_image"),
        ("/v1/image_to_video", {"promptImage": oversized}, 413, "payload_too_large"),
        ("/v1/image_to_video", {"promptImage": "asset:999999999"}, 404, "asset_not_found"),
    ]
    for path, body, status, code in cases:
        response = http.post(path, json=body, headers=bearer(key))
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"] == code, (body, response.text)
        assert len(response.json()["message"]) > 15
    assert (
        "pixels"
        in http.post(
            "/v1/image_to_video", json={"promptImage": data_uri(bomb)}, headers=bearer(key)
        ).json()["message"]
    )
    assert count_jobs(db, workspace.id) == before


def test_same_idempotency_key_gives_one_job(db: Database, http: httpx.Client, team) -> None:  # type: ignore[no-untyped-def]
    workspace, key = team
    body = {"promptText": "Once only", "model": "animatic", "duration": 2}
    headers = {**bearer(key), "Idempotency-Key": "render-42"}
    first = http.post("/v1/text_to_video", json=body, headers=headers).json()["id"]
    second = http.post("/v1/text_to_video", json=body, headers=headers).json()["id"]
    assert first == second
    with db.session_scope() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.workspace_id == workspace.id, Job.idempotency_key == "render-42")
            )
            == 1
        )
    other = http.post(
        "/v1/text_to_video", json=body, headers={**bearer(key), "Idempotency-Key": "render-43"}
    ).json()["id"]
    assert other != first


def test_cancel_while_queued_shows_throttled_then_cancelled(
    db: Database, http: httpx.Client, team
) -> None:  # type: ignore[no-untyped-def]
    workspace, key = team
    with db.session_scope() as session:
        session.get(Workspace, workspace.id).concurrent_jobs_cap = 0  # type: ignore[union-attr]
    task_id = http.post(
        "/v1/text_to_video", json={"promptText": "Waits", "model": "animatic"}, headers=bearer(key)
    ).json()["id"]
    task = http.get(f"/v1/tasks/{task_id}", headers=bearer(key)).json()
    assert task["status"] == "THROTTLED"
    assert http.delete(f"/v1/tasks/{task_id}", headers=bearer(key)).status_code == 204
    assert http.get(f"/v1/tasks/{task_id}", headers=bearer(key)).json()["status"] == "CANCELLED"


def test_cancel_while_running_stops_within_a_step(http: httpx.Client, team) -> None:  # type: ignore[no-untyped-def]
    _, key = team
    body = {
        "promptText": "A long zoom",
        "model": "animatic",
        "ratio": "1280:720",
        "duration": 6,
        "cameraMove": "zoom_in",
    }
    task_id = http.post("/v1/text_to_video", json=body, headers=bearer(key)).json()["id"]
    running = wait_for(http, key, task_id, {"RUNNING", "SUCCEEDED"})
    assert running["status"] == "RUNNING", "the job finished before it could be cancelled"
    # Progress shows up while it runs (the watcher reports every 0.25 s).
    deadline = time.monotonic() + 2.5
    while running["progress"] == 0:
        assert time.monotonic() < deadline, "no progress within 2.5 s"
        time.sleep(0.1)
        running = http.get(f"/v1/tasks/{task_id}", headers=bearer(key)).json()
    assert running["status"] == "RUNNING" and 0 < running["progress"] < 1
    assert http.delete(f"/v1/tasks/{task_id}", headers=bearer(key)).status_code == 204
    ended = wait_for(http, key, task_id, {"CANCELLED", "SUCCEEDED", "FAILED"}, timeout=10)
    assert ended["status"] == "CANCELLED"
    assert "output" not in ended
    # The runner is free again: the next job runs.
    quick = http.post(
        "/v1/text_to_image", json={"promptText": "next", "model": "animatic"}, headers=bearer(key)
    ).json()["id"]
    assert wait_for(http, key, quick, {"SUCCEEDED"})["status"] == "SUCCEEDED"


def test_another_workspace_cannot_read_cancel_or_see_outputs(
    db: Database, http: httpx.Client, team
) -> None:  # type: ignore[no-untyped-def]
    _, key = team
    task_id = http.post(
        "/v1/text_to_image",
        json={"promptText": "Private", "model": "animatic"},
        headers=bearer(key),
    ).json()["id"]
    wait_for(http, key, task_id, {"SUCCEEDED"})
    outsider = make_workspace(db)
    stranger = make_api_key(db, outsider.owner, outsider)
    for method in ("GET", "DELETE"):
        response = http.request(method, f"/v1/tasks/{task_id}", headers=bearer(stranger))
        assert response.status_code == 404 and response.json()["error"] == "task_not_found"
    listed = http.get("/v1/tasks", headers=bearer(stranger)).json()["tasks"]
    assert task_id not in {t["id"] for t in listed}
    assert http.get("/media/1").status_code == 403  # no signature, no file


def test_viewers_cannot_generate_and_editors_cannot_cancel_others(
    db: Database, http: httpx.Client, team
) -> None:  # type: ignore[no-untyped-def]
    workspace, key = team
    viewer, editor = make_user(db), make_user(db)
    add_member(db, workspace, viewer, Role.VIEWER)
    add_member(db, workspace, editor, Role.EDITOR)
    denied = http.post(
        "/v1/text_to_video",
        json={"promptText": "x"},
        headers=bearer(make_api_key(db, viewer, workspace)),
    )
    assert denied.status_code == 403
    with db.session_scope() as session:
        session.get(Workspace, workspace.id).concurrent_jobs_cap = 0  # type: ignore[union-attr]
    task_id = http.post(
        "/v1/text_to_video", json={"promptText": "mine"}, headers=bearer(key)
    ).json()["id"]
    response = http.delete(
        f"/v1/tasks/{task_id}", headers=bearer(make_api_key(db, editor, workspace))
    )
    assert response.status_code == 403


def test_models_endpoint_tells_what_each_model_supports(http: httpx.Client, team) -> None:  # type: ignore[no-untyped-def]
    _, key = team
    models = {m["id"]: m for m in http.get("/v1/models", headers=bearer(key)).json()["models"]}
    assert models["animatic"]["available"] and models["animatic"]["cameraMove"] == "native"
    assert models["svd-xt"]["modes"] == ["image_to_video"] and not models["svd-xt"]["available"]


def test_the_generate_page_handler_queues_a_take(db: Database, http: httpx.Client) -> None:
    workspace = make_workspace(db)
    login(http, workspace.owner)
    form = {
        "gen_workspace": workspace.id,
        "gen_model": "animatic",
        "gen_mode": "text_to_video",
        "gen_prompt": "Page take",
        "gen_ratio": "960:960",
        "gen_duration": 2,
        "gen_camera": "tilt_up",
        "gen_motion": 0.5,
        "gen_random": False,
        "gen_seed": 1234,
    }
    result = named.call(http, "generate", **form)
    assert named.error(result, "gen-error") == ""
    key = make_api_key(db, workspace.owner, workspace)
    tasks = http.get("/v1/tasks", headers=bearer(key)).json()["tasks"]
    assert tasks[0]["studio"]["seed"] == 1234
    assert wait_for(http, key, tasks[0]["id"], {"SUCCEEDED"})["studio"]["ratio"] == "960:960"
    # "Use these settings again" fills the form from the take, seed fixed.
    filled = named.call(http, "reuse_settings", gen_take_pick=tasks[0]["id"])
    value = named.value
    assert value(filled, "gen-model") == "animatic" and value(filled, "gen-mode") == "text_to_video"
    assert value(filled, "gen-prompt") == "Page take"
    assert value(filled, "gen-ratio") == "960:960" and value(filled, "gen-duration") == 2
    assert value(filled, "gen-camera") == "tilt_up"
    assert value(filled, "gen-random") is False and value(filled, "gen-seed") == 1234
    other = make_workspace(db)
    refused = named.call(http, "generate", **(form | {"gen_workspace": other.id}))
    assert "Workspace not found" in named.error(refused, "gen-error")


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_receives_a_signed_post_when_a_task_ends(http: httpx.Client, team) -> None:  # type: ignore[no-untyped-def]
    workspace, key = team
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        configured = http.put(
            f"/v1/workspaces/{workspace.slug}/webhook", json={"url": url}, headers=bearer(key)
        )
        assert configured.status_code == 200, configured.text
        secret = configured.json()["secret"]
        task_id = http.post(
            "/v1/text_to_image", json={"promptText": "Hook"}, headers=bearer(key)
        ).json()["id"]
        wait_for(http, key, task_id, {"SUCCEEDED"})
        deadline = time.monotonic() + 15
        while not any(task_id.encode() in body for _, body in Receiver.received):
            assert time.monotonic() < deadline, "no webhook arrived"
            time.sleep(0.1)
        headers, body = next((h, b) for h, b in Receiver.received if task_id.encode() in b)
        timestamp = int(headers["Studio-Signature"].split(",")[0].split("=")[1])
        assert headers["Studio-Signature"] == sign(body, secret, timestamp)
        assert json.loads(body)["task"]["status"] == "SUCCEEDED"
    finally:
        server.shutdown()


def test_webhooks_refuse_private_addresses_by_default() -> None:
    for url in (
        "http://127.0.0.1/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest",
        "ftp://example.com",
    ):
        with pytest.raises(Exception, match=r"private or local|https://"):
            check_webhook_url(url, allow_private=False)
