"""Who sent each file in the pages' upload folder, and how much one person may send.

The pages' file inputs store uploads in one folder (Gradio's) for everyone.
Each stored file gets a row naming its owner, and only the owner may read it
back or hand it to a handler. Per person and sliding window, the number of
files and their bytes are capped: an upload first reserves its declared size
under a lock on the person's row, so parallel uploads cannot pass the limit
together; when it has arrived, the reservation becomes one row per file.

This module knows paths as strings only; the web edge (studio/ui/upload_guard.py)
stores, serves and sweeps the files.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from studio.accounts.models import User
from studio.errors import PayloadTooLarge, TooManyRequests
from studio.media.models import PageUpload, PageUploadKind


@dataclass(frozen=True)
class UploadLimits:
    max_files: int
    max_bytes: int
    window_seconds: int


def reserve_upload(
    session: Session, user_id: int, declared_bytes: int, limits: UploadLimits, *, now: datetime
) -> int:
    """Count an upload of `declared_bytes` against the person's window, or refuse it.

    Returns the reservation's id, for settle_upload / release_upload.
    Raises TooManyRequests (429) past the file count, PayloadTooLarge (413)
    past the bytes; both say when to try again.
    """
    _lock_person(session, user_id)
    count, used, oldest = _usage(session, user_id, limits, now=now)
    wait = _seconds_until_room(oldest, limits, now=now)
    window = _span(limits.window_seconds)
    if count >= limits.max_files:
        raise TooManyRequests(
            f"You have uploaded {limits.max_files} files in the last {window}, the most "
            f"allowed. Try again in {_span(wait)}.",
            retry_after=wait,
        )
    if declared_bytes > limits.max_bytes:
        raise PayloadTooLarge(
            f"This upload is {_size(declared_bytes)}; uploads are limited to "
            f"{_size(limits.max_bytes)} per {window}.",
            code="upload_quota",
        )
    if used + declared_bytes > limits.max_bytes:
        raise PayloadTooLarge(
            f"This upload is {_size(declared_bytes)}, and you have "
            f"{_size(max(0, limits.max_bytes - used))} left of the {_size(limits.max_bytes)} "
            f"you may upload per {window}. Try again in {_span(wait)}.",
            code="upload_quota",
        )
    row = PageUpload(
        user_id=user_id,
        kind=PageUploadKind.UPLOAD,
        path=None,
        bytes=declared_bytes,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def settle_upload(
    session: Session,
    reservation_id: int,
    files: Sequence[tuple[str, int]],
    limits: UploadLimits,
    *,
    now: datetime,
) -> TooManyRequests | None:
    """Turn a reservation into one row per stored file: (resolved path, bytes).

    Returns the refusal when the files would pass the count (one request may
    carry several): the reservation is dropped, nothing is recorded, and the
    caller removes the files nobody else owns (paths_with_owners), then
    answers with it.
    """
    reservation = session.get(PageUpload, reservation_id)
    if reservation is None:  # swept while it arrived (a TTL shorter than an upload)
        return TooManyRequests("The upload took too long; send it again.", retry_after=1)
    user_id = reservation.user_id
    _lock_person(session, user_id)
    session.delete(reservation)
    session.flush()
    count, _, oldest = _usage(session, user_id, limits, now=now)
    if count + len(files) > limits.max_files:
        wait = _seconds_until_room(oldest, limits, now=now)
        return TooManyRequests(
            f"This upload has {len(files)} files, more than the {limits.max_files - count} "
            f"you may still upload in the next {_span(wait)} "
            f"({limits.max_files} per {_span(limits.window_seconds)}).",
            retry_after=wait,
        )
    session.add_all(
        PageUpload(
            user_id=user_id, kind=PageUploadKind.UPLOAD, path=path, bytes=size, created_at=now
        )
        for path, size in files
    )
    session.flush()
    return None


def release_upload(session: Session, reservation_id: int) -> None:
    """The upload did not arrive (refused, broken off): it no longer counts."""
    session.execute(
        delete(PageUpload).where(PageUpload.id == reservation_id, PageUpload.path.is_(None))
    )


def record_output(session: Session, user_id: int, path: str, size: int, *, now: datetime) -> None:
    """A file the server made for this person (never counted against their uploads)."""
    session.add(
        PageUpload(
            user_id=user_id, kind=PageUploadKind.OUTPUT, path=path, bytes=size, created_at=now
        )
    )
    session.flush()


def is_owner(session: Session, user_id: int, path: str) -> bool:
    return bool(
        session.scalar(
            select(exists().where(PageUpload.user_id == user_id, PageUpload.path == path))
        )
    )


def paths_with_owners(session: Session, paths: Iterable[str]) -> set[str]:
    wanted = set(paths)
    if not wanted:
        return set()
    found = session.scalars(select(PageUpload.path).where(PageUpload.path.in_(wanted)))
    return {path for path in found if path is not None}


def forget_older_than(session: Session, cutoff: datetime) -> int:
    """Rows of files the sweep removes (and reservations left by a crash)."""
    result = session.execute(delete(PageUpload).where(PageUpload.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def _lock_person(session: Session, user_id: int) -> None:
    """One person's uploads are counted one at a time (see studio/jams/locks.py for
    why SQLite takes its write lock with a no-op UPDATE)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(User)
            .where(User.id == user_id)
            .values(id=User.id)
            .execution_options(synchronize_session=False)
        )
    else:
        session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


def _usage(
    session: Session, user_id: int, limits: UploadLimits, *, now: datetime
) -> tuple[int, int, datetime | None]:
    """Files, bytes and the oldest upload of this person inside the window."""
    since = now - timedelta(seconds=limits.window_seconds)
    count, used, oldest = session.execute(
        select(
            func.count(PageUpload.id),
            func.coalesce(func.sum(PageUpload.bytes), 0),
            func.min(PageUpload.created_at),
        ).where(
            PageUpload.user_id == user_id,
            PageUpload.kind == PageUploadKind.UPLOAD,
            PageUpload.created_at > since,
        )
    ).one()
    return int(count), int(used), oldest


def _seconds_until_room(oldest: datetime | None, limits: UploadLimits, *, now: datetime) -> int:
    """When the oldest upload leaves the window (something frees up then)."""
    if oldest is None:
        return 1
    leaves = oldest + timedelta(seconds=limits.window_seconds)
    return max(1, math.ceil((leaves - now).total_seconds()))


def _span(seconds: float) -> str:
    if seconds >= 3600:
        hours = seconds / 3600
        return f"{hours:.0f} h" if hours == int(hours) else f"{hours:.1f} h"
    if seconds >= 60:
        return f"{math.ceil(seconds / 60)} min"
    return f"{max(1, math.ceil(seconds))} s"


def _size(count: int) -> str:
    if count >= 1024**3:
        return f"{count / 1024**3:.1f} GB"
    if count >= 1024**2:
        return f"{count / 1024**2:.1f} MB"
    return f"{max(1, math.ceil(count / 1024))} KB"
