"""Why a queued job waits, and roughly when it will start: cheap enough for
every task read and every page of tasks.

A read looks at the job's own workspace (its state row, its waiting jobs in
the job's queue, through a partial index), the live workers (one row each)
and the queue's snapshot (one row; see farm.py). Never the whole farm.

Queue position follows the claim order (scheduler.py): workspaces take turns
by least recently served, and inside a workspace its members take turns. A
job with k of its workspace's jobs ahead of it starts after those k, after
up to k jobs of every other waiting workspace (fewer if they run out), and
after one more from each workspace ahead of its own in the order. The
snapshot is a few seconds old at most, so the figure is an estimate that
moves with the farm, not a promise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal_column, select
from sqlalchemy.orm import Session

from studio.accounts.models import Workspace
from studio.db.base import utcnow
from studio.generation import farm
from studio.generation.models import Job, JobStatus, SchedulerUser, SchedulerWorkspace

# Why a queued job has not started. THROTTLED (Runway's word) = quota or cap.
NO_WORKER = "worker"  # no live worker serves its queue
QUOTA = "quota"  # the workspace used its GPU seconds
CONCURRENCY = "concurrency"  # the workspace runs as many jobs as its hard cap allows
TURN = "turn"  # in line: other jobs go first by the fair order
THROTTLED = (QUOTA, CONCURRENCY)

# The literal the partial indexes on waiting jobs are defined with (a bound
# parameter would keep the planner from using them).
_WAITING = and_(Job.status == literal_column("'queued'"), Job.deleted_at.is_(None))


@dataclass(frozen=True)
class Wait:
    reason: str
    position: int | None  # jobs that start before this one, by the fair order
    estimated_start_at: datetime | None
    workers: int  # live workers serving the job's queue

    @property
    def throttled(self) -> bool:
        return self.reason in THROTTLED


def waits(session: Session, jobs: Sequence[Job]) -> dict[int, Wait]:
    """Job id -> Wait, for the queued jobs among `jobs`."""
    queued = [j for j in jobs if j.status == JobStatus.QUEUED and j.deleted_at is None]
    if not queued:
        return {}
    now = utcnow()
    state = {
        row.workspace_id: row
        for row in session.execute(
            select(
                Workspace.id.label("workspace_id"),
                Workspace.max_concurrent_jobs,
                Workspace.concurrent_jobs_cap,
                Workspace.gpu_seconds_quota,
                SchedulerWorkspace.running,
                SchedulerWorkspace.gpu_seconds_used,
                SchedulerWorkspace.last_served_at,
            )
            .join(SchedulerWorkspace, SchedulerWorkspace.workspace_id == Workspace.id, isouter=True)
            .where(Workspace.id.in_({j.workspace_id for j in queued}))
        )
    }
    live = farm.live_workers(session)
    groups: dict[tuple[int, str], list[Job]] = {}
    for job in queued:
        groups.setdefault((job.workspace_id, job.queue), []).append(job)
    keys = {
        (queue, ws): farm.order_key(
            (state[ws].running or 0) >= state[ws].max_concurrent_jobs, state[ws].last_served_at
        )
        for ws, queue in groups
    }
    places = farm.places(session, [(q, ws, key) for (q, ws), key in keys.items()])
    found: dict[int, Wait] = {}
    for (workspace_id, queue), members in groups.items():
        row = state[workspace_id]
        workers = live.get(queue, 0)
        running, used = row.running or 0, row.gpu_seconds_used or 0.0
        if workers == 0:
            reason = NO_WORKER
        elif row.gpu_seconds_quota is not None and used >= row.gpu_seconds_quota:
            reason = QUOTA
        elif row.concurrent_jobs_cap is not None and running >= row.concurrent_jobs_cap:
            reason = CONCURRENCY
        else:
            reason = TURN
        if reason in THROTTLED:
            for job in members:
                found[job.id] = Wait(reason, None, None, workers)
            continue
        ahead_inside = _ahead_in_workspace(session, workspace_id, queue, members)
        place = places.get((queue, workspace_id))
        for job in members:
            inside = ahead_inside.of(job)
            position = inside + (place.jobs_before(inside) if place else 0)
            start = None
            if workers and place and place.mean_run_seconds is not None:
                start = now + timedelta(seconds=position * place.mean_run_seconds / workers)
            found[job.id] = Wait(reason, position, start, workers)
    return found


@dataclass(frozen=True)
class _Inside:
    """A workspace's waiting jobs in one queue: per member, how many and in what turn."""

    totals: dict[int, int]  # user -> jobs waiting
    user_order: list[int]  # users in turn order (least recently served first)
    rank: dict[int, int]  # job id -> its user's jobs ahead of it

    def of(self, job: Job) -> int:
        """Jobs of this workspace that start before `job`: members take turns."""
        mine = self.rank.get(job.id, 0)
        before = self.user_order.index(job.user_id) if job.user_id in self.user_order else 0
        total = mine
        for i, user in enumerate(self.user_order):
            if user != job.user_id:
                total += min(self.totals[user], mine + (1 if i < before else 0))
        return total


def _ahead_in_workspace(
    session: Session, workspace_id: int, queue: str, members: Sequence[Job]
) -> _Inside:
    """This workspace's waiting jobs in `queue`, read through the partial index:
    one query for a single job, two for a page."""
    lane = (Job.workspace_id == workspace_id, Job.queue == queue, _WAITING)
    per_user: list[Any] = [Job.user_id, func.count(), SchedulerUser.last_served_at]
    if len(members) == 1:  # its own user's jobs before it, counted alongside
        per_user.append(func.count().filter(Job.id < members[0].id))
    rows: Sequence[Any] = session.execute(
        select(*per_user)
        .join(
            SchedulerUser,
            (SchedulerUser.workspace_id == Job.workspace_id)
            & (SchedulerUser.user_id == Job.user_id),
            isouter=True,
        )
        .where(*lane)
        .group_by(Job.user_id, SchedulerUser.last_served_at)
    ).all()
    totals = {int(r[0]): int(r[1]) for r in rows}
    user_order = [
        int(r[0])
        for r in sorted(rows, key=lambda r: (r[2] is not None, r[2] or datetime.min, r[0]))
    ]
    if len(members) == 1:
        job = members[0]
        rank = {job.id: next((int(r[3]) for r in rows if r[0] == job.user_id), 0)}
        return _Inside(totals, user_order, rank)
    numbered = (
        select(
            Job.id.label("id"),
            (func.row_number().over(partition_by=Job.user_id, order_by=Job.id) - 1).label("rank"),
        )
        .where(*lane)
        .subquery()
    )
    wanted = [j.id for j in members]
    rank = {
        int(i): int(r)
        for i, r in session.execute(
            select(numbered.c.id, numbered.c.rank).where(numbered.c.id.in_(wanted))
        ).tuples()
    }
    return _Inside(totals, user_order, rank)
