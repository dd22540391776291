"""Takes on the embedded default: generate from a shot, re-roll, vary, extend,
upload, circle, favorite and rate; roles and workspace isolation."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest

from studio.accounts.models import Role
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


@pytest.fixture
def shot(db: Database, http: httpx.Client):  # type: ignore[no-untyped-def]
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project = http.post("/v1/projects", json={"title": "Harbour"}, headers=auth).json()
    made = http.post(
        f"/v1/projects/{project['id']}/shots",
        json={"prompt": "fishing boats at dawn", "target_duration": 2.2, "ratio": "960:960"},
        headers=auth,
    ).json()
    return team, auth, made


def test_take_lineage_from_generate_to_extend(http: httpx.Client, shot) -> None:  # type: ignore[no-untyped-def]
    _, auth, made = shot
    first = http.post(
        f"/v1/shots/{made['id']}/takes", json={"model": "animatic", "seed": 5}, headers=auth
    )
    assert first.status_code == 200, first.text
    task = wait_finished(http, auth, first.json()["id"])
    assert task["status"] == "SUCCEEDED", task
    assert (
        task["studio"]["ratio"] == "960:960" and task["studio"]["duration"] == 2
    )  # nearest to 2.2 s

    reroll = http.post(f"/v1/takes/{first.json()['take']}/reroll", headers=auth).json()
    vary = http.post(
        f"/v1/takes/{first.json()['take']}/vary",
        json={"prompt": "fishing boats in fog"},
        headers=auth,
    ).json()
    extend = http.post(f"/v1/takes/{first.json()['take']}/extend", json={}, headers=auth).json()
    tasks = {
        name: wait_finished(http, auth, t["id"])
        for name, t in [("reroll", reroll), ("vary", vary), ("extend", extend)]
    }
    assert all(t["status"] == "SUCCEEDED" for t in tasks.values()), tasks
    assert tasks["reroll"]["studio"]["seed"] != 5
    assert tasks["vary"]["studio"]["seed"] == 5
    assert tasks["extend"]["studio"]["mode"] == "image_to_video"

    listed = http.get(f"/v1/shots/{made['id']}/takes", headers=auth).json()
    assert [t["number"] for t in listed] == [4, 3, 2, 1]
    by_number = {t["number"]: t for t in listed}
    assert (by_number[2]["lineage"], by_number[3]["lineage"], by_number[4]["lineage"]) == (
        "reroll",
        "variation",
        "extension",
    )
    assert {by_number[n]["parent_take_id"] for n in (2, 3, 4)} == {first.json()["take"]}
    assert all(t["output"] for t in listed)


def test_circle_favorite_and_rate(http: httpx.Client, shot) -> None:  # type: ignore[no-untyped-def]
    _, auth, made = shot
    created = http.post(
        f"/v1/shots/{made['id']}/takes", json={"model": "animatic"}, headers=auth
    ).json()
    take_id = created["take"]
    circled = http.post(f"/v1/takes/{take_id}/select", headers=auth)
    assert circled.status_code == 200 and circled.json()["selected_take_id"] == take_id
    assert http.get(f"/v1/shots/{made['id']}/takes", headers=auth).json()[0]["selected"] is True
    marked = http.patch(
        f"/v1/takes/{take_id}", json={"favorite": True, "rating": 4}, headers=auth
    ).json()
    assert marked == {"id": take_id, "favorite": True, "rating": 4}
    bad = http.patch(f"/v1/takes/{take_id}", json={"rating": 7}, headers=auth)
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_rating"


def test_upload_an_outside_clip_is_validated(http: httpx.Client, shot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, auth, made = shot
    clip = tmp_path / "outside.mp4"
    ffmpeg.encode_mp4(np.full((12, 64, 96, 3), 120, dtype=np.uint8), 12, clip)
    url = f"/v1/shots/{made['id']}/takes/upload"
    uploaded = http.post(
        url, content=clip.read_bytes(), headers={**auth, "Content-Type": "video/mp4"}
    )
    assert uploaded.status_code == 201, uploaded.text
    for junk in (b"", b"not a video at all", clip.read_bytes()[:400]):
        refused = http.post(url, content=junk, headers={**auth, "Content-Type": "video/mp4"})
        assert refused.status_code == 422, refused.text
    listed = http.get(f"/v1/shots/{made['id']}/takes", headers=auth).json()
    assert len(listed) == 1 and listed[0]["uploaded"] and listed[0]["task"] is None
    assert http.get(listed[0]["output"]).content == clip.read_bytes()
    cannot = http.post(f"/v1/takes/{listed[0]['id']}/reroll", headers=auth)
    assert cannot.status_code == 422 and cannot.json()["error"] == "take_not_generated"


def test_viewers_cannot_generate_and_outsiders_see_nothing(
    db: Database, http: httpx.Client, shot
) -> None:  # type: ignore[no-untyped-def]
    team, auth, made = shot
    take_id = http.post(
        f"/v1/shots/{made['id']}/takes", json={"model": "animatic"}, headers=auth
    ).json()["take"]
    viewer = make_user(db, "viewer")
    add_member(db, team, viewer, Role.VIEWER)
    seen = bearer(make_api_key(db, viewer, team))
    assert http.get(f"/v1/shots/{made['id']}/takes", headers=seen).status_code == 200
    for path in (
        f"/v1/shots/{made['id']}/takes",
        f"/v1/takes/{take_id}/reroll",
        f"/v1/takes/{take_id}/select",
    ):
        assert http.post(path, json={}, headers=seen).status_code == 403, path
    outsider = make_workspace(db)
    them = bearer(make_api_key(db, outsider.owner, outsider))
    for method, path in [
        ("GET", f"/v1/shots/{made['id']}/takes"),
        ("POST", f"/v1/shots/{made['id']}/takes"),
        ("POST", f"/v1/takes/{take_id}/reroll"),
        ("POST", f"/v1/takes/{take_id}/vary"),
        ("POST", f"/v1/takes/{take_id}/extend"),
        ("POST", f"/v1/takes/{take_id}/select"),
        ("PATCH", f"/v1/takes/{take_id}"),
    ]:
        response = http.request(method, path, json={}, headers=them)
        assert response.status_code == 404, (method, path, response.text)


def test_restyle_refuses_what_a_model_cannot_do(http: httpx.Client, shot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The shipped registry: only Wan 2.1 1.3B restyles. Asking another model, an
    empty prompt or a strength out of range is a 422 that says so; nothing is made."""
    _, auth, made = shot
    clip = tmp_path / "outside.mp4"
    ffmpeg.encode_mp4(np.full((12, 64, 96, 3), 90, dtype=np.uint8), 12, clip)
    source = http.post(
        f"/v1/shots/{made['id']}/takes/upload",
        content=clip.read_bytes(),
        headers={**auth, "Content-Type": "video/mp4"},
    ).json()["take"]
    for model in ("animatic", "sd-1_5", "wan2_2-ti2v-5b"):
        refused = http.post(
            f"/v1/takes/{source}/restyle", json={"prompt": "noir", "model": model}, headers=auth
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"] == "unsupported_mode"
        assert "cannot restyle" in refused.json()["message"]
        assert "wan2_1-t2v-1_3b" in refused.json()["message"]
    for body, code in (
        ({"prompt": ""}, "invalid_input"),
        ({"prompt": "noir", "strength": 0.01}, "invalid_strength"),
        ({"prompt": "noir", "model": "no-such-model"}, "unknown_model"),
    ):
        refused = http.post(f"/v1/takes/{source}/restyle", json=body, headers=auth)
        assert refused.status_code == 422 and refused.json()["error"] == code, refused.text
    assert len(http.get(f"/v1/shots/{made['id']}/takes", headers=auth).json()) == 1
