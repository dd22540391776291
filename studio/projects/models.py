"""Projects, scenes and shots: a production's shot list."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from studio.db.base import Base, CreatedAtMixin, UTCDateTime, enum_column


class ShotStatus(enum.StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    REVIEW = "review"
    APPROVED = "approved"
    OMITTED = "omitted"


class Project(CreatedAtMixin, Base):
    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_workspace_id_archived_at", "workspace_id", "archived_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(120))
    logline: Mapped[str] = mapped_column(Text, default="")
    default_ratio: Mapped[str] = mapped_column(String(20), default="1280:720")
    default_fps: Mapped[int] = mapped_column(Integer, default=24)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Scene(CreatedAtMixin, Base):
    __tablename__ = "scenes"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)  # SC01, SC02... never reused
    title: Mapped[str] = mapped_column(String(120), default="")


class Shot(CreatedAtMixin, Base):
    """A shot. Its code is given once and never changes, wherever the shot moves."""

    __tablename__ = "shots"
    __table_args__ = (
        UniqueConstraint("project_id", "code"),
        Index("ix_shots_project_id_position", "project_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)  # order in the project's shot list
    description: Mapped[str] = mapped_column(Text, default="")
    dialogue: Mapped[str] = mapped_column(Text, default="")
    camera_notes: Mapped[str] = mapped_column(Text, default="")
    prompt: Mapped[str] = mapped_column(Text, default="")
    negative_prompt: Mapped[str] = mapped_column(Text, default="")
    reference_asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    target_duration: Mapped[float | None] = mapped_column(Float)
    ratio: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[ShotStatus] = mapped_column(enum_column(ShotStatus, "shot_status"))
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The circled take. use_alter: shots and takes reference each other.
    selected_take_id: Mapped[int | None] = mapped_column(
        ForeignKey("takes.id", use_alter=True, name="fk_shots_selected_take_id_takes")
    )
    # Optimistic locking: an edit names the version it started from.
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # recoverable


class TakeLineage(enum.StrEnum):
    REROLL = "reroll"  # same settings, new seed
    VARIATION = "variation"  # same seed, edited prompt or settings
    EXTENSION = "extension"  # image_to_video from the parent's last frame


class Take(CreatedAtMixin, Base):
    """One attempt at a shot: a generation job's output, or an uploaded clip.

    Settings live on the job (params, model key); an upload has none.
    """

    __tablename__ = "takes"
    __table_args__ = (UniqueConstraint("shot_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shot_id: Mapped[int] = mapped_column(ForeignKey("shots.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # take 1, 2, 3... of this shot
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), unique=True)
    upload_asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    parent_take_id: Mapped[int | None] = mapped_column(ForeignKey("takes.id"))
    lineage: Mapped[TakeLineage | None] = mapped_column(enum_column(TakeLineage, "take_lineage"))
    favorite: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer)  # 1..5
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class RoughCut(CreatedAtMixin, Base):
    """A numbered version of a project's cut: the circled takes in shot order."""

    __tablename__ = "rough_cuts"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Comment(CreatedAtMixin, Base):
    """A note on a shot, or on one of its takes, optionally at a timecode.

    A comment may also move the shot to a new status ("approved", "needs
    another pass"); that change is recorded here so the thread explains it.
    """

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_shot_id_id", "shot_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    shot_id: Mapped[int] = mapped_column(ForeignKey("shots.id", ondelete="CASCADE"))
    take_id: Mapped[int | None] = mapped_column(ForeignKey("takes.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    timecode: Mapped[float | None] = mapped_column(Float)  # seconds into the take
    status_change: Mapped[ShotStatus | None] = mapped_column(
        enum_column(ShotStatus, "comment_status_change")
    )
    mentions: Mapped[list[int]] = mapped_column(JSON, default=list)  # user ids
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Activity(CreatedAtMixin, Base):
    """One line of a project's activity feed ("Ana circled take 3 of SC01-SH020").

    Separate from the audit log: this is for the team to read, it names
    shots and takes, and it may be trimmed; the audit log is for admins and
    is append-only.
    """

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_project_id_id", "project_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verb: Mapped[str] = mapped_column(String(40))  # "take.created", "comment.added"...
    shot_id: Mapped[int | None] = mapped_column(ForeignKey("shots.id", ondelete="CASCADE"))
    take_id: Mapped[int | None] = mapped_column(ForeignKey("takes.id", ondelete="CASCADE"))
    summary: Mapped[str] = mapped_column(String(300))
