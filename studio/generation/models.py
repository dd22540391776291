"""Jobs: the source of truth for every generation, whatever Redis knows."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from studio.db.base import Base, CreatedAtMixin, UTCDateTime, enum_column


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
# Partial indexes cover only waiting jobs: the claim and queue positions read
# these, never the whole history. Queries spell the same literal condition
# (a bound parameter would keep the planner from proving the index applies).
WAITING_SQL = "status = 'queued' AND deleted_at IS NULL"
QUEUED_ONLY = text(WAITING_SQL)


def new_public_id() -> str:
    return uuid.uuid4().hex


class Job(CreatedAtMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("workspace_id", "idempotency_key"),
        Index("ix_jobs_status_queue_finished_at", "status", "queue", "finished_at"),
        Index("ix_jobs_workspace_id_created_at", "workspace_id", "created_at"),
        Index(
            "ix_jobs_queued_by_user",
            "workspace_id",
            "queue",
            "user_id",
            "id",
            postgresql_where=QUEUED_ONLY,
            sqlite_where=QUEUED_ONLY,
        ),
        Index(
            "ix_jobs_queued_by_model",
            "workspace_id",
            "user_id",
            "model_key",
            "id",
            postgresql_where=QUEUED_ONLY,
            sqlite_where=QUEUED_ONLY,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    queue: Mapped[str] = mapped_column(String(16))  # gpu | cpu
    model_key: Mapped[str] = mapped_column(String(80))
    mode: Mapped[str] = mapped_column(String(32))
    # Everything the engine is asked, resolved: prompt, size, frames, seed, steps...
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus, "job_status"))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    worker_id: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # hidden, files kept
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    gpu_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # Where a finished job's time went: load_s, generate_s, encode_s (benchmarks, tuning).
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    reference_asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    output_asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    poster_asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))


# ---------------------------------------------------------------- scheduler state
#
# What the fair order needs, kept small and current by database triggers on
# `jobs` (migration 0007_scheduler), so every path that changes a job (claim,
# finish, cancel, reaper, a rough cut's insert, an operator's SQL) keeps them
# right in its own transaction. Read through primary keys and the partial
# index on waiting lanes; never recomputed from job history.


class SchedulerWorkspace(Base):
    """Per workspace: jobs running now, GPU seconds used (successes), last claim."""

    __tablename__ = "scheduler_workspaces"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    running: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    gpu_seconds_used: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    last_served_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


WAITING_ONLY = text("queued > 0")


class SchedulerLane(Base):
    """Per workspace, queue and model: how many jobs wait there."""

    __tablename__ = "scheduler_lanes"
    __table_args__ = (
        Index(
            "ix_scheduler_lanes_waiting",
            "queue",
            "model_key",
            "workspace_id",
            postgresql_where=WAITING_ONLY,
            sqlite_where=WAITING_ONLY,
        ),
    )

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    queue: Mapped[str] = mapped_column(String(16), primary_key=True)
    model_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    queued: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SchedulerUser(Base):
    """Per member of a workspace who has submitted: when a job of theirs last started."""

    __tablename__ = "scheduler_users"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_served_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Worker(Base):
    """A worker process that said it is alive (its maintenance loop, every few
    seconds, and its job watcher while a job runs)."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)  # runner.make_worker_id
    queues: Mapped[str] = mapped_column(String(200))  # ",gpu,cpu,"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The worker promises its next report before then (a few of its own
    # intervals), so readers need not know how each worker is configured.
    alive_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class QueueSnapshot(Base):
    """The fair order of one queue, as one worker last saw it (every few seconds).

    Queue positions and start estimates read this one row instead of the
    whole farm: `workspace_order` holds the waiting (not throttled)
    workspaces' ids in claim order, `order_keys` their sort keys and
    `order_sizes` how many jobs each has waiting; `lane_sizes` sums those up
    as [[jobs waiting, workspaces], ...].
    """

    __tablename__ = "queue_snapshots"

    queue: Mapped[str] = mapped_column(String(16), primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    workspace_order: Mapped[list[int]] = mapped_column(JSON, default=list)
    order_keys: Mapped[list[float]] = mapped_column(JSON, default=list)
    order_sizes: Mapped[list[int]] = mapped_column(JSON, default=list)
    lane_sizes: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    mean_run_seconds: Mapped[float | None] = mapped_column(Float)
