"""What a rough cut leaves on disk and in the assets table: a streamable MP4
whose recorded hash is the file's, and a poster of its first frame."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from studio.config import Settings
from studio.db.session import Database
from studio.generation.models import Job
from studio.media import ffmpeg
from studio.media.models import Asset
from studio.media.storage import LocalStorage
from tests.factories import bearer, make_api_key, make_workspace, wait_finished


def test_a_copied_cut_records_its_hash_and_a_poster_of_its_first_frame(
    db: Database, settings: Settings, http: httpx.Client, tmp_path: Path
) -> None:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    made = http.post(
        "/v1/projects",
        json={"title": "Files", "default_ratio": "1280:720", "default_fps": 24},
        headers=auth,
    ).json()
    assert "id" in made, made
    colours = [(200, 40, 40), (40, 200, 40)]
    for index, colour in enumerate(colours):
        shot = http.post(
            f"/v1/projects/{made['id']}/shots", json={"description": f"Shot {index}"}, headers=auth
        ).json()
        clip = tmp_path / f"{index}.mp4"
        ffmpeg.encode_mp4(np.full((24, 180, 320, 3), colour, np.uint8), 24, clip)
        take = http.post(
            f"/v1/shots/{shot['id']}/takes/upload", content=clip.read_bytes(), headers=auth
        ).json()
        assert http.post(f"/v1/takes/{take['take']}/select", headers=auth).status_code == 200
    created = http.post(f"/v1/projects/{made['id']}/rough_cut", json={}, headers=auth).json()
    assert wait_finished(http, auth, created["id"])["status"] == "SUCCEEDED"

    storage = LocalStorage(settings.media_path)
    with db.session_scope() as session:
        job = session.scalar(select(Job).where(Job.public_id == created["id"]))
        assert job is not None and job.timings["method"] == "copy"
        output = session.get(Asset, job.output_asset_id)
        poster = session.get(Asset, job.poster_asset_id)
        assert output is not None and poster is not None
        cut, still = storage.path_for(output.storage_key), storage.path_for(poster.storage_key)
        assert output.sha256 == hashlib.sha256(cut.read_bytes()).hexdigest()
        assert output.bytes == cut.stat().st_size
        assert poster.sha256 == hashlib.sha256(still.read_bytes()).hexdigest()
        recorded = (output.codec, output.width, output.height, output.frame_count)
    info = ffmpeg.probe(cut)
    assert recorded == ("h264", 320, 180, 48) and info.faststart is True
    assert abs(info.duration - 2.0) <= 2 / 24
    assert ffmpeg.read_frames(cut).shape == (48, 180, 320, 3)
    with Image.open(still) as image:
        assert image.format == "JPEG" and image.size == (320, 180)
        mean = np.asarray(image.convert("RGB")).reshape(-1, 3).mean(axis=0)
    assert np.abs(mean - np.array(colours[0])).max() < 12  # the first shot's first frame


def _circled_clips(
    http: httpx.Client, auth: dict[str, str], tmp_path: Path, count: int
) -> tuple[int, list[int]]:
    made = http.post(
        "/v1/projects",
        json={"title": "Trust", "default_ratio": "1280:720", "default_fps": 24},
        headers=auth,
    ).json()
    takes = []
    for index in range(count):
        shot = http.post(
            f"/v1/projects/{made['id']}/shots", json={"description": f"Shot {index}"}, headers=auth
        ).json()
        clip = tmp_path / f"t{index}.mp4"
        ffmpeg.encode_mp4(np.full((24, 180, 320, 3), 60 * index, np.uint8), 24, clip)
        take = http.post(
            f"/v1/shots/{shot['id']}/takes/upload", content=clip.read_bytes(), headers=auth
        ).json()
        assert http.post(f"/v1/takes/{take['take']}/select", headers=auth).status_code == 200
        takes.append(take["take"])
    return made["id"], takes


def test_a_missing_take_fails_the_cut_naming_its_shot_not_a_path(
    db: Database, settings: Settings, http: httpx.Client, tmp_path: Path
) -> None:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project_id, take_ids = _circled_clips(http, auth, tmp_path, 3)
    with db.session_scope() as session:
        from studio.projects.models import Take

        take = session.get(Take, take_ids[1])
        assert take is not None and take.upload_asset_id is not None
        asset = session.get(Asset, take.upload_asset_id)
        assert asset is not None
        LocalStorage(settings.media_path).delete(asset.storage_key)
    created = http.post(f"/v1/projects/{project_id}/rough_cut", json={}, headers=auth).json()
    task = wait_finished(http, auth, created["id"])
    assert task["status"] == "FAILED", task
    assert "SC01-SH020" in task["failure"], task
    assert "missing" in task["failure"]
    assert str(settings.data_dir) not in task["failure"] and "/tmp" not in task["failure"]


def test_a_short_join_fails_the_cut_instead_of_delivering_a_short_film(
    db: Database,
    settings: Settings,
    http: httpx.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ffmpeg's concat exits 0 and writes a short film when a later file cannot be
    read; here the join really drops the last clip (as it would), and the length
    check must catch it."""
    from studio.projects import roughcut

    real_concat = ffmpeg.concat_copy
    monkeypatch.setattr(
        roughcut.ffmpeg, "concat_copy", lambda sources, target: real_concat(sources[:-1], target)
    )
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project_id, _ = _circled_clips(http, auth, tmp_path, 3)
    created = http.post(f"/v1/projects/{project_id}/rough_cut", json={}, headers=auth).json()
    task = wait_finished(http, auth, created["id"])
    assert task["status"] == "FAILED", task
    assert "SC01-SH030" in task["failure"] and "2.00 s instead of 3.00 s" in task["failure"]
    assert task.get("output") in (None, [])


def test_a_damaged_take_fails_the_cut_naming_its_shot(
    db: Database, settings: Settings, http: httpx.Client, tmp_path: Path
) -> None:
    """Same size as recorded, but the bytes are junk: the join cannot make the full
    length, and the shot whose file does not read is named."""
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project_id, take_ids = _circled_clips(http, auth, tmp_path, 3)
    with db.session_scope() as session:
        from studio.projects.models import Take

        take = session.get(Take, take_ids[2])
        assert take is not None and take.upload_asset_id is not None
        asset = session.get(Asset, take.upload_asset_id)
        assert asset is not None
        path = LocalStorage(settings.media_path).path_for(asset.storage_key)
    path.write_bytes(b"\x00" * path.stat().st_size)
    created = http.post(f"/v1/projects/{project_id}/rough_cut", json={}, headers=auth).json()
    task = wait_finished(http, auth, created["id"])
    assert task["status"] == "FAILED", task
    assert "SC01-SH030" in task["failure"], task
    assert str(settings.data_dir) not in task["failure"] and "/tmp" not in task["failure"]
