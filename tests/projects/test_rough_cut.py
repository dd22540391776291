"""Rough cuts: circled takes in shot order, one MP4, numbered versions."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest

from studio.accounts.models import Role, Workspace
from studio.db.session import Database
from studio.media import ffmpeg
from tests.factories import (
    add_member,
    bearer,
    make_api_key,
    make_user,
    make_workspace,
    wait_finished,
)


def upload_clip(
    http: httpx.Client,
    auth: dict[str, str],
    shot_id: int,
    frames: int,
    size: tuple[int, int],
    fps: int,
    tmp: Path,
) -> None:
    width, height = size
    clip = tmp / f"{shot_id}.mp4"
    gradient = np.linspace(0, 255, frames, dtype=np.uint8)[:, None, None, None]
    ffmpeg.encode_mp4(np.broadcast_to(gradient, (frames, height, width, 3)).copy(), fps, clip)
    response = http.post(
        f"/v1/shots/{shot_id}/takes/upload", content=clip.read_bytes(), headers=auth
    )
    assert response.status_code == 201, response.text
    assert http.post(f"/v1/takes/{response.json()['take']}/select", headers=auth).status_code == 200


@pytest.fixture
def project(db: Database, http: httpx.Client):  # type: ignore[no-untyped-def]
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    made = http.post(
        "/v1/projects",
        json={"title": "Cut test", "default_ratio": "1280:720", "default_fps": 24},
        headers=auth,
    ).json()
    shots = [
        http.post(
            f"/v1/projects/{made['id']}/shots", json={"description": f"Shot {n}"}, headers=auth
        ).json()
        for n in range(3)
    ]
    return team, auth, made["id"], shots


def test_mixed_takes_are_normalized_and_last_the_sum_of_their_durations(
    http: httpx.Client, project, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _, auth, project_id, shots = project
    specs = [(48, (320, 180), 24), (30, (240, 240), 15), (25, (200, 120), 25)]  # 2 s, 2 s, 1 s
    for shot, (frames, size, fps) in zip(shots, specs, strict=True):
        upload_clip(http, auth, shot["id"], frames, size, fps, tmp_path)
    created = http.post(
        f"/v1/projects/{project_id}/rough_cut", json={"overlay_codes": True}, headers=auth
    )
    assert created.status_code == 200, created.text
    assert created.json()["version"] == 1
    task = wait_finished(http, auth, created.json()["id"])
    assert task["status"] == "SUCCEEDED", task
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(http.get(task["output"][0]).content)
    info = ffmpeg.probe(cut)
    assert (info.codec, info.pix_fmt, info.width, info.height) == ("h264", "yuv420p", 1280, 720)
    expected = 2 + 2 + 1
    assert abs(info.duration - expected) <= 3 / 24  # within one frame per shot
    frames = ffmpeg.read_frames(cut)
    assert abs(len(frames) - expected * 24) <= 3  # decodes cleanly, start to end
    assert frames[-1].shape == (720, 1280, 3)


def test_matching_takes_are_joined_by_stream_copy_in_shot_order(
    http: httpx.Client, project, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _, auth, project_id, shots = project
    for shot in shots:
        upload_clip(http, auth, shot["id"], 24, (320, 180), 24, tmp_path)
    order = [shots[2]["id"], shots[0]["id"], shots[1]["id"]]
    http.post(f"/v1/projects/{project_id}/shots/reorder", json={"order": order}, headers=auth)
    first = http.post(f"/v1/projects/{project_id}/rough_cut", json={}, headers=auth).json()
    second = http.post(
        f"/v1/projects/{project_id}/rough_cut", json={"title_card": True}, headers=auth
    ).json()
    assert (first["version"], second["version"]) == (1, 2)
    for created in (first, second):
        assert wait_finished(http, auth, created["id"])["status"] == "SUCCEEDED"
    versions = http.get(f"/v1/projects/{project_id}/rough_cuts", headers=auth).json()
    assert [v["version"] for v in versions] == [2, 1]
    plain = tmp_path / "plain.mp4"
    plain.write_bytes(http.get(versions[1]["task"]["output"][0]).content)
    assert (
        ffmpeg.probe(plain).frames == 72 and ffmpeg.probe(plain).width == 320
    )  # copied, not resized
    titled = tmp_path / "titled.mp4"
    titled.write_bytes(http.get(versions[0]["task"]["output"][0]).content)
    assert abs(ffmpeg.probe(titled).duration - 5.0) <= 2 / 24  # 2 s title + 3 x 1 s


def test_nothing_to_cut_and_unfinished_takes_are_refused(
    db: Database, http: httpx.Client, project
) -> None:  # type: ignore[no-untyped-def]
    team, auth, project_id, shots = project
    empty = http.post(f"/v1/projects/{project_id}/rough_cut", json={}, headers=auth)
    assert empty.status_code == 422 and empty.json()["error"] == "nothing_to_cut"
    with db.session_scope() as session:
        session.get(Workspace, team.id).concurrent_jobs_cap = 0  # type: ignore[union-attr]
    take = http.post(
        f"/v1/shots/{shots[0]['id']}/takes", json={"model": "animatic"}, headers=auth
    ).json()
    http.post(f"/v1/takes/{take['take']}/select", headers=auth)
    waiting = http.post(
        f"/v1/projects/{project_id}/rough_cut", json={"missing": "slate"}, headers=auth
    )
    assert waiting.status_code == 422 and waiting.json()["error"] == "take_not_ready"
    assert "SC01-SH010" in waiting.json()["message"]
    bad = http.post(f"/v1/projects/{project_id}/rough_cut", json={"missing": "skip"}, headers=auth)
    assert bad.status_code == 422
    viewer = make_user(db, "viewer")
    add_member(db, team, viewer, Role.VIEWER)
    assert (
        http.post(
            f"/v1/projects/{project_id}/rough_cut",
            json={},
            headers=bearer(make_api_key(db, viewer, team)),
        ).status_code
        == 403
    )
    outsider = make_workspace(db)
    them = bearer(make_api_key(db, outsider.owner, outsider))
    assert (
        http.post(f"/v1/projects/{project_id}/rough_cut", json={}, headers=them).status_code == 404
    )
    assert http.get(f"/v1/projects/{project_id}/rough_cuts", headers=them).status_code == 404


def test_shots_without_a_circled_take_are_named_or_slated(
    db: Database, http: httpx.Client, project, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Nothing is left out silently: refused naming the shots, or a slate card in their place."""
    _, auth, project_id, shots = project
    upload_clip(http, auth, shots[0]["id"], 24, (320, 180), 24, tmp_path)
    upload_clip(http, auth, shots[2]["id"], 24, (320, 180), 24, tmp_path)
    http.patch(
        f"/v1/shots/{shots[1]['id']}",
        json={"target_duration": 3},
        headers={**auth, "If-Match": str(shots[1]["version"])},
    )
    refused = http.post(f"/v1/projects/{project_id}/rough_cut", json={}, headers=auth)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "shots_without_take"
    assert "SC01-SH020" in refused.json()["message"]
    assert http.get(f"/v1/projects/{project_id}/rough_cuts", headers=auth).json() == []
    slated = http.post(
        f"/v1/projects/{project_id}/rough_cut", json={"missing": "slate"}, headers=auth
    )
    assert slated.status_code == 200, slated.text
    task = wait_finished(http, auth, slated.json()["id"])
    assert task["status"] == "SUCCEEDED", task
    cut = tmp_path / "slated.mp4"
    cut.write_bytes(http.get(task["output"][0]).content)
    assert abs(ffmpeg.probe(cut).duration - (1 + 3 + 1)) <= 3 / 24  # 1 s + 3 s slate + 1 s
