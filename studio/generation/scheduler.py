"""Fair, atomic job claiming, leases, the reaper and the sweeper.

The jobs table is the queue. Redis messages (or the in-process runner's
wake-ups) only say "there may be work": whoever wakes claims the next job
by the fair-share rules below, so a flood from one workspace cannot starve
another, whatever order the messages arrive in.

Fair share: among workspaces with queued work in this worker's queues and
room under their concurrency cap and GPU-seconds quota, the one served least
recently goes first; inside it, the user served least recently; inside that,
a job for a model this worker has warm, then the oldest.

Claiming is one conditional UPDATE (status still 'queued'), atomic on every
backend. On Postgres the workspace row is locked FOR NO KEY UPDATE SKIP
LOCKED first, so two workers cannot both take a workspace's last free slot.
NO KEY: a plain FOR UPDATE would also collide with the key-share locks that
every insert referencing the workspace takes (a job, an asset, an audit
event), and a claimer would skip a busy workspace for no reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.orm import Session

from studio.accounts.models import Workspace
from studio.db.base import utcnow
from studio.generation.models import Job, JobStatus

WORKER_LOST = "worker_lost"


def pairs(rows: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
    # Not dict(result): a SQLAlchemy Result has .keys(), so dict() misreads it as a mapping.
    return {key: value for key, value in rows}


@dataclass(frozen=True)
class Claim:
    job_id: int
    public_id: str
    attempt: int


def _running_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Job.workspace_id, func.count())
        .where(Job.status == JobStatus.RUNNING)
        .group_by(Job.workspace_id)
    ).tuples()
    return {ws: int(n) for ws, n in rows}


def _gpu_seconds_used(session: Session, workspace_ids: Iterable[int]) -> dict[int, float]:
    rows = session.execute(
        select(Job.workspace_id, func.coalesce(func.sum(Job.gpu_seconds), 0.0))
        .where(Job.status == JobStatus.SUCCEEDED, Job.workspace_id.in_(list(workspace_ids)))
        .group_by(Job.workspace_id)
    ).tuples()
    return {ws: float(s) for ws, s in rows}


def has_room(workspace: Workspace, running: int, gpu_used: float) -> bool:
    if running >= workspace.max_concurrent_jobs:
        return False
    quota = workspace.gpu_seconds_quota
    return quota is None or gpu_used < quota


def throttled_workspaces(session: Session) -> set[int]:
    """Workspaces whose queued jobs must wait (cap or quota reached): shown as THROTTLED."""
    queued_ws = set(
        session.scalars(select(Job.workspace_id).where(Job.status == JobStatus.QUEUED).distinct())
    )
    if not queued_ws:
        return set()
    running = _running_counts(session)
    used = _gpu_seconds_used(session, queued_ws)
    workspaces = session.scalars(select(Workspace).where(Workspace.id.in_(queued_ws)))
    return {
        ws.id for ws in workspaces if not has_room(ws, running.get(ws.id, 0), used.get(ws.id, 0.0))
    }


def claim_next(
    session: Session,
    *,
    queues: Sequence[str],
    worker_id: str,
    lease_seconds: float,
    warm_models: Iterable[str] = (),
    models: Iterable[str] | None = None,
) -> Claim | None:
    """Claim the fairest runnable job, or None. Commit right after (short transaction).

    `models`: the model keys this worker can run (its registry); other jobs are
    left for workers that have them.
    """
    now = utcnow()
    runnable = [Job.status == JobStatus.QUEUED, Job.queue.in_(queues), Job.deleted_at.is_(None)]
    if models is not None:
        runnable.append(Job.model_key.in_(list(models)))
    waiting = select(Job.workspace_id).where(*runnable).distinct()
    workspace_ids = list(session.scalars(waiting))
    if not workspace_ids:
        return None
    last_served = pairs(
        session.execute(
            select(Job.workspace_id, func.max(Job.started_at))
            .where(Job.workspace_id.in_(workspace_ids))
            .group_by(Job.workspace_id)
        ).tuples()
    )
    # Never served first, then least recently served; ties by id for stability.
    order = sorted(
        workspace_ids,
        key=lambda ws: (last_served.get(ws) is not None, _ts(last_served.get(ws)), ws),
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    warm = list(warm_models)
    for workspace_id in order:
        query = select(Workspace).where(Workspace.id == workspace_id)
        if postgres:
            query = query.with_for_update(skip_locked=True, key_share=True)
        workspace = session.scalar(query)
        if workspace is None:  # another worker is claiming here right now
            continue
        running = _running_counts(session).get(workspace_id, 0)
        used = _gpu_seconds_used(session, [workspace_id]).get(workspace_id, 0.0)
        if not has_room(workspace, running, used):
            continue
        job_id = _pick_job(session, workspace_id, runnable, warm)
        if job_id is None:
            continue
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
            .values(
                status=JobStatus.RUNNING,
                worker_id=worker_id,
                attempts=Job.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                progress=0.0,
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            row = session.execute(select(Job.public_id, Job.attempts).where(Job.id == job_id)).one()
            return Claim(job_id, row.public_id, int(row.attempts))
    return None


def _pick_job(
    session: Session,
    workspace_id: int,
    runnable: list[ColumnElement[bool]],
    warm: list[str],
) -> int | None:
    """The next job of the least recently served user, warm models first.

    No row lock here: the workspace lock already serializes claimers, and
    SKIP LOCKED on the job would hide it whenever the sweeper is touching it
    (its dispatched_at), leaving the job to wait for the next message.
    The claim's conditional UPDATE simply waits for such a writer.
    """
    base = (Job.workspace_id == workspace_id, *runnable)
    user_ids = list(session.scalars(select(Job.user_id).where(*base).distinct()))
    last_by_user = pairs(
        session.execute(
            select(Job.user_id, func.max(Job.started_at))
            .where(Job.workspace_id == workspace_id, Job.user_id.in_(user_ids))
            .group_by(Job.user_id)
        ).tuples()
    )
    for user_id in sorted(
        user_ids, key=lambda u: (last_by_user.get(u) is not None, _ts(last_by_user.get(u)), u)
    ):
        warm_first = case((Job.model_key.in_(warm), 0), else_=1) if warm else None
        query = select(Job.id).where(*base, Job.user_id == user_id)
        query = query.order_by(*(o for o in (warm_first, Job.id) if o is not None)).limit(1)
        job_id = session.scalar(query)
        if job_id is not None:
            return int(job_id)
    return None


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0


# ---------------------------------------------------------------- while running


def heartbeat(
    session: Session,
    job_id: int,
    worker_id: str,
    lease_seconds: float,
    progress: float | None = None,
) -> bool:
    """Extend the lease (and record progress). False: the job is no longer ours."""
    now = utcnow()
    values: dict[str, object] = {
        "heartbeat_at": now,
        "lease_expires_at": now + timedelta(seconds=lease_seconds),
    }
    if progress is not None:
        values["progress"] = progress
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == JobStatus.RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


# ---------------------------------------------------------------- maintenance


def reap_expired(session: Session) -> list[str]:
    """Requeue running jobs whose worker stopped heartbeating; fail them after max attempts.

    Returns the public ids requeued (to be re-sent after commit).
    """
    now = utcnow()
    expired = session.scalars(
        select(Job).where(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now)
    ).all()
    requeued = []
    for job in expired:
        guard = (Job.id == job.id, Job.status == JobStatus.RUNNING, Job.lease_expires_at < now)
        if job.cancel_requested:
            values: dict[str, object] = {"status": JobStatus.CANCELED, "finished_at": now}
        elif job.attempts >= job.max_attempts:
            values = {
                "status": JobStatus.FAILED,
                "finished_at": now,
                "error_code": WORKER_LOST,
                "error_message": (
                    f"The worker running this job stopped responding {job.attempts} times "
                    "(a crash or running out of memory). Try a smaller size or a shorter "
                    "duration, or ask an admin to check the GPU workers."
                ),
            }
        else:
            values = {
                "status": JobStatus.QUEUED,
                "worker_id": None,
                "lease_expires_at": None,
                "progress": 0.0,
                "dispatched_at": None,
            }
        done = session.execute(
            update(Job).where(*guard).values(**values).execution_options(synchronize_session=False)
        )
        if done.rowcount == 1 and values["status"] == JobStatus.QUEUED:  # type: ignore[attr-defined]
            requeued.append(job.public_id)
    return requeued


def requeue_workers_jobs(session: Session, worker_ids: Iterable[str]) -> list[str]:
    """At start-up: jobs a dead process of ours was running go back to the queue now."""
    ids = list(worker_ids)
    if not ids:
        return []
    now = utcnow()
    jobs = session.scalars(
        select(Job).where(Job.status == JobStatus.RUNNING, Job.worker_id.in_(ids))
    ).all()
    for job in jobs:
        job.lease_expires_at = now - timedelta(seconds=1)
    session.flush()
    return reap_expired(session)


def due_for_dispatch(
    session: Session, resend_after_seconds: float, limit: int = 500
) -> list[tuple[str, str]]:
    """Queued jobs never sent, or sent long ago with no worker taking them (a lost
    message, a flushed Redis): mark them sent now and return (queue, public id)."""
    now = utcnow()
    cutoff = now - timedelta(seconds=resend_after_seconds)
    rows = session.execute(
        select(Job.id, Job.queue, Job.public_id)
        .where(
            Job.status == JobStatus.QUEUED,
            Job.deleted_at.is_(None),
            (Job.dispatched_at.is_(None)) | (Job.dispatched_at < cutoff),
        )
        .order_by(Job.id)
        .limit(limit)
    ).all()
    if rows:
        session.execute(
            update(Job)
            .where(Job.id.in_([r.id for r in rows]))
            .values(dispatched_at=now)
            .execution_options(synchronize_session=False)
        )
    return [(r.queue, r.public_id) for r in rows]
