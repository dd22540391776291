"""Direct uploads: the bytes go from the client straight into the media store.

1. `start_upload` checks who is asking and the size against the limit for the
   purpose (a take, a shot's reference image, a jam film), then opens a
   multipart upload in the store and records it.
2. `part_urls` hands out presigned PUT URLs for parts (S3), or signed URLs of
   the web app's own part route (the local folder): the client code is the
   same. Parts go in parallel and in any order; `received_parts` asks the
   store what arrived, so a client that lost its place resumes.
3. `complete_upload` checks the parts add up to the declared size, has the
   store join them and marks the upload `checking`. A jam film may be
   attached to the team's entry here: the deadline is judged now, by the
   database clock, and the entry is saved with this time once the film passes
   its checks (`finish_upload`), so a long probe never makes a team late.
4. `finish.finish_upload` fetches the object into scratch, probes it with today's
   checks (allow-listed demuxers, file protocol only, decodes; images with
   byte and pixel caps) and makes what it was for. Small files are finished
   by the web right away; large ones by a cpu-queue job (`PROBE_UPLOAD`).
   A refused file is deleted from the store; the upload says why.

The web process never holds an upload's body.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.accounts.access import Actor, require_role
from studio.accounts.models import Role
from studio.config import Settings
from studio.db.base import utcnow
from studio.db.session import on_rollback
from studio.errors import Conflict, InvalidInput, NotFound, StudioError
from studio.generation import service as jobs
from studio.jams import entries
from studio.jams.clock import Clock, db_clock
from studio.media import signing
from studio.media.storage import MAX_PARTS, MIN_PART_BYTES, Storage, StorageError
from studio.projects import takes
from studio.queue import Dispatcher
from studio.uploads.models import Upload, UploadPurpose, UploadStatus

log = logging.getLogger(__name__)

PROBE_UPLOAD = "probe_upload"  # the cpu-queue job kind that finishes a large upload
NOT_FOUND = "No such upload."
VIDEO_TYPES = {
    "video/mp4": ".mp4",
    "video/quicktime": ".mp4",
    "video/webm": ".webm",
    "video/x-matroska": ".webm",
}
IMAGE_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


@dataclass(frozen=True)
class UploadView:
    id: str
    purpose: str
    status: str
    size: int
    part_bytes: int
    part_count: int
    expires_at: datetime
    asset_id: int | None
    take_id: int | None
    error_code: str | None
    error_message: str | None
    entry: dict[str, Any] | None  # the entry save waiting for this film, and its outcome


def view(upload: Upload) -> UploadView:
    return UploadView(
        id=upload.public_id,
        purpose=upload.purpose.value,
        status=upload.status.value,
        size=upload.size,
        part_bytes=upload.part_bytes,
        part_count=part_count(upload.size, upload.part_bytes),
        expires_at=upload.expires_at,
        asset_id=upload.asset_id,
        take_id=upload.take_id,
        error_code=upload.error_code,
        error_message=upload.error_message,
        entry=upload.options.get("entry"),
    )


def part_count(size: int, part_bytes: int) -> int:
    return max(1, math.ceil(size / part_bytes))


def _part_bytes(size: int, wanted: int) -> int:
    """The configured part size, raised where needed to stay within 10,000 parts."""
    return max(MIN_PART_BYTES, wanted, math.ceil(size / MAX_PARTS))


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


# ---------------------------------------------------------------- start


def start_upload(
    session: Session,
    actor: Actor,
    storage: Storage,
    settings: Settings,
    *,
    purpose: str,
    size: int,
    content_type: str,
    shot_id: int | None = None,
    jam: str | None = None,
    expected_version: int | None = None,
) -> Upload:
    try:
        kind = UploadPurpose(purpose)
    except ValueError:
        raise InvalidInput(
            "purpose must be take, reference or jam_film.", code="invalid_purpose"
        ) from None
    mime = (content_type or "").split(";")[0].strip().lower()
    jam_id = None
    if kind is UploadPurpose.JAM_FILM:
        if not jam:
            raise InvalidInput("Name the jam (its slug) for a film upload.", code="jam_required")
        jam_id, workspace_id, limit = entries.check_film_upload(session, actor, jam)
        suffixes = VIDEO_TYPES
    else:
        if shot_id is None:
            raise InvalidInput("Name the shot for this upload.", code="shot_required")
        workspace_id = takes.check_take_upload(session, actor, shot_id)
        limit = settings.max_upload_bytes
        suffixes = VIDEO_TYPES if kind is UploadPurpose.TAKE else IMAGE_TYPES
    if mime not in suffixes:
        allowed = "MP4, MOV, WebM or MKV" if suffixes is VIDEO_TYPES else "PNG, JPEG or WebP"
        raise InvalidInput(f"This upload takes {allowed} files.", code="unsupported_type")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidInput("The upload is empty.", code="empty_upload")
    if size > limit:
        raise UploadTooLarge(f"The file is larger than {_mb(limit)}, the limit here.")
    _abort_expired(session, storage, workspace_id)
    public_id = uuid.uuid4().hex
    key = f"ws{workspace_id}/uploads/{public_id}/original{suffixes[mime]}"
    store_id = storage.create_upload(key, mime)
    # Rolled back: drop the store's half of it too.
    on_rollback(session, lambda: storage.abort_upload(key, store_id))
    upload = Upload(
        public_id=public_id,
        workspace_id=workspace_id,
        user_id=actor.user_id,
        purpose=kind,
        status=UploadStatus.UPLOADING,
        shot_id=shot_id if kind is not UploadPurpose.JAM_FILM else None,
        jam_id=jam_id,
        storage_key=key,
        store_upload_id=store_id,
        mime=mime,
        size=size,
        part_bytes=_part_bytes(size, settings.upload_part_bytes),
        options={"expected_version": expected_version} if expected_version is not None else {},
        expires_at=utcnow() + timedelta(hours=settings.upload_expire_hours),
    )
    session.add(upload)
    session.flush()
    return upload


def _abort_expired(session: Session, storage: Storage, workspace_id: int, limit: int = 20) -> None:
    """Drop the parts of this workspace's uploads that expired unfinished (a few at a time,
    whenever someone there starts a new one); a bucket lifecycle rule is the backstop."""
    stale = session.scalars(
        select(Upload)
        .where(
            Upload.workspace_id == workspace_id,
            Upload.status == UploadStatus.UPLOADING,
            Upload.expires_at < utcnow(),
        )
        .limit(limit)
    ).all()
    for upload in stale:
        try:
            storage.abort_upload(upload.storage_key, upload.store_upload_id)
        except Exception:  # the store is unreachable: try again next time
            log.warning("could not abort expired upload %s", upload.public_id, exc_info=True)
            continue
        upload.status = UploadStatus.ABORTED
        upload.finished_at = utcnow()
        upload.error_code = "upload_expired"


class UploadTooLarge(StudioError):
    status = 413
    code = "payload_too_large"


def deadline_in_seconds(session: Session, upload: Upload) -> float | None:
    """For a jam film still uploading: seconds left until the jam's deadline (database
    clock), so the page can warn that a large upload must finish before it."""
    if upload.jam_id is None or upload.status is not UploadStatus.UPLOADING:
        return None
    return entries.seconds_to_deadline(session, upload.jam_id)


# ---------------------------------------------------------------- parts


def get_upload(session: Session, actor: Actor, public_id: str, *, lock: bool = False) -> Upload:
    """The person's own upload (still a member of its workspace); 404 for anyone else's."""
    query = select(Upload).where(Upload.public_id == str(public_id)[:32])
    if lock:
        query = query.with_for_update()
    upload = session.scalar(query)
    if upload is None or upload.user_id != actor.user_id:
        raise NotFound(NOT_FOUND, code="upload_not_found")
    try:
        require_role(session, actor, upload.workspace_id, Role.EDITOR)
    except NotFound:
        raise NotFound(NOT_FOUND, code="upload_not_found") from None
    return upload


def _uploading(upload: Upload) -> None:
    if upload.status is not UploadStatus.UPLOADING:
        raise Conflict(
            f"This upload is {upload.status.value}; start a new one to send parts.",
            code="upload_closed",
        )
    if upload.expires_at < utcnow():
        raise Conflict("This upload has expired; start a new one.", code="upload_expired")


def part_urls(
    session: Session,
    actor: Actor,
    storage: Storage,
    public_id: str,
    numbers: list[int],
    *,
    secret: str,
    base_url: str,
    ttl: int,
) -> dict[int, str]:
    """Where to PUT each part: presigned store URLs, or the web app's signed part route."""
    upload = get_upload(session, actor, public_id)
    _uploading(upload)
    count = part_count(upload.size, upload.part_bytes)
    if not numbers or len(numbers) > 100:
        raise InvalidInput("Ask for 1 to 100 part URLs at a time.", code="invalid_parts")
    urls: dict[int, str] = {}
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= count:
            raise InvalidInput(f"Part numbers go from 1 to {count}.", code="invalid_parts")
        url = storage.part_url(upload.storage_key, upload.store_upload_id, number, expires_in=ttl)
        if url is None:
            path = signing.signed_part_path(
                upload.public_id, number, secret, now=utcnow().timestamp(), ttl=ttl
            )
            url = base_url.rstrip("/") + path
        urls[number] = url
    return urls


def received_parts(storage: Storage, upload: Upload) -> list[dict[str, Any]]:
    if upload.status is not UploadStatus.UPLOADING:
        return []
    try:
        parts = storage.list_parts(upload.storage_key, upload.store_upload_id)
    except StorageError:
        return []
    return [{"number": p.number, "size": p.size, "etag": p.etag} for p in parts]


@dataclass(frozen=True)
class PartTarget:
    key: str
    store_upload_id: str
    max_bytes: int


def part_target(session: Session, public_id: str, number: int) -> PartTarget:
    """Where the web app's own part route writes (the signed URL is the permission)."""
    upload = session.scalar(select(Upload).where(Upload.public_id == str(public_id)[:32]))
    if upload is None:
        raise NotFound(NOT_FOUND, code="upload_not_found")
    _uploading(upload)
    if not 1 <= number <= part_count(upload.size, upload.part_bytes):
        raise InvalidInput("No such part in this upload.", code="invalid_parts")
    return PartTarget(upload.storage_key, upload.store_upload_id, upload.part_bytes)


# ---------------------------------------------------------------- complete


def complete_upload(
    session: Session,
    actor: Actor,
    storage: Storage,
    dispatcher: Dispatcher,
    settings: Settings,
    public_id: str,
    *,
    parts: list[tuple[int, str]] | None = None,
    entry: dict[str, Any] | None = None,
    clock: Clock = db_clock,
) -> tuple[Upload, bool]:
    """Join the parts in the store -> (upload, whether the caller should finish it now).

    `parts`: (number, ETag) pairs as the client saw them; None takes what the
    store received. `entry`: for a jam film, the entry save (title, logline,
    credits, submit) to make with this film, dated now.
    """
    upload = get_upload(session, actor, public_id, lock=True)
    _uploading(upload)
    received = storage.list_parts(upload.storage_key, upload.store_upload_id)
    sizes = {p.number: p for p in received}
    if parts is None:
        parts = [(p.number, p.etag) for p in received]
    total = sum(sizes[n].size for n, _ in parts if n in sizes)
    missing = [n for n, _ in parts if n not in sizes]
    if missing or total != upload.size:
        raise Conflict(
            f"The store has {total} of {upload.size} bytes"
            + (f" (missing parts {', '.join(map(str, missing[:10]))})" if missing else "")
            + ": send the missing parts, then complete again.",
            code="upload_incomplete",
        )
    if entry is not None:
        upload.options = {
            **upload.options,
            "entry": _entry_attach(session, actor, upload, entry, clock),
        }
    try:
        storage.complete_upload(upload.storage_key, upload.store_upload_id, parts)
    except StorageError as exc:
        log.warning("completing upload %s failed: %s", upload.public_id, exc)
        raise Conflict(
            "The store could not join the parts (a part changed or is too small); send them again.",
            code="upload_incomplete",
        ) from None
    upload.status = UploadStatus.CHECKING
    upload.completed_at = utcnow()
    inline = upload.size <= settings.upload_probe_inline_bytes
    if not inline:
        job = jobs.submit_kind_job(
            session,
            dispatcher,
            kind=PROBE_UPLOAD,
            queue="cpu",
            workspace_id=upload.workspace_id,
            user_id=actor.user_id,
            params={"upload_id": upload.id},
            max_attempts=settings.job_max_attempts,
        )
        upload.probe_job_id = job.id
    session.flush()
    return upload, inline


def _entry_attach(
    session: Session, actor: Actor, upload: Upload, entry: dict[str, Any], clock: Clock
) -> dict[str, Any]:
    """Date the entry save by the database clock now; refuse now if it is already too late."""
    if upload.purpose is not UploadPurpose.JAM_FILM or upload.jam_id is None:
        raise InvalidInput("Only a jam film can be attached to an entry.", code="not_a_film")
    allowed = {"title", "logline", "credits", "submit"}
    unknown = set(entry) - allowed
    if unknown:
        raise InvalidInput(f"Unknown entry fields: {', '.join(sorted(unknown))}.", code="invalid")
    at = entries.attach_time(session, actor, upload.jam_id, clock=clock)
    return {**{k: entry[k] for k in allowed if k in entry}, "attached_at": at.isoformat()}


def abort_upload(session: Session, actor: Actor, storage: Storage, public_id: str) -> Upload:
    upload = get_upload(session, actor, public_id, lock=True)
    if upload.status is UploadStatus.UPLOADING:
        storage.abort_upload(upload.storage_key, upload.store_upload_id)
        upload.status = UploadStatus.ABORTED
        upload.finished_at = utcnow()
        session.flush()
    return upload
