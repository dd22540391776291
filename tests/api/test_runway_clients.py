"""What Runway's own clients send works unchanged (issue 13, finding 10), and the
idempotency and upload findings (finding 8): a reused key with another body is
409, a raw upload declared as something else is 415."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from studio.db.session import Database
from studio.media import ffmpeg
from tests.api.test_tasks import bearer, count_jobs, data_uri, download, wait_for
from tests.factories import make_api_key, make_workspace


@pytest.fixture
def team(db: Database) -> tuple[int, str]:
    workspace = make_workspace(db)
    return workspace.id, make_api_key(db, workspace.owner, workspace)


def solid(color: tuple[int, int, int], size: tuple[int, int] = (160, 90)) -> Image.Image:
    return Image.new("RGB", size, color)


@pytest.mark.parametrize("seconds", [5, 10])
def test_durations_5_and_10_work_on_every_video_model(
    http: httpx.Client, team: tuple[int, str], seconds: int
) -> None:
    _, key = team
    models = http.get("/v1/models", headers=bearer(key)).json()["models"]
    video = [m for m in models if {"text_to_video", "image_to_video"} & set(m["modes"])]
    assert len(video) >= 3
    for model in video:
        assert seconds in model["durations"], model
        mode = "text_to_video" if "text_to_video" in model["modes"] else "image_to_video"
        body: dict[str, object] = {"model": model["id"], "duration": seconds}
        if mode == "text_to_video":
            body["promptText"] = "a lighthouse at dusk"
        else:
            body["promptImage"] = data_uri(solid((40, 80, 120)))
        created = http.post(f"/v1/{mode}", json=body, headers=bearer(key))
        assert created.status_code == 200, (model["id"], created.text)
        task = http.get(f"/v1/tasks/{created.json()['id']}", headers=bearer(key)).json()
        assert task["studio"]["duration"] == seconds
        if seconds not in model["nativeDurations"]:  # mapped to its frame rule: said so
            assert "frames" in task["studio"]["durationNote"], task
        else:
            assert "durationNote" not in task["studio"] or not task["studio"]["durationNote"]


def test_the_animatic_renders_exactly_the_seconds_asked(
    http: httpx.Client, team: tuple[int, str], tmp_path: Path
) -> None:
    _, key = team
    created = http.post(
        "/v1/text_to_video",
        json={"model": "animatic", "promptText": "rain", "duration": 5, "ratio": "960:960"},
        headers=bearer(key),
    ).json()
    task = wait_for(http, key, created["id"], {"SUCCEEDED", "FAILED"})
    assert task["status"] == "SUCCEEDED", task
    info = ffmpeg.probe(download(http, task["output"][0], tmp_path / "five.mp4"))
    assert info.frames == 120 and abs(info.duration - 5.0) < 0.1


def test_runway_model_names_are_aliases_listed_in_models(
    http: httpx.Client, team: tuple[int, str]
) -> None:
    _, key = team
    listed = http.get("/v1/models", headers=bearer(key)).json()
    aliases = {a["id"]: a for a in listed["aliases"]}
    assert {"gen4_turbo", "gen3a_turbo", "gen4_image"} <= set(aliases)
    # No diffusion weights on this machine: the aliases use what is installed.
    assert aliases["gen4_turbo"]["resolves"]["image_to_video"] == "animatic"
    assert aliases["gen4_image"]["resolves"]["text_to_image"] == "animatic"
    animatic = next(m for m in listed["models"] if m["id"] == "animatic")
    assert "gen4_turbo" in animatic["aliases"] and animatic["lastFrame"] is True
    created = http.post(
        "/v1/image_to_video",
        json={
            "model": "gen4_turbo",
            "promptImage": data_uri(solid((200, 40, 40))),
            "promptText": "slow push in",
            "ratio": "1280:720",
            "duration": 10,
            "seed": 4,
            "contentModeration": {"publicFigureThreshold": "low"},
        },
        headers=bearer(key),
    )
    assert created.status_code == 200, created.text
    task = http.get(f"/v1/tasks/{created.json()['id']}", headers=bearer(key)).json()
    assert task["studio"]["model"] == "animatic"
    assert task["studio"]["requestedModel"] == "gen4_turbo"
    bad = http.post(
        "/v1/text_to_image",
        json={"model": "gen4_image", "promptText": "x", "contentModeration": {"x": 1}},
        headers=bearer(key),
    )
    assert bad.status_code == 422 and "contentModeration" in bad.json()["message"]


def test_ratio_strings_of_the_same_shape_render_at_the_models_size(
    http: httpx.Client, team: tuple[int, str]
) -> None:
    _, key = team
    wide = http.post(
        "/v1/text_to_video",
        json={"model": "animatic", "promptText": "x", "ratio": "1920:1080", "duration": 1},
        headers=bearer(key),
    )
    assert wide.status_code == 200, wide.text
    task = http.get(f"/v1/tasks/{wide.json()['id']}", headers=bearer(key)).json()
    assert task["studio"]["ratio"] == "1280:720"
    for ratio in ("1584:672", "1104:832"):  # no 21:9 or 4:3 size on the animatic
        refused = http.post(
            "/v1/text_to_video",
            json={"model": "animatic", "promptText": "x", "ratio": ratio},
            headers=bearer(key),
        )
        assert refused.status_code == 422 and refused.json()["error"] == "unsupported_ratio"
        assert "1280:720" in refused.json()["message"]


def test_prompt_image_first_and_last_frames(
    http: httpx.Client, team: tuple[int, str], tmp_path: Path
) -> None:
    _, key = team
    red, blue = data_uri(solid((220, 20, 20))), data_uri(solid((20, 20, 220)))
    as_string = http.post(
        "/v1/image_to_video",
        json={"model": "animatic", "promptImage": red, "duration": 1},
        headers=bearer(key),
    )
    assert as_string.status_code == 200, as_string.text
    both = http.post(
        "/v1/image_to_video",
        json={
            "model": "animatic",
            "duration": 2,
            "promptImage": [
                {"uri": red, "position": "first"},
                {"uri": blue, "position": "last"},
            ],
        },
        headers=bearer(key),
    )
    assert both.status_code == 200, both.text
    task = wait_for(http, key, both.json()["id"], {"SUCCEEDED", "FAILED"})
    assert task["status"] == "SUCCEEDED", task
    frames = ffmpeg.read_frames(download(http, task["output"][0], tmp_path / "fl.mp4"))
    first, last = frames[0].reshape(-1, 3).mean(0), frames[-1].reshape(-1, 3).mean(0)
    assert first[0] > 150 and first[2] < 80, first  # starts red
    assert last[2] > 150 and last[0] < 80, last  # ends blue

    # A model without last-frame support says so; a last frame alone is refused.
    for body, code in (
        (
            {
                "model": "ltx-video",
                "promptText": "x",
                "promptImage": [{"uri": red}, {"uri": blue, "position": "last"}],
            },
            "unsupported_control",
        ),
        ({"model": "animatic", "promptImage": [{"uri": blue, "position": "last"}]}, None),
        ({"model": "animatic", "promptImage": [{"uri": red}, {"uri": red}]}, "invalid_image"),
    ):
        refused = http.post("/v1/image_to_video", json=body, headers=bearer(key))
        assert refused.status_code == 422, refused.text
        if code:
            assert refused.json()["error"] == code
    assert "last" in refused.json()["message"] or "once" in refused.json()["message"]


def test_an_idempotency_key_reused_with_another_body_is_a_conflict(
    http: httpx.Client, team: tuple[int, str], db: Database
) -> None:
    workspace_id, key = team
    headers = {**bearer(key), "Idempotency-Key": "shot-7-take-1"}
    body = {"model": "animatic", "promptText": "a red door", "duration": 2, "seed": 3}
    first = http.post("/v1/text_to_video", json=body, headers=headers)
    again = http.post("/v1/text_to_video", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    before = count_jobs(db, workspace_id)
    other = http.post(
        "/v1/text_to_video", json={**body, "promptText": "a blue door"}, headers=headers
    )
    assert other.status_code == 409, other.text
    assert other.json()["error"] == "idempotency_key_reused"
    assert "different request" in other.json()["message"]
    image = http.post(
        "/v1/image_to_video",
        json={"model": "animatic", "promptImage": data_uri(solid((1, 2, 3)))},
        headers=headers,
    )
    assert image.status_code == 409
    assert count_jobs(db, workspace_id) == before  # nothing written


def test_raw_uploads_check_the_declared_content_type(
    http: httpx.Client, team: tuple[int, str], db: Database
) -> None:
    _, key = team
    project = http.post("/v1/projects", json={"title": "Types"}, headers=bearer(key)).json()
    shot = http.post(
        f"/v1/projects/{project['id']}/shots", json={"prompt": "x"}, headers=bearer(key)
    ).json()
    clip = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(clip, format="PNG")
    cases = [
        (f"/v1/shots/{shot['id']}/takes/upload", "application/json", {}),
        (f"/v1/shots/{shot['id']}/takes/upload", "multipart/form-data; boundary=x", {}),
        (f"/v1/shots/{shot['id']}/takes/upload", "image/png", {}),
        (f"/v1/shots/{shot['id']}/reference", "video/mp4", {"If-Match": '"1"'}),
        (f"/v1/projects/{project['id']}/shots.csv", "application/x-www-form-urlencoded", {}),
    ]
    for url, kind, extra in cases:
        method = "PUT" if url.endswith("/reference") else "POST"
        response = http.request(
            method,
            url,
            content=clip.getvalue(),
            headers={**bearer(key), "Content-Type": kind, **extra},
        )
        assert response.status_code == 415, (url, kind, response.text)
        assert response.json()["error"] == "unsupported_media_type"
        assert kind.split(";")[0] in response.json()["message"]
    # The right type (or none, or octet-stream) goes on to the file checks.
    ok = http.put(
        f"/v1/shots/{shot['id']}/reference",
        content=clip.getvalue(),
        headers={**bearer(key), "Content-Type": "image/png", "If-Match": '"1"'},
    )
    assert ok.status_code == 200, ok.text
