"""Assets: every stored file (outputs, posters, uploaded references); page uploads."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from studio.db.base import Base, CreatedAtMixin, UTCDateTime, enum_column


class Asset(CreatedAtMixin, Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # video | image | poster | reference
    # A server-made key under the media root; never a user's file name.
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    mime: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    fps: Mapped[float | None] = mapped_column(Float)
    frame_count: Mapped[int | None] = mapped_column(Integer)
    # Known for videos we probed: lets a rough cut decide on stream copy without re-probing.
    codec: Mapped[str | None] = mapped_column(String(32))
    pix_fmt: Mapped[str | None] = mapped_column(String(32))
    # Sound: True/False for videos probed since sound was recorded; None for older rows
    # (probe again to know). audio_codec: the first audio track's codec.
    has_audio: Mapped[bool | None] = mapped_column(Boolean)
    audio_codec: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    # An uploaded video's poster (its first keyframe as a JPEG), made when it was kept;
    # None for everything else (generated videos' posters are on their jobs) and for
    # uploads whose poster could not be made.
    poster_asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))


class PageUploadKind(enum.StrEnum):
    UPLOAD = "upload"  # sent by the person through a page's file input
    OUTPUT = "output"  # made by the server for them to download (a CSV export)


class PageUpload(Base):
    """A file in the pages' upload folder (Gradio's), and whose it is.

    Gradio keeps every page upload in one folder and would serve or hand any
    of them to anyone who names its path; these rows say who sent (or was
    given) each file, so only they can read it back or pass it to a handler.
    A row with no path is an upload still arriving: it already counts
    against its sender's window, so parallel uploads cannot pass the limit.
    """

    __tablename__ = "page_uploads"
    __table_args__ = (Index("ix_page_uploads_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[PageUploadKind] = mapped_column(enum_column(PageUploadKind, "page_upload_kind"))
    # The file's resolved path on the web machine; None while the upload arrives.
    path: Mapped[str | None] = mapped_column(String(1024), index=True)
    bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
