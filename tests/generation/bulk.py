"""Test helpers for scheduler state at scale: bulk rows, statement counts, recounts."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, event, func, insert, select, update
from sqlalchemy.engine import Engine

from studio.accounts.models import Workspace
from studio.db.base import utcnow
from studio.db.session import Database
from studio.generation.models import Job, JobStatus, SchedulerLane, SchedulerWorkspace


@dataclass
class Statements:
    """SQL statements an engine ran inside a `counting` block."""

    sql: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sql)


@contextmanager
def counting(engine: Engine) -> Iterator[Statements]:
    seen = Statements()

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.sql.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def add_workspaces(
    db: Database, count: int, *, quota: int | None = None, share: int = 2
) -> list[int]:
    """Workspaces made in one statement (no members: the scheduler needs none)."""
    tag = secrets.token_hex(3)
    rows = [
        {
            "slug": f"bulk-{tag}-{i}",
            "name": f"Bulk {tag} {i}",
            "max_concurrent_jobs": share,
            "gpu_seconds_quota": quota,
        }
        for i in range(count)
    ]
    with db.session_scope() as session:
        session.execute(insert(Workspace), rows)
        return list(
            session.scalars(
                select(Workspace.id)
                .where(Workspace.slug.like(f"bulk-{tag}-%"))
                .order_by(Workspace.id)
            )
        )


def add_jobs(
    db: Database,
    workspace_ids: list[int],
    user_id: int,
    queue: str,
    *,
    per_workspace: int = 1,
    status: JobStatus = JobStatus.QUEUED,
    gpu_seconds: float = 0.0,
    model: str = "m1",
) -> None:
    """Jobs in one executemany (the triggers keep the counters, row by row)."""
    now = utcnow()
    finished = status.finished
    rows = [
        {
            "public_id": secrets.token_hex(16),
            "workspace_id": ws,
            "user_id": user_id,
            "queue": queue,
            "model_key": model,
            "mode": "text_to_video",
            "params": {},
            "status": status,
            "progress": 1.0 if finished else 0.0,
            "cancel_requested": False,
            "attempts": 1 if finished else 0,
            "max_attempts": 2,
            "gpu_seconds": gpu_seconds,
            "timings": {},
            "started_at": now - timedelta(minutes=5) if finished else None,
            "finished_at": now - timedelta(minutes=4) if finished else None,
        }
        for ws in workspace_ids
        for _ in range(per_workspace)
    ]
    with db.session_scope() as session:
        session.execute(insert(Job), rows)


def remove_workspaces(db: Database, workspace_ids: list[int]) -> None:
    with db.session_scope() as session:
        for start in range(0, len(workspace_ids), 500):
            chunk = workspace_ids[start : start + 500]
            session.execute(delete(Job).where(Job.workspace_id.in_(chunk)))
            session.execute(delete(Workspace).where(Workspace.id.in_(chunk)))


def recount(db: Database, workspace_ids: list[int]) -> tuple[dict[int, tuple], dict[int, tuple]]:
    """(kept counters, counters recomputed from the jobs) per workspace."""
    with db.session_scope() as session:
        kept = {
            r.workspace_id: (r.running, round(r.gpu_seconds_used, 3), r.last_served_at, r.queued)
            for r in session.execute(
                select(
                    SchedulerWorkspace.workspace_id,
                    SchedulerWorkspace.running,
                    SchedulerWorkspace.gpu_seconds_used,
                    SchedulerWorkspace.last_served_at,
                    select(func.coalesce(func.sum(SchedulerLane.queued), 0))
                    .where(SchedulerLane.workspace_id == SchedulerWorkspace.workspace_id)
                    .scalar_subquery()
                    .label("queued"),
                ).where(SchedulerWorkspace.workspace_id.in_(workspace_ids))
            )
        }
        truth = {}
        for ws in workspace_ids:
            jobs = session.scalars(select(Job).where(Job.workspace_id == ws)).all()
            if not jobs:
                continue
            started = [j.started_at for j in jobs if j.started_at is not None]
            truth[ws] = (
                sum(j.status == JobStatus.RUNNING for j in jobs),
                round(sum(j.gpu_seconds for j in jobs if j.status == JobStatus.SUCCEEDED), 3),
                max(started) if started else None,
                sum(j.status == JobStatus.QUEUED and j.deleted_at is None for j in jobs),
            )
    return kept, truth


def close_queue(db: Database, queue: str) -> None:
    """End a test's leftover jobs, so later tests' workers see no work in its queue."""
    with db.session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.queue == queue, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
            .values(status=JobStatus.CANCELED)
        )
