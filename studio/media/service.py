"""Assets: record stored files, check who may see them."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from studio.accounts.access import Actor, require_role
from studio.db.session import on_rollback
from studio.errors import InvalidInput, NotFound
from studio.media import ffmpeg
from studio.media.models import Asset
from studio.media.storage import Storage

MIME_BY_SUFFIX = {".mp4": "video/mp4", ".png": "image/png", ".jpg": "image/jpeg"}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
    """An asset row for a file already written at `key`.

    `sha256`: the file's hash when the writer computed it from the bytes it
    wrote (saves reading the file again); hashed here otherwise.
    """
    path = storage.path_for(key)
    asset = Asset(
        workspace_id=workspace_id,
        kind=kind,
        storage_key=key,
        mime=MIME_BY_SUFFIX.get(path.suffix, "application/octet-stream"),
        bytes=path.stat().st_size,
        width=width,
        height=height,
        duration=duration,
        fps=fps,
        frame_count=frame_count,
        codec=codec,
        pix_fmt=pix_fmt,
        sha256=sha256 or sha256_of(path),
    )
    session.add(asset)
    session.flush()
    return asset


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
    return record_file(
        session,
        storage,
        workspace_id=workspace_id,
        key=key,
        kind="reference",
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
    webm = info.format_name.startswith("matroska")
    key = f"ws{workspace_id}/{folder}/{uuid.uuid4().hex}{'.webm' if webm else '.mp4'}"
    storage.write_bytes(key, data)
    on_rollback(session, lambda: storage.delete(key))
    asset = record_file(
        session,
        storage,
        workspace_id=workspace_id,
        key=key,
        kind="video",
        width=info.width,
        height=info.height,
        duration=info.duration,
        fps=info.fps,
        frame_count=info.frames,
        codec=info.codec,
        pix_fmt=info.pix_fmt,
    )
    if webm:
        asset.mime = "video/webm"
    return asset
