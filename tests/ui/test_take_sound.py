"""The shot's take cards say whether each take has sound, and a take with sound
plays it (its player is not muted); a silent one says so."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import numpy as np

from studio.db.session import Database
from studio.media import ffmpeg
from tests.factories import call_ui, login, make_workspace, upload_ui_file
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
    cards = re.findall(r'<figure class="[^"]*take-card[^"]*" data-take="\d+">.*?</figure>', grid)
    assert len(cards) == 2, grid
    loud, quiet = cards  # newest first
    assert "🔊 sound" in loud and "silent" not in loud
    assert "🔇 silent" in quiet and "🔊" not in quiet
    assert " muted" not in re.search(r"<video[^>]*>", loud).group(0)  # type: ignore[union-attr]
    assert " muted" in re.search(r"<video[^>]*>", quiet).group(0)  # type: ignore[union-attr]
