"""The organizer's rule "films need sound": a silent film is refused with a message
that says why, at upload and at submission (a film chosen from a take); a film
with an audio track is accepted; the judges' player keeps its sound."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np

from studio.db.session import Database
from studio.jams import service
from studio.media import ffmpeg
from tests.factories import WorkspaceInfo, bearer, make_api_key
from tests.jams.helpers import actor
from tests.jams.test_api import key_for
from tests.ui.named import call, error, value
from tests.ui.test_jams_page import (
    client_for,
    open_jam,
    running_jam,
    settings_inputs,
    settings_of,
)


def film(seconds: float = 2.0, *, sound: bool) -> bytes:
    frames = np.full((round(seconds * 8), 48, 64, 3), 120, np.uint8)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "film.mp4"
        audio = None
        if sound:
            t = np.arange(round(seconds * 16000)) / 16000
            wave = 0.3 * np.sin(2 * np.pi * 330 * t)
            audio = ffmpeg.write_wav(np.stack([wave, wave]), 16000, Path(scratch) / "s.wav")
        ffmpeg.encode_mp4(frames, 8, path, audio=audio)
        return path.read_bytes()


def test_a_jam_that_requires_sound_refuses_a_silent_film_and_takes_one_with_sound(
    db: Database, http: httpx.Client
) -> None:
    _admin, admin_auth = key_for(db, "admin", admin=True)
    captain, captain_auth = key_for(db, "captain")
    now = datetime.now(UTC)
    body = {
        "title": "Sound Jam",
        "slug": "sound-jam-" + captain.email[8:14],
        "registration_opens_at": (now - timedelta(hours=1)).isoformat(),
        "registration_closes_at": (now + timedelta(hours=3)).isoformat(),
        "kickoff_at": (now - timedelta(minutes=1)).isoformat(),
        "film_min_seconds": 1,
        "film_max_seconds": 4,
    }
    created = http.post("/v1/jams", json=body, headers=admin_auth)
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    assert created.json()["film_needs_sound"] is False
    ruled = http.patch(f"/v1/jams/{slug}", json={"film_needs_sound": True}, headers=admin_auth)
    assert ruled.status_code == 200 and ruled.json()["film_needs_sound"] is True, ruled.text
    bad_rule = http.patch(f"/v1/jams/{slug}", json={"film_needs_sound": "yes"}, headers=admin_auth)
    assert bad_rule.status_code == 422

    team = http.post(f"/v1/jams/{slug}/teams", json={"name": "Loud"}, headers=captain_auth)
    assert team.status_code == 201, team.text
    workspace = WorkspaceInfo(team.json()["workspace_id"], team.json()["workspace_slug"], captain)
    team_key = bearer(make_api_key(db, captain, workspace))

    silent = http.post(f"/v1/jams/{slug}/entry/film", content=film(sound=False), headers=team_key)
    assert silent.status_code == 422, silent.text
    assert silent.json()["error"] == "film_needs_sound"
    assert "no sound" in silent.json()["message"] and "audio track" in silent.json()["message"]

    # A silent take chosen as the film is refused at submission, with the same words.
    project = http.post("/v1/projects", json={"title": "Loud"}, headers=team_key).json()
    shot = http.post(
        f"/v1/projects/{project['id']}/shots", json={"description": "One"}, headers=team_key
    ).json()
    take = http.post(
        f"/v1/shots/{shot['id']}/takes/upload", content=film(sound=False), headers=team_key
    )
    assert take.status_code == 201, take.text
    from_take = http.put(
        f"/v1/jams/{slug}/entry",
        json={"title": "Hush", "film": {"take_id": take.json()["take"]}},
        headers=team_key,
    )
    assert from_take.status_code == 422, from_take.text
    assert from_take.json()["error"] == "film_needs_sound"
    assert http.get(f"/v1/jams/{slug}/entry", headers=team_key).status_code == 404

    loud = http.post(f"/v1/jams/{slug}/entry/film", content=film(sound=True), headers=team_key)
    assert loud.status_code == 201, loud.text
    done = http.put(
        f"/v1/jams/{slug}/entry",
        json={"title": "Loud", "film": {"asset_id": loud.json()["asset_id"]}},
        headers=team_key,
    )
    assert done.status_code == 200 and done.json()["status"] == "submitted", done.text
    served = http.get(done.json()["film_url"])
    assert served.status_code == 200
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "served.mp4"
        path.write_bytes(served.content)
        assert ffmpeg.probe(path).audio_codec == "aac"


def test_the_organizer_sets_the_rule_on_the_jam_page(db: Database, http: httpx.Client) -> None:
    slug, admin = running_jam(db)
    boss = client_for(http, admin)
    shown = settings_of(open_jam(boss, slug))
    assert value(open_jam(boss, slug), "settings-sound") is False
    saved = call(
        boss,
        "jam_update_settings",
        jam_pick=slug,
        **settings_inputs(shown),
        **{"settings-sound": True},
    )
    assert error(saved, "org-save-error") == ""
    assert "films need sound" in saved["jam-overview"]
    with db.session_scope() as session:
        assert service.get_jam_setup(session, actor(session, admin), slug).film_needs_sound
    assert value(open_jam(boss, slug), "settings-sound") is True
