"""A shot's reference image through the API: set with the version check,
validated, used by the next take (image_to_video), cleared; roles and
other workspaces refused."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
from PIL import Image

from studio.accounts.models import Role
from studio.db.session import Database
from tests.factories import (
    add_member,
    bearer,
    make_api_key,
    make_user,
    make_workspace,
    wait_finished,
)


def png(width: int = 64, height: int = 36) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_reference_image_lifecycle(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project = http.post("/v1/projects", json={"title": "Refs"}, headers=auth).json()
    shot = http.post(
        f"/v1/projects/{project['id']}/shots", json={"prompt": "a red door"}, headers=auth
    ).json()
    url = f"/v1/shots/{shot['id']}/reference"

    missing = http.put(url, content=png(), headers=auth)
    assert missing.status_code == 428
    stale = http.put(url, content=png(), headers={**auth, "If-Match": '"7"'})
    assert stale.status_code == 409 and "changed by" in stale.json()["message"]
    garbage = http.put(url, content=b"not an image", headers={**auth, "If-Match": '"1"'})
    assert garbage.status_code == 422, garbage.text
    assert http.get(f"/v1/shots/{shot['id']}", headers=auth).json()["reference_asset_id"] is None

    done = http.put(url, content=png(), headers={**auth, "If-Match": '"1"'})
    assert done.status_code == 200, done.text
    assert done.json()["reference_asset_id"] and done.json()["version"] == 2
    assert done.headers["ETag"] == '"2"'

    created = http.post(
        f"/v1/shots/{shot['id']}/takes", json={"model": "animatic"}, headers=auth
    ).json()
    task = wait_finished(http, auth, created["id"])
    assert task["status"] == "SUCCEEDED" and task["studio"]["mode"] == "image_to_video"

    cleared = http.delete(url, headers={**auth, "If-Match": '"2"'})
    assert cleared.status_code == 200 and cleared.json()["reference_asset_id"] is None


def test_viewers_and_strangers_cannot_set_references(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project = http.post("/v1/projects", json={"title": "Refs"}, headers=auth).json()
    shot = http.post(
        f"/v1/projects/{project['id']}/shots", json={"prompt": "a red door"}, headers=auth
    ).json()
    viewer = make_user(db, "viewer")
    add_member(db, team, viewer, Role.VIEWER)
    as_viewer = bearer(make_api_key(db, viewer, team))
    stranger = make_workspace(db)
    as_stranger = bearer(make_api_key(db, stranger.owner, stranger))
    url = f"/v1/shots/{shot['id']}/reference"
    headers = {"If-Match": '"1"'}
    assert http.put(url, content=png(), headers={**as_viewer, **headers}).status_code == 403
    assert http.put(url, content=png(), headers={**as_stranger, **headers}).status_code == 404
    assert http.delete(url, headers={**as_stranger, **headers}).status_code == 404
    assert http.get(f"/v1/shots/{shot['id']}", headers=auth).json()["version"] == 1


def test_oversized_uploads_are_refused_while_streaming(db: Database, http: httpx.Client) -> None:
    """A chunked body has no Content-Length: the server counts it as it arrives."""
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project = http.post("/v1/projects", json={"title": "Big"}, headers=auth).json()
    shot = http.post(
        f"/v1/projects/{project['id']}/shots", json={"prompt": "a red door"}, headers=auth
    ).json()

    def chunks() -> Iterator[bytes]:  # 2 MB in 64 KiB pieces; the test limit is 1 MB
        for _ in range(32):
            yield b"\0" * 65536

    for url, headers in [
        (f"/v1/shots/{shot['id']}/reference", {**auth, "If-Match": '"1"'}),
        (f"/v1/shots/{shot['id']}/takes/upload", auth),
    ]:
        response = (
            http.put(url, content=chunks(), headers=headers)
            if "reference" in url
            else (http.post(url, content=chunks(), headers=headers))
        )
        assert response.status_code == 413, (url, response.text)
        assert response.json()["error"] == "payload_too_large"
    assert http.get(f"/v1/shots/{shot['id']}/takes", headers=auth).json() == []
    assert http.get(f"/v1/shots/{shot['id']}", headers=auth).json()["version"] == 1
