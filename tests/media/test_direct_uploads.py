"""Direct uploads on the embedded default (the local folder): the web app serves
the part URLs itself, so the client code is the same as with S3. The S3 path
runs in tests/multihost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from studio.config import Settings
from studio.db.session import Database
from studio.errors import Conflict
from studio.media import ffmpeg
from studio.media.storage import MIN_PART_BYTES
from studio.uploads.models import Upload
from tests import upload_client as uc
from tests.factories import bearer, make_api_key, make_user, make_workspace
from tests.jams.helpers import film_bytes, make_jam, register


def clip(tmp_path: Path, frames: int = 24, pad_to: int = 0) -> bytes:
    path = tmp_path / "clip.mp4"
    ramp = np.linspace(0, 255, frames, dtype=np.uint8)[:, None, None, None]
    ffmpeg.encode_mp4(np.broadcast_to(ramp, (frames, 96, 128, 3)).copy(), 24, path)
    return clip_of_size(path.read_bytes(), pad_to)


def clip_of_size(data: bytes, size: int) -> bytes:
    """A real MP4 made `size` bytes long with a trailing 'free' box (a multi-part upload)."""
    if size > len(data):
        filler = size - len(data)
        data += filler.to_bytes(4, "big") + b"free" + b"\0" * (filler - 8)
    return data


@pytest.fixture
def shot(db: Database, http: httpx.Client):  # type: ignore[no-untyped-def]
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project = http.post("/v1/projects", json={"title": "Uploads"}, headers=auth).json()
    made = http.post(
        f"/v1/projects/{project['id']}/shots", json={"description": "A"}, headers=auth
    ).json()
    return team, auth, made


def test_a_take_goes_to_the_store_and_plays_back(
    db: Database, http: httpx.Client, shot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _, auth, made = shot
    data = clip(tmp_path, pad_to=MIN_PART_BYTES + 100_000)  # over the test server's 1 MB limit
    too_big = http.post(
        "/v1/uploads",
        json={
            "purpose": "take",
            "shot_id": made["id"],
            "size": len(data),
            "content_type": "video/mp4",
        },
        headers=auth,
    )
    assert too_big.status_code == 413 and too_big.json()["error"] == "payload_too_large"
    small = clip(tmp_path)
    state = uc.upload(
        http, auth, small, purpose="take", shot_id=made["id"], content_type="video/mp4"
    )
    assert state["status"] == "ready", state
    takes = http.get(f"/v1/shots/{made['id']}/takes", headers=auth).json()
    assert [t["id"] for t in takes] == [state["take_id"]] and takes[0]["uploaded"] is True
    played = http.get(takes[0]["output"])
    assert played.status_code == 200 and played.content == small


def test_resuming_after_a_lost_part(db: Database, http: httpx.Client, shot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, auth, made = shot
    data = clip(tmp_path)
    upload = uc.start(
        http, auth, purpose="take", shot_id=made["id"], size=len(data), content_type="video/mp4"
    )
    assert upload["part_count"] == 1 and upload["received"] == []
    early = uc.complete(http, auth, upload["id"])
    assert early.status_code == 409 and early.json()["error"] == "upload_incomplete"
    uc.put_parts(http, auth, upload, data)
    again = http.get(f"/v1/uploads/{upload['id']}", headers=auth).json()
    assert [p["number"] for p in again["received"]] == [1]
    done = uc.complete(http, auth, upload["id"])  # parts taken from what the store has
    assert done.status_code == 200 and done.json()["status"] == "ready", done.text


def test_hostile_uploads_are_refused_and_leave_nothing(
    db: Database, settings: Settings, http: httpx.Client, shot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _, auth, made = shot
    base = {"purpose": "take", "shot_id": made["id"], "content_type": "video/mp4"}
    bad_type = http.post(
        "/v1/uploads", json={**base, "size": 10, "content_type": "text/html"}, headers=auth
    )
    assert bad_type.status_code == 422 and bad_type.json()["error"] == "unsupported_type"
    # An HLS playlist dressed as MP4 is refused by the probe, and removed from the store.
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n"
    state = uc.upload(http, auth, playlist, **base)
    assert state["status"] == "failed" and state["error"] == "invalid_video", state
    assert "/" not in (state["message"] or "").replace("MP4, MOV", "")
    with db.session_scope() as session:
        row = session.scalar(select(Upload).where(Upload.public_id == state["id"]))
        assert row is not None
        key = row.storage_key
    assert not (Path(settings.media_path) / key).exists()
    # Someone else cannot see, complete or abort it; nor upload to a shot not theirs.
    other = make_workspace(db)
    them = bearer(make_api_key(db, other.owner, other))
    assert http.get(f"/v1/uploads/{state['id']}", headers=them).status_code == 404
    assert http.delete(f"/v1/uploads/{state['id']}", headers=them).status_code == 404
    assert http.post("/v1/uploads", json={**base, "size": 10}, headers=them).status_code == 404
    # A part URL with a bad signature, or a part larger than agreed, is refused.
    upload = uc.start(http, auth, **base, size=100)
    url = http.post(
        f"/v1/uploads/{upload['id']}/parts", json={"numbers": [1]}, headers=auth
    ).json()["urls"]["1"]
    assert httpx.put(url.replace("sig=", "sig=0"), content=b"x" * 100).status_code == 403
    assert httpx.put(url, content=b"x" * (upload["part_size"] + 1)).status_code == 413
    assert http.get("/v1/uploads", headers=auth).status_code in (404, 405)
    assert http.post("/v1/uploads", json={**base, "size": 10}).status_code == 401
    aborted = http.delete(f"/v1/uploads/{upload['id']}", headers=auth).json()
    assert aborted["status"] == "aborted"
    assert httpx.put(url, content=b"x" * 100).status_code == 409


def test_a_jam_film_is_dated_when_its_completed_upload_is_attached(
    db: Database, http: httpx.Client
) -> None:
    now = datetime.now(UTC)
    slug, _ = make_jam(
        db,
        registration_opens_at=now - timedelta(hours=5),
        registration_closes_at=now - timedelta(hours=2),
        kickoff_at=now - timedelta(hours=1),
    )
    captain = make_user(db, "captain")
    team = register(db, slug, captain, when=now - timedelta(hours=4))
    from tests.factories import WorkspaceInfo

    auth = bearer(make_api_key(db, captain, WorkspaceInfo(team.workspace_id, "", captain)))
    # Two parts over HTTP (the web app's own part route), sent in parallel.
    film = clip_of_size(film_bytes(), MIN_PART_BYTES + 50_000)
    state = uc.upload(
        http,
        auth,
        film,
        purpose="jam_film",
        jam=slug,
        content_type="video/mp4",
        entry={"title": "Night Swim", "submit": True},
    )
    assert state["status"] == "ready", state
    assert state["entry"]["saved"] is True and state["entry"]["status"] == "submitted", state
    entry = http.get(f"/v1/jams/{slug}/entry", headers=auth).json()
    assert entry["status"] == "submitted" and entry["title"] == "Night Swim"
    attached = datetime.fromisoformat(state["entry"]["attached_at"])
    assert datetime.fromisoformat(entry["submitted_at"]) == attached


def test_expired_uploads_are_refused_and_their_parts_dropped(
    db: Database, settings: Settings, http: httpx.Client, shot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _, auth, made = shot
    data = clip(tmp_path)
    base = {"purpose": "take", "shot_id": made["id"], "content_type": "video/mp4"}
    stale = uc.start(http, auth, **base, size=len(data))
    uc.put_parts(http, auth, stale, data)
    with db.session_scope() as session:
        row = session.scalar(select(Upload).where(Upload.public_id == stale["id"]))
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        staging = Path(settings.media_path) / ".uploads" / row.store_upload_id
    assert staging.is_dir()
    late = uc.complete(http, auth, stale["id"])
    assert late.status_code == 409 and late.json()["error"] == "upload_expired"
    uc.start(http, auth, **base, size=len(data))  # someone starts another: the stale one goes
    assert http.get(f"/v1/uploads/{stale['id']}", headers=auth).json()["status"] == "aborted"
    assert not staging.exists()


def test_a_film_attached_before_the_deadline_counts_even_if_checked_after(
    db: Database, settings: Settings
) -> None:
    """The deadline rule judges the moment the completed upload is attached: a check
    that finishes after the deadline does not make the team late."""
    from studio.jams.clock import fixed_clock
    from studio.jams.models import Entry, EntryStatus, Jam
    from studio.media.storage import LocalStorage
    from studio.queue import Dispatcher
    from studio.uploads import finish
    from studio.uploads import service as uploads
    from tests.jams.helpers import actor

    now = datetime.now(UTC)
    deadline = now - timedelta(minutes=1)  # already past when the check runs below
    slug, _ = make_jam(
        db,
        registration_opens_at=now - timedelta(hours=5),
        registration_closes_at=now - timedelta(hours=2),
        kickoff_at=now - timedelta(hours=1),
        deadline_at=deadline,
        grace_seconds=0,
    )
    captain = make_user(db, "captain")
    register(db, slug, captain, when=now - timedelta(hours=4))
    storage = LocalStorage(settings.media_path)
    film = film_bytes()

    class NoDispatch(Dispatcher):
        def dispatch(self, queue: str, job_public_id: str) -> None:
            raise AssertionError("a small film is checked inline")

    def attach(at: datetime) -> tuple[int, bool]:
        with db.session_scope() as session:
            me = actor(session, captain)
            upload = uploads.start_upload(
                session,
                me,
                storage,
                settings,
                purpose="jam_film",
                size=len(film),
                content_type="video/mp4",
                jam=slug,
            )
            storage.write_part(
                upload.storage_key, upload.store_upload_id, 1, [film], max_bytes=len(film)
            )
            done, inline = uploads.complete_upload(
                session,
                me,
                storage,
                NoDispatch(),
                settings,
                upload.public_id,
                entry={"title": "Just in time", "submit": True},
                clock=fixed_clock(at),
            )
            return done.id, inline

    # Attached a second after the deadline: refused at once, nothing saved.
    with pytest.raises(Conflict):
        attach(deadline + timedelta(seconds=1))
    # Attached a second before it: checked now (after the deadline), still on time.
    upload_id, inline = attach(deadline - timedelta(seconds=1))
    assert inline
    assert finish.finish_upload(db.session_scope, storage, settings, upload_id).value == "ready"
    with db.session_scope() as session:
        entry = session.scalars(select(Entry).join(Jam).where(Jam.slug == slug)).one()
        assert entry.status is EntryStatus.SUBMITTED and entry.title == "Just in time"
        assert entry.submitted_at == deadline - timedelta(seconds=1)
