"""Sound files of a project: voice-over and temp music for an animatic clip, or a
bed laid under a whole rough cut.

An upload is probed in the sandbox (sniffed container, forced demuxer, time
and memory caps) before it is kept; the demuxer found is recorded with the
asset (its `codec` column) so every later read forces it again.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.accounts.models import Role
from studio.db.session import on_rollback
from studio.errors import InvalidInput
from studio.generation.context import Generation
from studio.media import ffmpeg, sandbox, sounds
from studio.media import service as media
from studio.media.models import Asset
from studio.projects import service as projects

SOUND_KIND = media.SOUND_KIND
MUSIC_DEFAULT_DB = -12.0  # a bed under dialogue, unless a level is given


def upload_sound(
    session: Session, actor: Actor, project_id: int, gen: Generation, data: bytes
) -> Asset:
    """Keep an uploaded sound file (WAV, MP3, FLAC, OGG, M4A, WebM) in the project's workspace."""
    project = projects.get_project(session, actor, project_id, Role.EDITOR)
    if not data:
        raise InvalidInput("The upload is empty.", code="empty_upload")
    if len(data) > gen.settings.max_upload_bytes:
        raise InvalidInput(
            f"Sound files are limited to {gen.settings.max_upload_bytes // (1024 * 1024)} MB.",
            code="upload_too_large",
        )
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "sound"
        path.write_bytes(data)
        try:
            info = sandbox.probe_sound_isolated(path)  # untrusted: time and memory capped
        except ffmpeg.MediaError as exc:
            raise InvalidInput(exc.message, code="invalid_sound") from None
    key = (
        f"ws{project.workspace_id}/sounds/{uuid.uuid4().hex}{sounds.SUFFIX_BY_FORMAT[info.format]}"
    )
    gen.storage.write_bytes(key, data)
    on_rollback(session, lambda: gen.storage.delete(key))
    asset = media.record_stored(
        session,
        workspace_id=project.workspace_id,
        key=key,
        kind=SOUND_KIND,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        duration=info.seconds,
        codec=info.format,
        audio_codec=info.codec,
        has_audio=True,
    )
    asset.mime = sounds.MIME_BY_FORMAT[info.format]
    session.flush()
    return asset


def sound_for(session: Session, actor: Actor, workspace_id: int, asset_id: int) -> Asset:
    """A sound file of this workspace that `actor` may use; NotFound otherwise."""
    return media.sound_asset_for(session, actor, workspace_id, asset_id)


def level_db_of(db: float | None, percent: float | None, default: float) -> float:
    """A bed's level from dB or 0-100 % (at most one); `default` when neither is given."""
    if db is None and percent is None:
        return default
    try:
        return sounds.gain_db(db=db, percent=percent)
    except ValueError as exc:
        raise InvalidInput(f"Music level: {exc}.", code="invalid_level") from None


def music_option(
    session: Session,
    actor: Actor,
    workspace_id: int,
    asset_id: int | None,
    level_db: float | None,
    level_percent: float | None,
) -> dict[str, Any] | None:
    """A rough cut's bed: a sound file of the project's workspace and its level in dB."""
    if asset_id is None:
        if level_db is not None or level_percent is not None:
            raise InvalidInput(
                "A music level needs a music file: choose one.", code="level_without_music"
            )
        return None
    asset = sound_for(session, actor, workspace_id, asset_id)
    gain = level_db_of(level_db, level_percent, default=MUSIC_DEFAULT_DB)
    return {"asset_id": asset.id, "gain_db": round(gain, 3)}
