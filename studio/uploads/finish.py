"""Finishing a direct upload: probe it from the store and make what it was for.

Run by the web right after `complete` for small files, and by a cpu-queue
job (`PROBE_UPLOAD`, the job kind `JOB_KIND` registers) for large ones. No transaction
is open while the file is fetched, probed and its poster made (in a sandboxed
child; a video whose poster cannot be made is kept without one); an upload
not in `checking` is left alone, so running it twice is harmless. A refused
file is deleted from the store and the upload says why (and a poster already
stored for it is deleted with the transaction that rolls back).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.accounts.models import User
from studio.config import Settings
from studio.db.base import utcnow
from studio.errors import InvalidInput, NotFound, StudioError
from studio.generation import kinds
from studio.jams import entries
from studio.jams.clock import fixed_clock
from studio.media import ffmpeg
from studio.media import service as media
from studio.media.storage import ObjectMissing, Storage
from studio.projects import references, takes
from studio.uploads.models import Upload, UploadPurpose, UploadStatus
from studio.uploads.service import NOT_FOUND, PROBE_UPLOAD

log = logging.getLogger(__name__)


def finish_upload(
    session_factory: Callable[[], Any], storage: Storage, settings: Settings, upload_id: int
) -> UploadStatus:
    """Probe a completed upload from the store and make what it was for.

    No transaction is open while the file is fetched and probed. Idempotent:
    an upload not in `checking` is left alone.
    """
    with session_factory() as session:
        upload = session.get(Upload, upload_id)
        if upload is None or upload.status is not UploadStatus.CHECKING:
            return upload.status if upload else UploadStatus.FAILED
        purpose, key, jam_id = upload.purpose, upload.storage_key, upload.jam_id
    info: ffmpeg.Probe | None = None
    data: bytes | None = None
    poster: media.PosterImage | None = None
    try:
        size = storage.size(key)
        with storage.local_copy(key) as path:
            sha256 = media.sha256_of(path)
            if purpose is UploadPurpose.REFERENCE:
                data = path.read_bytes()  # at most max_upload_bytes: checked at start
            else:
                info = ffmpeg.probe(path)
                poster = media.poster_of_upload(path)  # sandboxed; None: kept without one
    except ObjectMissing:
        return _fail(session_factory, storage, upload_id, "upload_missing", "The file is gone.")
    except ffmpeg.MediaError as exc:
        code = "invalid_film" if purpose is UploadPurpose.JAM_FILM else "invalid_video"
        return _fail(session_factory, storage, upload_id, code, exc.message)
    try:
        with session_factory() as session:
            upload = session.scalar(select(Upload).where(Upload.id == upload_id).with_for_update())
            if upload is None or upload.status is not UploadStatus.CHECKING:
                return upload.status if upload else UploadStatus.FAILED
            actor = _actor_of(session, upload)
            if size != upload.size:
                raise InvalidInput("The stored file is not the size announced.", code="size")
            if purpose is UploadPurpose.REFERENCE:
                assert data is not None and upload.shot_id is not None
                shot = references.store_reference_image(
                    session,
                    actor,
                    upload.shot_id,
                    storage,
                    data,
                    max_bytes=settings.max_upload_bytes,
                    max_pixels=settings.max_image_pixels,
                    expected_version=upload.options.get("expected_version"),
                )
                upload.asset_id = shot.reference_asset_id
                with contextlib.suppress(Exception):  # the PNG copy is what is kept
                    storage.delete(key)
            else:
                assert info is not None
                asset = media.record_probed_video(
                    session,
                    workspace_id=upload.workspace_id,
                    key=key,
                    size=size,
                    sha256=sha256,
                    info=info,
                )
                upload.asset_id = asset.id
                folder = "uploads" if purpose is UploadPurpose.TAKE else "jam"
                media.keep_poster(session, storage, asset, poster, folder=folder)
                if purpose is UploadPurpose.TAKE:
                    assert upload.shot_id is not None
                    upload.take_id = takes.take_from_asset(session, actor, upload.shot_id, asset).id
                else:
                    assert jam_id is not None
                    entries.accept_uploaded_film(session, actor, jam_id, asset, info)
            upload.status = UploadStatus.READY
            upload.finished_at = utcnow()
            session.flush()
            pending = upload.options.get("entry")
            if pending is not None and jam_id is not None:
                upload.options = {
                    **upload.options,
                    "entry": _save_entry(session, actor, storage, jam_id, upload.asset_id, pending),
                }
    except StudioError as exc:
        return _fail(session_factory, storage, upload_id, exc.code, exc.message)
    return UploadStatus.READY


def _save_entry(
    session: Session,
    actor: Actor,
    storage: Storage,
    jam_id: int,
    asset_id: int | None,
    pending: dict[str, Any],
) -> dict[str, Any]:
    """The entry save attached at completion, dated then (the deadline rule's moment)."""
    at = datetime.fromisoformat(pending["attached_at"])
    values = entries.EntryInput(
        title=pending.get("title"),
        logline=pending.get("logline"),
        credits=pending.get("credits"),
        film_asset_id=asset_id,
        submit=bool(pending.get("submit", True)),
    )
    try:
        with session.begin_nested():
            saved = entries.put_entry(
                session,
                actor,
                entries.jam_slug(session, jam_id),
                values,
                storage=storage,
                clock=fixed_clock(at),
            )
    except StudioError as exc:
        return {**pending, "saved": False, "error": exc.message}
    return {**pending, "saved": True, "status": saved.status.value}


def _actor_of(session: Session, upload: Upload) -> Actor:
    user = session.get(User, upload.user_id)
    if user is None:
        raise NotFound(NOT_FOUND, code="upload_not_found")
    return Actor(user=user)


def _fail(
    session_factory: Callable[[], Any],
    storage: Storage,
    upload_id: int,
    code: str,
    message: str,
) -> UploadStatus:
    with session_factory() as session:
        upload = session.scalar(select(Upload).where(Upload.id == upload_id).with_for_update())
        if upload is None or upload.status is not UploadStatus.CHECKING:
            return upload.status if upload else UploadStatus.FAILED
        upload.status = UploadStatus.FAILED
        upload.error_code = code
        upload.error_message = message
        upload.finished_at = utcnow()
        key = upload.storage_key
    try:
        storage.delete(key)  # a refused file is not kept
    except Exception:
        log.warning("could not delete refused upload %s", key, exc_info=True)
    return UploadStatus.FAILED


def run_job(job: kinds.KindJob) -> None:
    """A large upload's check as a job kind: the upload records the outcome (ready,
    or failed and why); the job only says the check ran."""
    finish_upload(job.session_scope, job.storage, job.settings, int(job.params["upload_id"]))


JOB_KIND = kinds.JobKind(PROBE_UPLOAD, "cpu", run_job)
