"""The shot's take cards say whether each take has sound, and a take with sound
plays it (its player is not muted); a silent one says so."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import numpy as np

from studio.db.session import Database
from studio.media import ffmpeg
from tests.factories import (
    bearer,
    call_ui,
    login,
    make_api_key,
    make_workspace,
    upload_ui_file,
    wait_finished,
)
from tests.media.sound import decode_audio, rms
from tests.ui.test_projects_page import LIVE, add_shot, new_project


def _clip(tmp: Path, name: str, *, sound: bool) -> bytes:
    path = tmp / f"{name}.mp4"
    audio = None
    if sound:
        wave = 0.4 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
        audio = ffmpeg.write_wav(np.stack([wave, wave]), 16000, tmp / f"{name}.wav")
    frames = np.full((12, 64, 112, 3), 90, dtype=np.uint8)
    ffmpeg.encode_mp4(frames, 12, path, preset="ultrafast", audio=audio)
    return path.read_bytes()


def test_take_cards_show_sound_and_play_it(
    db: Database, http: httpx.Client, tmp_path: Path
) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    project = new_project(http, team.id, "Noisy")
    shot = add_shot(http, team.id, project, "Wide: the band")[0][1]
    for name, sound in (("quiet", False), ("loud", True)):
        data = _clip(tmp_path, name, sound=sound)
        out = call_ui(http, "upload_take", project, shot, upload_ui_file(http, f"{name}.mp4", data))
    grid = out[1 + LIVE["grid"]]
    cards = re.findall(
        r'<figure class="[^"]*take-card[^"]*" data-take="\d+">.*?</figure>', grid, re.S
    )
    assert len(cards) == 2, grid
    loud, quiet = cards  # newest first
    assert "🔊 sound" in loud and "silent" not in loud
    assert "🔇 silent" in quiet and "🔊" not in quiet
    assert " muted" not in re.search(r"<video[^>]*>", loud).group(0)  # type: ignore[union-attr]
    assert " muted" in re.search(r"<video[^>]*>", quiet).group(0)  # type: ignore[union-attr]


def test_the_rough_cut_tab_lays_music_under_the_cut(
    db: Database, http: httpx.Client, tmp_path: Path
) -> None:
    team = make_workspace(db)
    login(http, team.owner)
    auth = bearer(make_api_key(db, team.owner, team))
    project = new_project(http, team.id, "Scored")
    shot = add_shot(http, team.id, project, "Wide: the band")[0][1]
    data = _clip(tmp_path, "quiet", sound=False)
    call_ui(http, "upload_take", project, shot, upload_ui_file(http, "quiet.mp4", data))
    take = http.get(f"/v1/shots/{shot}/takes", headers=auth).json()[0]
    assert http.post(f"/v1/takes/{take['id']}/select", headers=auth).status_code == 200
    wave = 0.5 * np.sin(2 * np.pi * 220 * np.arange(48000) / 48000)
    bed = tmp_path / "bed.wav"
    ffmpeg.write_wav(np.stack([wave, wave]), 48000, bed)
    music = upload_ui_file(http, "bed.wav", bed.read_bytes())
    call_ui(http, "render_rough_cut", project, None, None, False, False, "refuse", music, 50)
    (cut,) = http.get(f"/v1/projects/{project}/rough_cuts", headers=auth).json()
    assert cut["options"]["music"] is True
    done = wait_finished(http, auth, cut["task"]["id"])
    assert done["status"] == "SUCCEEDED", done
    path = tmp_path / "cut.mp4"
    path.write_bytes(http.get(done["output"][0]).content)
    info = ffmpeg.probe(path)
    assert info.audio_codec == "aac" and info.audio_seconds is not None
    assert abs(info.audio_seconds - info.duration) <= 1 / info.fps
    # Half the bed's level (50 %), under a silent take.
    assert abs(rms(decode_audio(path)) - 0.5 * rms(np.stack([wave, wave]).T)) < 0.02
