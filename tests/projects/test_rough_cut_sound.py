"""Sound through uploads and rough cuts, with the real ffmpeg: an uploaded take keeps
its sound; a cut of takes with and without sound has one AAC track as long as
the picture, each take's sound starting on its first frame and silence where a
take has none; a bed is mixed under the cut at the level asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import select

from studio.config import Settings
from studio.db.session import Database
from studio.generation.models import Job
from studio.media import ffmpeg
from studio.media.models import Asset
from studio.media.storage import LocalStorage
from tests.factories import bearer, make_api_key, make_workspace, wait_finished
from tests.media.sound import RATE, decode_audio, rms

FPS = 24
AUDIO_FRAME = 1024 / RATE  # one AAC frame: the sync tolerance


def tone(hz: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    wave = amplitude * np.sin(2 * np.pi * hz * t)
    return np.stack([wave, wave])


def clip(
    tmp: Path,
    name: str,
    *,
    seconds: float = 1.0,
    size: tuple[int, int] = (320, 180),
    sound: np.ndarray | None = None,
) -> bytes:
    width, height = size
    frames = np.full((round(seconds * FPS), height, width, 3), 90, np.uint8)
    path = tmp / f"{name}.mp4"
    audio = ffmpeg.write_wav(sound, RATE, tmp / f"{name}.wav") if sound is not None else None
    ffmpeg.encode_mp4(frames, FPS, path, audio=audio)
    return path.read_bytes()


def project_of(http: httpx.Client, auth: dict[str, str], clips: list[bytes]) -> int:
    made = http.post(
        "/v1/projects",
        json={"title": "Sound", "default_ratio": "1280:720", "default_fps": FPS},
        headers=auth,
    ).json()
    for index, data in enumerate(clips):
        shot = http.post(
            f"/v1/projects/{made['id']}/shots", json={"description": f"Shot {index}"}, headers=auth
        ).json()
        take = http.post(f"/v1/shots/{shot['id']}/takes/upload", content=data, headers=auth)
        assert take.status_code == 201, take.text
        assert http.post(f"/v1/takes/{take.json()['take']}/select", headers=auth).status_code == 200
    return int(made["id"])


def cut(
    db: Database,
    settings: Settings,
    http: httpx.Client,
    auth: dict[str, str],
    project: int,
    tmp: Path,
    **body: Any,
) -> tuple[Path, str]:
    created = http.post(f"/v1/projects/{project}/rough_cut", json=body, headers=auth)
    assert created.status_code == 200, created.text
    task = wait_finished(http, auth, created.json()["id"])
    assert task["status"] == "SUCCEEDED", task
    with db.session_scope() as session:
        job = session.scalar(select(Job).where(Job.public_id == created.json()["id"]))
        assert job is not None
        output = session.get(Asset, job.output_asset_id)
        assert output is not None and output.has_audio is True
        path = LocalStorage(settings.media_path).path_for(output.storage_key)
        return path, str(job.timings["method"])


def onset(samples: np.ndarray, after: float, threshold: float = 0.05) -> float:
    """When the sound first rises above `threshold` at or after `after` seconds."""
    start = round(after * RATE)
    loud = np.flatnonzero(np.abs(samples[start:, 0]) > threshold)
    assert loud.size, f"no sound after {after} s"
    return (start + int(loud[0])) / RATE


def between(samples: np.ndarray, start: float, end: float) -> np.ndarray:
    margin = 2 * AUDIO_FRAME  # clear of the edges' encoder ramp
    return samples[round((start + margin) * RATE) : round((end - margin) * RATE)]


def test_an_uploaded_take_keeps_its_sound(db: Database, http: httpx.Client, tmp_path: Path) -> None:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project = project_of(http, auth, [clip(tmp_path, "a", sound=tone(440, 1.0))])
    shot = http.get(f"/v1/projects/{project}/shots", headers=auth).json()[0]
    take = http.get(f"/v1/shots/{shot['id']}/takes", headers=auth).json()[0]
    assert take["sound"] is True
    kept = tmp_path / "kept.mp4"
    kept.write_bytes(http.get(take["output"]).content)
    info = ffmpeg.probe(kept)
    assert info.audio_codec == "aac"
    assert rms(decode_audio(kept)) > 0.3  # the tone, not silence


def test_a_cut_of_takes_with_and_without_sound_keeps_each_in_sync(
    db: Database, settings: Settings, http: httpx.Client, tmp_path: Path
) -> None:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    clips = [
        clip(tmp_path, "a", sound=tone(440, 1.0)),
        clip(tmp_path, "b"),  # no sound
        clip(tmp_path, "c", seconds=1.5, sound=tone(660, 1.5)),
    ]
    path, method = cut(db, settings, http, auth, project_of(http, auth, clips), tmp_path)
    assert method == "copy"  # the picture is still joined by stream copy
    info = ffmpeg.probe(path)
    assert (info.codec, info.audio_codec, info.faststart) == ("h264", "aac", True)
    assert abs(info.duration - 3.5) <= 1 / FPS
    assert info.audio_seconds is not None
    assert abs(info.audio_seconds - info.duration) <= 1 / FPS
    samples = decode_audio(path)
    assert rms(between(samples, 0.0, 1.0)) > 0.3
    assert rms(between(samples, 1.0, 2.0)) < 1e-3  # silence where the take has none
    assert rms(between(samples, 2.0, 3.5)) > 0.3
    # The third take's sound starts on its first frame (2.0 s), within one audio frame.
    assert abs(onset(samples, 1.5) - 2.0) <= AUDIO_FRAME


def test_clips_that_differ_are_re_encoded_and_their_sound_stays_in_sync(
    db: Database, settings: Settings, http: httpx.Client, tmp_path: Path
) -> None:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    clips = [
        clip(tmp_path, "a", size=(256, 144)),  # no sound, another size
        clip(tmp_path, "b", sound=tone(440, 1.0)),
    ]
    path, method = cut(db, settings, http, auth, project_of(http, auth, clips), tmp_path)
    assert method == "normalized"
    info = ffmpeg.probe(path)
    assert info.audio_codec == "aac" and info.audio_seconds is not None
    assert abs(info.audio_seconds - info.duration) <= 1 / FPS
    samples = decode_audio(path)
    assert rms(between(samples, 0.0, 1.0)) < 1e-3
    assert abs(onset(samples, 0.0) - 1.0) <= AUDIO_FRAME


def test_a_music_bed_is_mixed_under_the_cut_at_its_level(
    db: Database, settings: Settings, http: httpx.Client, tmp_path: Path
) -> None:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project = project_of(http, auth, [clip(tmp_path, "a"), clip(tmp_path, "b")])
    bed = tmp_path / "bed.wav"
    ffmpeg.write_wav(tone(220, 5.0), RATE, bed)
    sent = http.post(f"/v1/projects/{project}/sounds", content=bed.read_bytes(), headers=auth)
    assert sent.status_code == 201, sent.text
    assert sent.json()["format"] == "wav" and abs(sent.json()["seconds"] - 5.0) < 0.01
    music = sent.json()["asset"]
    full = rms(tone(220, 1.0).T)  # the bed as recorded
    for body, gain in (
        ({"music_level_db": -12}, 10 ** (-12 / 20)),
        ({"music_level_percent": 50}, 0.5),
    ):
        path, _ = cut(db, settings, http, auth, project, tmp_path, music_asset_id=music, **body)
        info = ffmpeg.probe(path)
        assert info.audio_seconds is not None and abs(info.audio_seconds - 2.0) <= 1 / FPS
        level = rms(between(decode_audio(path), 0.0, 2.0))
        assert abs(level - full * gain) <= 0.05 * full * gain, (body, level, full * gain)


def test_music_and_levels_are_checked_before_anything_is_queued(
    db: Database, http: httpx.Client, tmp_path: Path
) -> None:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project = project_of(http, auth, [clip(tmp_path, "a")])
    url = f"/v1/projects/{project}/rough_cut"
    alone = http.post(url, json={"music_level_db": -6}, headers=auth)
    assert alone.status_code == 422 and "needs a music file" in alone.json()["message"]
    other = make_workspace(db)
    other_auth = bearer(make_api_key(db, other.owner, other))
    other_project = project_of(http, other_auth, [clip(tmp_path, "x")])
    bed = tmp_path / "bed.wav"
    ffmpeg.write_wav(tone(220, 1.0), RATE, bed)
    theirs = http.post(
        f"/v1/projects/{other_project}/sounds", content=bed.read_bytes(), headers=other_auth
    ).json()["asset"]
    foreign = http.post(url, json={"music_asset_id": theirs}, headers=auth)
    assert foreign.status_code == 404, foreign.text
    with db.session_scope() as session:
        video = session.scalar(
            select(Asset.id).where(Asset.kind == "video", Asset.workspace_id == team.id)
        )
    assert video is not None
    not_sound = http.post(url, json={"music_asset_id": video}, headers=auth)
    assert not_sound.status_code == 422 and "not a sound file" in not_sound.json()["message"]
    mine = http.post(f"/v1/projects/{project}/sounds", content=bed.read_bytes(), headers=auth)
    both = http.post(
        url,
        json={
            "music_asset_id": mine.json()["asset"],
            "music_level_db": -6,
            "music_level_percent": 20,
        },
        headers=auth,
    )
    assert both.status_code == 422 and "not both" in both.json()["message"]
    junk = http.post(f"/v1/projects/{project}/sounds", content=b"not a sound" * 10, headers=auth)
    assert junk.status_code == 422 and "not a sound file" in junk.json()["message"]
    assert http.get(f"/v1/projects/{project}/rough_cuts", headers=auth).json() == []
