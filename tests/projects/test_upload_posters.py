"""Uploaded takes get a poster (issue 12): every upload path (the API body, the
shot page, a direct upload to the store) stores the clip's first keyframe as a
JPEG poster asset linked to the clip, and the take's card, the storyboard and
the workspace home show it. A clip whose keyframes do not decode (its probe
passes) is still kept, without a poster."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from sqlalchemy import select

from studio.config import Settings
from studio.db.session import Database
from studio.media import ffmpeg
from studio.media.models import Asset
from studio.projects import home, storyboard
from studio.projects.models import Take
from tests import upload_client as uc
from tests.factories import (
    UserInfo,
    bearer,
    call_ui,
    login,
    make_api_key,
    make_workspace,
    upload_ui_file,
)
from tests.jams.helpers import actor
from tests.ui.test_projects_page import LIVE, add_shot, new_project


def clip(tmp_path: Path, name: str, width: int, height: int, frames: int = 6) -> bytes:
    """A real H.264 MP4: its first frame dark, then brighter."""
    path = tmp_path / f"{name}.mp4"
    ramp = np.linspace(20, 235, frames, dtype=np.uint8)[:, None, None, None]
    video = np.broadcast_to(ramp, (frames, height, width, 3)).copy()
    ffmpeg.encode_mp4(video, 12, path, preset="ultrafast")
    return path.read_bytes()


def keyless_clip(tmp_path: Path) -> bytes:
    """An MPEG-4 clip with its only keyframe dropped: the probe decodes a frame (the
    decoder conceals the missing reference), but no keyframe exists to be a poster."""
    whole, keyless = tmp_path / "whole.mp4", tmp_path / "keyless.mp4"
    for command in (
        ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "2",
         "-c:v", "mpeg4", "-g", "1000", "-bf", "0", str(whole)],
        ["-i", str(whole), "-c", "copy", "-bsf:v", "noise=drop=key", str(keyless)],
    ):  # fmt: skip
        subprocess.run(
            [ffmpeg.ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y", *command],
            check=True,
            timeout=120,
        )
    return keyless.read_bytes()


def poster_of_take(db: Database, settings: Settings, take_id: int) -> Asset | None:
    """The poster linked to an uploaded take's clip, checked to be a decodable JPEG of
    the size its row records."""
    with db.session_scope() as session:
        take = session.get(Take, take_id)
        assert take is not None and take.upload_asset_id is not None and take.job_id is None
        video = session.get(Asset, take.upload_asset_id)
        assert video is not None
        if video.poster_asset_id is None:
            return None
        poster = session.get(Asset, video.poster_asset_id)
        assert poster is not None
        session.expunge(poster)
    assert poster.kind == "poster" and poster.mime == "image/jpeg"
    assert poster.workspace_id == video.workspace_id
    path = Path(settings.media_path) / poster.storage_key
    assert poster.bytes == path.stat().st_size
    with Image.open(path) as image:
        image.load()  # decodes the whole JPEG
        assert image.format == "JPEG"
        assert image.size == (poster.width, poster.height)
    return poster


def first_pixel_level(settings: Settings, poster: Asset) -> float:
    with Image.open(Path(settings.media_path) / poster.storage_key) as image:
        return float(np.asarray(image.convert("L")).mean())


def api_shot(db: Database, http: httpx.Client) -> tuple[dict[str, str], int, int, int]:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project = http.post("/v1/projects", json={"title": "Posters"}, headers=auth).json()
    shot = http.post(
        f"/v1/projects/{project['id']}/shots", json={"description": "Wide"}, headers=auth
    ).json()
    return auth, project["id"], shot["id"], team.owner.id


def test_an_api_upload_gets_a_poster_that_cards_show(
    db: Database, http: httpx.Client, settings: Settings, tmp_path: Path
) -> None:
    auth, project_id, shot_id, owner_id = api_shot(db, http)
    data = clip(tmp_path, "wide", 1280, 360)
    made = http.post(
        f"/v1/shots/{shot_id}/takes/upload",
        content=data,
        headers={**auth, "Content-Type": "video/mp4"},
    )
    assert made.status_code == 201, made.text
    poster = poster_of_take(db, settings, made.json()["take"])
    assert poster is not None
    assert (poster.width, poster.height) == (640, 180)  # shrunk to poster width, same shape
    assert first_pixel_level(settings, poster) < 60  # the first (dark) frame, not a later one
    (listed,) = http.get(f"/v1/shots/{shot_id}/takes", headers=auth).json()
    fetched = http.get(listed["poster"])
    assert fetched.status_code == 200
    assert fetched.content == (Path(settings.media_path) / poster.storage_key).read_bytes()

    assert http.post(f"/v1/takes/{made.json()['take']}/select", headers=auth).status_code == 200
    with db.session_scope() as session:
        who = actor(session, UserInfo(owner_id, "", ""))
        (card,) = storyboard.storyboard(session, who, project_id)
        assert card.poster_asset_id == poster.id
        workspace_id = poster.workspace_id
        overview = home.workspace_home(session, who, workspace_id)
    assert [p.poster_asset_id for p in overview.projects] == [poster.id]
    assert [t.poster_asset_id for t in overview.recent_takes] == [poster.id]


def test_a_page_upload_gets_a_poster_on_its_card(
    db: Database, http: httpx.Client, settings: Settings, tmp_path: Path
) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    project = new_project(http, team.id, "Page posters")
    shot = add_shot(http, team.id, project, "Wide: the pier")[0][1]
    data = clip(tmp_path, "page", 112, 64)
    out = call_ui(http, "upload_take", project, shot, upload_ui_file(http, "page.mp4", data))
    grid = out[1 + LIVE["grid"]]
    video = re.search(r"<video[^>]*>", grid)
    assert video is not None, grid
    with db.session_scope() as session:
        (take_id,) = session.scalars(select(Take.id).where(Take.shot_id == shot)).all()
    poster = poster_of_take(db, settings, take_id)
    assert poster is not None and (poster.width, poster.height) == (112, 64)
    assert f'poster="/media/{poster.id}?' in video.group(0)


def test_a_direct_upload_gets_a_poster(
    db: Database, http: httpx.Client, settings: Settings, tmp_path: Path
) -> None:
    auth, _project_id, shot_id, _ = api_shot(db, http)
    data = clip(tmp_path, "direct", 128, 96)
    state = uc.upload(http, auth, data, purpose="take", shot_id=shot_id, content_type="video/mp4")
    assert state["status"] == "ready", state
    poster = poster_of_take(db, settings, state["take_id"])
    assert poster is not None and (poster.width, poster.height) == (128, 96)


def test_a_clip_without_a_decodable_keyframe_uploads_without_a_poster(
    db: Database, http: httpx.Client, settings: Settings, tmp_path: Path
) -> None:
    auth, _project_id, shot_id, _ = api_shot(db, http)
    data = keyless_clip(tmp_path)
    made = http.post(
        f"/v1/shots/{shot_id}/takes/upload",
        content=data,
        headers={**auth, "Content-Type": "video/mp4"},
    )
    assert made.status_code == 201, made.text  # the probe accepts it
    assert poster_of_take(db, settings, made.json()["take"]) is None
    state = uc.upload(http, auth, data, purpose="take", shot_id=shot_id, content_type="video/mp4")
    assert state["status"] == "ready", state
    assert poster_of_take(db, settings, state["take_id"]) is None
    with db.session_scope() as session:
        take = session.get(Take, made.json()["take"])
        assert take is not None
        video = session.get(Asset, take.upload_asset_id)
        assert video is not None
        folder = Path(settings.media_path) / f"ws{video.workspace_id}"
    assert not list(folder.rglob("*-poster.jpg"))  # nothing half-made left in the store
