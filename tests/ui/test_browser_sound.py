"""Sound in a real browser (Debian's Chromium): a take with sound shows its badge
and plays unmuted with its sound decoded; the rough cut plays with sound."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import numpy as np
import pytest
from playwright.sync_api import Page, expect

from studio.db.session import Database
from studio.media import ffmpeg
from tests.conftest import LiveServer
from tests.factories import bearer, make_api_key, make_user, make_workspace, wait_finished
from tests.ui.conftest import sign_in

pytestmark = pytest.mark.browser

SLOW_MS = 90_000
# Plays unmuted for a moment, then reports the bytes of sound Chromium decoded.
HEARD = (
    "v => new Promise((ok, fail) => { v.muted = false; v.currentTime = 0;"
    " v.play().catch(fail);"
    " const done = () => { v.pause(); ok(v.webkitAudioDecodedByteCount); };"
    " const tick = () => v.currentTime > 0.5 ? done() : setTimeout(tick, 50); tick(); })"
)


def _clip_with_sound() -> bytes:
    with tempfile.TemporaryDirectory() as scratch:
        wave = 0.4 * np.sin(2 * np.pi * 440 * np.arange(32000) / 16000)
        sound = ffmpeg.write_wav(np.stack([wave, wave]), 16000, Path(scratch) / "s.wav")
        frames = np.full((48, 180, 320, 3), 70, dtype=np.uint8)
        path = Path(scratch) / "clip.mp4"
        ffmpeg.encode_mp4(frames, 24, path, audio=sound)
        return path.read_bytes()


def test_a_take_and_the_rough_cut_play_with_sound(
    page: Page, live_server: LiveServer, db: Database
) -> None:
    user = make_user(db, "mixer")
    team = make_workspace(db, user, name="Sound Stage")
    auth = bearer(make_api_key(db, user, team))
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        project = http.post("/v1/projects", json={"title": "Band Night"}, headers=auth).json()
        shot = http.post(
            f"/v1/projects/{project['id']}/shots", json={"description": "The band"}, headers=auth
        ).json()
        take = http.post(
            f"/v1/shots/{shot['id']}/takes/upload", content=_clip_with_sound(), headers=auth
        ).json()
        assert http.post(f"/v1/takes/{take['take']}/select", headers=auth).status_code == 200
        cut = http.post(f"/v1/projects/{project['id']}/rough_cut", json={}, headers=auth).json()
        assert wait_finished(http, auth, cut["id"])["status"] == "SUCCEEDED"

    sign_in(page, live_server.url, user.email, user.password)
    page.click("#nav-projects")
    projects_page = page.locator("#page-projects")
    expect(page.locator("#proj-info")).to_contain_text("Band Night")
    projects_page.get_by_role("tab", name="Shot list").click()
    page.locator("#shot-table tr", has_text="SC01-SH010").click()
    card = page.locator("#shot-takes .take-card").first
    expect(card.locator(".sound-badge.has-sound")).to_be_visible()
    video = card.locator("video")
    assert video.evaluate("v => v.muted") is False
    assert video.evaluate(HEARD) > 0  # Chromium decoded the take's sound

    projects_page.get_by_role("tab", name="Rough cut").click()
    cut_video = page.locator("#rough-cut-video")
    expect(cut_video).to_have_count(1, timeout=SLOW_MS)
    assert cut_video.evaluate(HEARD) > 0
