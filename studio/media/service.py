"""Assets: record stored files, check who may see them; the store this host uses."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.orm import Session

from studio.accounts.access import Actor, require_role
from studio.config import Settings
from studio.db.session import on_rollback
from studio.errors import InvalidInput, NotFound
from studio.media import ffmpeg, sandbox
from studio.media.models import Asset
from studio.media.storage import Storage
from studio.media.stores import open_storage

log = logging.getLogger(__name__)

MIME_BY_SUFFIX = {
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}


def build_storage(settings: Settings) -> Storage:
    """The media store these settings name (the local folder by default)."""
    return open_storage(
        settings.storage_url,
        media_dir=settings.media_path,
        endpoint_url=settings.s3_endpoint_url,
        public_endpoint_url=settings.s3_public_endpoint_url,
        region=settings.s3_region,
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mime_for(key: str) -> str:
    return MIME_BY_SUFFIX.get(PurePosixPath(key).suffix, "application/octet-stream")


def record_stored(
    session: Session,
    *,
    workspace_id: int,
    key: str,
    kind: str,
    size: int,
    sha256: str,
    width: int | None = None,
    height: int | None = None,
    duration: float | None = None,
    fps: float | None = None,
    frame_count: int | None = None,
    codec: str | None = None,
    pix_fmt: str | None = None,
    audio_codec: str | None = None,
    has_audio: bool | None = None,
) -> Asset:
    """An asset row for an object already in the store, whose size and hash the writer knows."""
    asset = Asset(
        workspace_id=workspace_id,
        kind=kind,
        storage_key=key,
        mime=mime_for(key),
        bytes=size,
        width=width,
        height=height,
        duration=duration,
        fps=fps,
        frame_count=frame_count,
        codec=codec,
        pix_fmt=pix_fmt,
        audio_codec=audio_codec,
        has_audio=has_audio,
        sha256=sha256,
    )
    session.add(asset)
    session.flush()
    return asset


def record_file(
    session: Session,
    storage: Storage,
    *,
    workspace_id: int,
    key: str,
    kind: str,
    width: int | None = None,
    height: int | None = None,
    duration: float | None = None,
    fps: float | None = None,
    frame_count: int | None = None,
    codec: str | None = None,
    pix_fmt: str | None = None,
    sha256: str | None = None,
) -> Asset:
    """An asset row for an object already in the store at `key`.

    `sha256`: the object's hash when the writer computed it from the bytes it
    wrote (saves reading the object again); hashed here from a copy otherwise.
    """
    if sha256 is None:
        with storage.local_copy(key) as path:
            sha256 = sha256_of(path)
    return record_stored(
        session,
        workspace_id=workspace_id,
        key=key,
        kind=kind,
        size=storage.size(key),
        sha256=sha256,
        width=width,
        height=height,
        duration=duration,
        fps=fps,
        frame_count=frame_count,
        codec=codec,
        pix_fmt=pix_fmt,
    )


def write_reference(
    session: Session,
    storage: Storage,
    *,
    workspace_id: int,
    key: str,
    png_bytes: bytes,
    width: int,
    height: int,
) -> Asset:
    """Store an uploaded reference image (already decoded and re-encoded as PNG)."""
    storage.write_bytes(key, png_bytes)
    on_rollback(session, lambda: storage.delete(key))
    return record_stored(
        session,
        workspace_id=workspace_id,
        key=key,
        kind="reference",
        size=len(png_bytes),
        sha256=hashlib.sha256(png_bytes).hexdigest(),
        width=width,
        height=height,
    )


def get_asset(session: Session, actor: Actor, asset_id: int) -> Asset:
    asset = session.get(Asset, asset_id)
    if asset is None:
        raise NotFound("No such asset in this workspace.", code="asset_not_found")
    try:
        require_role(session, actor, asset.workspace_id)
    except NotFound:
        raise NotFound("No such asset in this workspace.", code="asset_not_found") from None
    return asset


def image_asset_for_reference(
    session: Session, actor: Actor, workspace_id: int, asset_id: int
) -> Asset:
    asset = get_asset(session, actor, asset_id)
    if asset.workspace_id != workspace_id:
        raise NotFound("No such asset in this workspace.", code="asset_not_found")
    if not asset.mime.startswith("image/"):
        raise InvalidInput("That asset is not an image.", code="asset_not_image")
    return asset


SOUND_KIND = "audio"
SOUND_NOT_FOUND = "No such sound file in this workspace."


def sound_asset_for(session: Session, actor: Actor, workspace_id: int, asset_id: int) -> Asset:
    """A sound file (uploaded to a project of this workspace) that `actor` may use."""
    try:
        asset = get_asset(session, actor, asset_id)
    except NotFound:
        raise NotFound(SOUND_NOT_FOUND, code="sound_not_found") from None
    if asset.workspace_id != workspace_id:
        raise NotFound(SOUND_NOT_FOUND, code="sound_not_found")
    if asset.kind != SOUND_KIND or not asset.codec:
        raise InvalidInput(
            "That file is not a sound file: upload one to POST /v1/projects/{id}/sounds first.",
            code="not_a_sound",
        )
    return asset


def keep_uploaded_video(
    session: Session,
    storage: Storage,
    *,
    workspace_id: int,
    folder: str,
    data: bytes,
    info: ffmpeg.Probe,
) -> Asset:
    """Store an uploaded clip that `info` (its probe) already accepted, and record it.

    The file is removed again if the transaction rolls back. WebM keeps its
    own container; everything the allow-list admits otherwise is MP4/MOV.
    """
    key = video_key(workspace_id, folder, info)
    storage.write_bytes(key, data)
    on_rollback(session, lambda: storage.delete(key))
    return record_probed_video(
        session,
        workspace_id=workspace_id,
        key=key,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        info=info,
    )


def keep_uploaded_video_file(
    session: Session,
    storage: Storage,
    *,
    workspace_id: int,
    folder: str,
    path: Path,
    info: ffmpeg.Probe,
) -> Asset:
    """`keep_uploaded_video` for a clip already on disk (a film of up to 2 GiB):
    copied or uploaded from the file, never read into memory."""
    key = video_key(workspace_id, folder, info)
    storage.put_file(key, path)
    on_rollback(session, lambda: storage.delete(key))
    return record_probed_video(
        session,
        workspace_id=workspace_id,
        key=key,
        size=path.stat().st_size,
        sha256=sha256_of(path),
        info=info,
    )


def video_key(workspace_id: int, folder: str, info: ffmpeg.Probe | None = None) -> str:
    """A fresh key for an uploaded video; WebM keeps its container, the rest is MP4/MOV."""
    webm = info is not None and info.format_name.startswith("matroska")
    return f"ws{workspace_id}/{folder}/{uuid.uuid4().hex}{'.webm' if webm else '.mp4'}"


def record_probed_video(
    session: Session, *, workspace_id: int, key: str, size: int, sha256: str, info: ffmpeg.Probe
) -> Asset:
    asset = record_stored(
        session,
        workspace_id=workspace_id,
        key=key,
        kind="video",
        size=size,
        sha256=sha256,
        width=info.width,
        height=info.height,
        duration=info.duration,
        fps=info.fps,
        frame_count=info.frames,
        codec=info.codec,
        pix_fmt=info.pix_fmt,
        **sound_of(info),
    )
    if info.format_name.startswith("matroska"):
        asset.mime = "video/webm"
    return asset


def sound_of(info: ffmpeg.Probe | None) -> dict[str, Any]:
    """The sound fields of a video asset from its probe (None: not a video)."""
    if info is None:
        return {}
    return {"has_audio": info.has_audio, "audio_codec": info.audio_codec}


# ---------------------------------------------------------------- upload posters

POSTER_WIDTH = 640  # the largest poster width, as generated takes' and rough cuts' posters
POSTER_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class PosterImage:
    """An uploaded video's poster, made but not yet stored: JPEG bytes and their size."""

    data: bytes
    width: int
    height: int


def poster_of_upload(path: Path) -> PosterImage | None:
    """The first keyframe of an uploaded (already probed) video as a JPEG poster, made in
    a child process with the probe's memory cap and a time limit; None (logged) when it
    cannot be made: an upload is never refused for want of a poster."""
    try:
        with tempfile.TemporaryDirectory(prefix="studio-poster-") as scratch:
            dest = Path(scratch) / "poster.jpg"
            width, height = sandbox.poster_isolated(
                path, dest, max_width=POSTER_WIDTH, timeout=POSTER_TIMEOUT_SECONDS
            )
            return PosterImage(dest.read_bytes(), width, height)
    except (ffmpeg.MediaError, OSError) as exc:
        log.warning("no poster for an uploaded video: %s", getattr(exc, "message", exc))
        return None


def keep_poster(
    session: Session,
    storage: Storage,
    video: Asset,
    poster: PosterImage | None,
    *,
    folder: str,
) -> Asset | None:
    """Store an uploaded video's poster next to it (any store: local or S3), record it
    as a `poster` asset and link it to the video (`video.poster_asset_id`), in the
    session's transaction: the file is removed again if that rolls back. None when
    there is no poster, or the store refuses it (logged; the upload stands)."""
    if poster is None:
        return None
    key = f"ws{video.workspace_id}/{folder}/{uuid.uuid4().hex}-poster.jpg"
    try:
        storage.write_bytes(key, poster.data)
    except Exception:
        log.warning("could not store an uploaded video's poster %s", key, exc_info=True)
        return None
    on_rollback(session, lambda: storage.delete(key))
    asset = record_stored(
        session,
        workspace_id=video.workspace_id,
        key=key,
        kind="poster",
        size=len(poster.data),
        sha256=hashlib.sha256(poster.data).hexdigest(),
        width=poster.width,
        height=poster.height,
    )
    video.poster_asset_id = asset.id
    session.flush()
    return asset
