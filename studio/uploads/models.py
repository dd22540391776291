"""Upload sessions: a presigned multipart upload into the store, and what it became."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from studio.db.base import Base, CreatedAtMixin, UTCDateTime, enum_column


class UploadPurpose(enum.StrEnum):
    TAKE = "take"  # an outside clip as a take of a shot
    REFERENCE = "reference"  # a shot's reference image
    JAM_FILM = "jam_film"  # a team's film for a jam entry


class UploadStatus(enum.StrEnum):
    UPLOADING = "uploading"  # parts are arriving in the store
    CHECKING = "checking"  # complete in the store; being probed
    READY = "ready"  # probed and kept: asset (and take / reference) made
    FAILED = "failed"  # refused by the checks; the object is gone
    ABORTED = "aborted"  # cancelled or expired; parts dropped


def _public_id() -> str:
    return uuid.uuid4().hex


class Upload(CreatedAtMixin, Base):
    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[UploadPurpose] = mapped_column(enum_column(UploadPurpose, "upload_purpose"))
    status: Mapped[UploadStatus] = mapped_column(enum_column(UploadStatus, "upload_status"))
    # What it is for: the shot (take, reference) or the jam (film).
    shot_id: Mapped[int | None] = mapped_column(ForeignKey("shots.id", ondelete="CASCADE"))
    jam_id: Mapped[int | None] = mapped_column(ForeignKey("jams.id", ondelete="CASCADE"))
    # Where the bytes go (server-made) and the store's own id for the multipart upload.
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    store_upload_id: Mapped[str] = mapped_column(String(1024))
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)  # declared; the store must agree
    part_bytes: Mapped[int] = mapped_column(Integer)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    probe_job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="SET NULL"))
    take_id: Mapped[int | None] = mapped_column(ForeignKey("takes.id", ondelete="SET NULL"))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
