"""The animatic lays a sound file (voice-over, temp music) under its clip; a model
that cannot is refused with a message, and a sound from another workspace is
not found."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np

from studio.db.session import Database
from studio.media import ffmpeg
from tests.factories import bearer, make_api_key, make_workspace, wait_finished
from tests.media.sound import decode_audio, rms


def _sound(tmp: Path, seconds: float) -> bytes:
    wave = 0.5 * np.sin(2 * np.pi * 330 * np.arange(round(seconds * 16000)) / 16000)
    path = tmp / "voice.wav"
    ffmpeg.write_wav(np.stack([wave, wave]), 16000, path)
    return path.read_bytes()


def _shot(http: httpx.Client, auth: dict[str, str]) -> tuple[int, int]:
    project = http.post("/v1/projects", json={"title": "Board"}, headers=auth).json()["id"]
    shot = http.post(
        f"/v1/projects/{project}/shots",
        json={"description": "The pier at night", "target_duration": 2},
        headers=auth,
    ).json()["id"]
    return project, shot


def test_the_animatic_lays_a_voice_over_under_its_clip(
    db: Database, http: httpx.Client, tmp_path: Path
) -> None:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project, shot = _shot(http, auth)
    # Longer than the clip: cut to the clip's length.
    sent = http.post(f"/v1/projects/{project}/sounds", content=_sound(tmp_path, 3.5), headers=auth)
    assert sent.status_code == 201, sent.text
    made = http.post(
        f"/v1/shots/{shot}/takes",
        json={"model": "animatic", "sound_asset_id": sent.json()["asset"]},
        headers=auth,
    )
    assert made.status_code == 200, made.text
    assert wait_finished(http, auth, made.json()["id"])["status"] == "SUCCEEDED"
    take = http.get(f"/v1/shots/{shot}/takes", headers=auth).json()[0]
    assert take["sound"] is True
    path = tmp_path / "take.mp4"
    path.write_bytes(http.get(take["output"]).content)
    info = ffmpeg.probe(path)
    assert (info.codec, info.audio_codec, info.faststart) == ("h264", "aac", True)
    assert (
        info.audio_seconds is not None and abs(info.audio_seconds - info.duration) <= 1 / info.fps
    )
    assert abs(info.duration - 2.0) <= 1 / info.fps
    assert rms(decode_audio(path)) > 0.3

    # A re-roll keeps the voice-over.
    again = http.post(f"/v1/takes/{take['id']}/reroll", headers=auth)
    assert again.status_code == 200, again.text
    assert wait_finished(http, auth, again.json()["id"])["status"] == "SUCCEEDED"
    assert http.get(f"/v1/shots/{shot}/takes", headers=auth).json()[0]["sound"] is True


def test_sound_files_go_only_where_they_can(
    db: Database, http: httpx.Client, tmp_path: Path
) -> None:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project, shot = _shot(http, auth)
    sound = http.post(
        f"/v1/projects/{project}/sounds", content=_sound(tmp_path, 1.0), headers=auth
    ).json()["asset"]
    refused = http.post(
        f"/v1/shots/{shot}/takes",
        json={"model": "ltx-video", "sound_asset_id": sound},
        headers=auth,
    )
    assert refused.status_code == 422, refused.text
    assert "cannot lay a sound file" in refused.json()["message"]
    assert "animatic" in refused.json()["message"]

    other = make_workspace(db)
    other_auth = bearer(make_api_key(db, other.owner, other))
    _, other_shot = _shot(http, other_auth)
    borrowed = http.post(
        f"/v1/shots/{other_shot}/takes",
        json={"model": "animatic", "sound_asset_id": sound},
        headers=other_auth,
    )
    assert borrowed.status_code == 404, borrowed.text
    assert http.get(f"/v1/shots/{other_shot}/takes", headers=other_auth).json() == []
