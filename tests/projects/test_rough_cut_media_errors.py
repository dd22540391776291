"""Media errors are answers, not crashes: extending a take whose video is missing
or unreadable says so (409/422) instead of a 500, with no server path."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np

from studio.config import Settings
from studio.db.session import Database
from studio.media import ffmpeg
from studio.media.models import Asset
from studio.media.storage import LocalStorage
from studio.projects.models import Take
from tests.factories import bearer, make_api_key, make_workspace


def test_extend_answers_a_missing_or_broken_video_plainly(
    db: Database, settings: Settings, http: httpx.Client, tmp_path: Path
) -> None:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project = http.post("/v1/projects", json={"title": "Errors"}, headers=auth).json()
    shot = http.post(
        f"/v1/projects/{project['id']}/shots", json={"description": "A"}, headers=auth
    ).json()
    clip = tmp_path / "clip.mp4"
    ffmpeg.encode_mp4(np.full((12, 64, 96, 3), 90, np.uint8), 12, clip)
    take = http.post(
        f"/v1/shots/{shot['id']}/takes/upload", content=clip.read_bytes(), headers=auth
    ).json()
    with db.session_scope() as session:
        row = session.get(Take, take["take"])
        assert row is not None and row.upload_asset_id is not None
        asset = session.get(Asset, row.upload_asset_id)
        assert asset is not None
        path = LocalStorage(settings.media_path).path_for(asset.storage_key)
    path.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"broken" * 100)
    broken = http.post(f"/v1/takes/{take['take']}/extend", json={"model": "animatic"}, headers=auth)
    assert broken.status_code == 422 and broken.json()["error"] == "invalid_video", broken.text
    path.unlink()
    gone = http.post(f"/v1/takes/{take['take']}/extend", json={"model": "animatic"}, headers=auth)
    assert gone.status_code == 409 and gone.json()["error"] == "take_missing", gone.text
    for answer in (broken, gone):
        assert str(settings.data_dir) not in answer.text and "/tmp" not in answer.text
