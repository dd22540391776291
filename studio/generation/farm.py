"""The worker farm as the database sees it: who is alive, which queues they
serve, and a snapshot of each queue's fair order.

Workers report themselves every few seconds (their maintenance loop, and the
job watcher while a job runs). A queue with waiting jobs and no live worker
is a problem nobody would otherwise see (the jobs just stay PENDING): the
task JSON, the Generate page, `studio status` and `/healthz` all say so.

Queue snapshots let a task read cost one row instead of the farm's state:
one worker per interval walks the waiting lanes (a small table) and stores
the workspaces in claim order plus how many jobs each has waiting.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause, bindparam, delete, func, literal_column, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from studio.db.base import utcnow
from studio.generation.models import Job, JobStatus, QueueSnapshot, SchedulerLane, Worker
from studio.generation.scheduler import ELIGIBLE, LANES

FORGET_AFTER = timedelta(days=1)  # rows of workers gone this long are removed
RUN_TIME_SAMPLE = 50  # recent successful jobs that estimate a queue's run time


# ---------------------------------------------------------------- presence


def report_alive(
    session: Session, worker_id: str, queues: Sequence[str], *, next_report_within: float
) -> None:
    """Insert or refresh this worker's row (one statement). Readers count it
    alive for `next_report_within` seconds."""
    now = utcnow()
    values = {
        "id": worker_id,
        "queues": "," + ",".join(queues) + ",",
        "started_at": now,
        "last_seen_at": now,
        "alive_until": now + timedelta(seconds=next_report_within),
    }
    _upsert(session, Worker, values, ["last_seen_at", "alive_until", "queues"])


def _upsert(session: Session, model: Any, values: dict[str, Any], refresh: list[str]) -> None:
    """INSERT, or UPDATE `refresh` columns of the row with the same primary key:
    one statement, safe when two workers write the same row at once."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[c.name for c in model.__table__.primary_key.columns],
            set_={name: statement.excluded[name] for name in refresh},
        )
    )


def forget_worker(session: Session, worker_id: str) -> None:
    """A worker shutting down cleanly says so (a killed one just goes stale)."""
    session.execute(delete(Worker).where(Worker.id == worker_id))


def forget_gone_workers(session: Session) -> None:
    session.execute(delete(Worker).where(Worker.alive_until < utcnow() - FORGET_AFTER))


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    queues: list[str]
    started_at: datetime
    last_seen_at: datetime
    alive: bool


def workers(session: Session) -> list[WorkerInfo]:
    now = utcnow()
    rows = session.scalars(select(Worker).order_by(Worker.last_seen_at.desc())).all()
    return [
        WorkerInfo(
            w.id,
            [q for q in w.queues.split(",") if q],
            w.started_at,
            w.last_seen_at,
            w.alive_until >= now,
        )
        for w in rows
    ]


def live_workers(session: Session) -> dict[str, int]:
    """Live workers per queue (a handful of rows: one per live worker)."""
    counts: dict[str, int] = {}
    for queues in session.scalars(select(Worker.queues).where(Worker.alive_until >= utcnow())):
        for queue in filter(None, queues.split(",")):
            counts[queue] = counts.get(queue, 0) + 1
    return counts


# ---------------------------------------------------------------- snapshots


@lru_cache(maxsize=1)
def _waiting_lanes_sql() -> TextClause:
    # Per waiting, eligible workspace and queue: jobs waiting and its sort key.
    return text(
        f"""
SELECT l.queue, l.workspace_id, SUM(l.queued) AS waiting,
       CASE WHEN s.running < w.max_concurrent_jobs THEN 0 ELSE 1 END AS over_share,
       s.last_served_at
  FROM {LANES}
 WHERE {ELIGIBLE} AND l.queue IN :queues
 GROUP BY l.queue, l.workspace_id, s.running, w.max_concurrent_jobs, s.last_served_at
"""  # noqa: S608 - built from the scheduler's constants only
    ).bindparams(bindparam("queues", expanding=True))


def order_key(over_share: bool, last_served_at: datetime | None) -> float:
    """A workspace's place in the fair order as one number (smaller goes first)."""
    served = last_served_at.timestamp() if last_served_at else 0.0
    return (1e12 if over_share else 0.0) + served


def refresh_snapshots(
    session: Session, max_age_seconds: float, queues: Iterable[str] | None = None
) -> list[str]:
    """Retake the snapshots of `queues` (default: every queue with waiting
    jobs) older than max_age: one query over those queues' waiting lanes plus
    a write per queue. Each worker calls this for the queues it serves every
    pass; only stale ones are retaken, so the farm does it about once per
    interval (two workers racing write the same thing, harmlessly). Returns
    the queues retaken."""
    now = utcnow()
    only = None if queues is None else set(queues)
    taken = {
        q: t
        for q, t in session.execute(select(QueueSnapshot.queue, QueueSnapshot.taken_at))
        if only is None or q in only
    }
    waiting = {
        q
        for q in session.scalars(
            select(SchedulerLane.queue).where(SchedulerLane.queued > literal_column("0")).distinct()
        )
        if only is None or q in only
    }
    for gone in set(taken) - waiting:  # nothing waits there any more
        session.execute(delete(QueueSnapshot).where(QueueSnapshot.queue == gone))
    cutoff = now - timedelta(seconds=max_age_seconds)
    due = sorted(q for q in waiting if q not in taken or taken[q] < cutoff)
    if not due:
        return []
    lanes: dict[str, list[tuple[float, int, int]]] = {q: [] for q in due}
    for row in session.execute(_waiting_lanes_sql(), {"queues": due}):
        key = order_key(bool(row.over_share), _aware(row.last_served_at))
        lanes[row.queue].append((key, int(row.workspace_id), int(row.waiting)))
    for queue in due:
        ordered = sorted(lanes[queue])  # by key, then workspace id: the claim's order
        histogram: dict[int, int] = {}
        for _, _, size in ordered:
            histogram[size] = histogram.get(size, 0) + 1
        values = {
            "queue": queue,
            "taken_at": now,
            "workspace_order": [ws for _, ws, _ in ordered],
            "order_keys": [key for key, _, _ in ordered],
            "order_sizes": [size for _, _, size in ordered],
            "lane_sizes": [[size, count] for size, count in sorted(histogram.items())],
            "mean_run_seconds": _mean_run_seconds(session, queue),
        }
        _upsert(session, QueueSnapshot, values, [k for k in values if k != "queue"])
    return due


def _aware(value: datetime | str | None) -> datetime | None:
    """Raw SQL gives SQLite's text or a naive value; the ORM would have converted it."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _mean_run_seconds(session: Session, queue: str) -> float | None:
    rows = session.execute(
        select(Job.started_at, Job.finished_at)
        .where(Job.status == JobStatus.SUCCEEDED, Job.queue == queue)
        .order_by(Job.finished_at.desc())
        .limit(RUN_TIME_SAMPLE)
    ).all()
    spans = [(f - s).total_seconds() for s, f in rows if s is not None and f is not None]
    return round(statistics.fmean(spans), 3) if spans else None


@dataclass(frozen=True)
class Place:
    """Where a waiting workspace stands in its queue's snapshot."""

    own_size: int | None  # its jobs waiting at the snapshot (None: not in it)
    sizes_ahead: list[int]  # jobs waiting in each workspace ahead of it, sorted
    histogram: list[list[int]]  # [[jobs waiting, workspaces], ...] for the whole queue
    mean_run_seconds: float | None

    def jobs_before(self, rounds: int) -> int:
        """Jobs of other workspaces that start before this workspace's job
        with `rounds` of its own jobs ahead: workspaces take turns, so each
        other one starts min(its waiting, rounds) of them first, and one more
        if it comes earlier in the order and still has a job then."""
        total = sum(min(size, rounds) * count for size, count in self.histogram)
        if self.own_size is not None:
            total -= min(self.own_size, rounds)
        ahead_with_more = len(self.sizes_ahead) - bisect.bisect_right(self.sizes_ahead, rounds)
        return total + ahead_with_more


def places(
    session: Session, wanted: Iterable[tuple[str, int, float]]
) -> dict[tuple[str, int], Place]:
    """(queue, workspace, its order key now) -> its Place; one query for all."""
    wanted = list(wanted)
    snapshots = {
        s.queue: s
        for s in session.scalars(
            select(QueueSnapshot).where(QueueSnapshot.queue.in_({q for q, _, _ in wanted}))
        )
    }
    found = {}
    for queue, workspace_id, key in wanted:
        snapshot = snapshots.get(queue)
        if snapshot is None:
            continue
        own_size = None
        try:
            ahead = snapshot.workspace_order.index(workspace_id)
            own_size = snapshot.order_sizes[ahead]
        except ValueError:  # started waiting since the snapshot: place it by its key
            ahead = bisect.bisect_left(snapshot.order_keys, key)
        found[(queue, workspace_id)] = Place(
            own_size=own_size,
            sizes_ahead=sorted(snapshot.order_sizes[:ahead]),
            histogram=snapshot.lane_sizes,
            mean_run_seconds=snapshot.mean_run_seconds,
        )
    return found


# ---------------------------------------------------------------- the farm at a glance


@dataclass(frozen=True)
class QueueHealth:
    queue: str
    waiting: int  # jobs that could start now
    throttled: int  # jobs of workspaces at their cap or out of GPU time
    running: int
    workers: int  # live workers serving this queue

    @property
    def unserved(self) -> bool:
        """Work waits and no live worker serves this queue."""
        return (self.waiting + self.throttled) > 0 and self.workers == 0


@lru_cache(maxsize=1)
def _waiting_by_queue_sql() -> TextClause:
    return text(
        f"""
SELECT l.queue,
       SUM(CASE WHEN {ELIGIBLE} THEN l.queued ELSE 0 END) AS waiting,
       SUM(l.queued) AS queued
  FROM {LANES}
 WHERE l.queued > 0
 GROUP BY l.queue
"""  # noqa: S608 - built from the scheduler's constants only
    )


def queue_health(session: Session, queues: Iterable[str] = ("gpu", "cpu")) -> list[QueueHealth]:
    """Every queue with work or workers, plus the standard ones: three small queries."""
    waiting = {
        r.queue: (int(r.waiting), int(r.queued)) for r in session.execute(_waiting_by_queue_sql())
    }
    running = {
        q: int(n)
        for q, n in session.execute(
            select(Job.queue, func.count())
            .where(Job.status == JobStatus.RUNNING)
            .group_by(Job.queue)
        ).tuples()
    }
    live = live_workers(session)
    names = sorted(set(queues) | set(waiting) | set(running) | set(live))
    return [
        QueueHealth(
            queue=q,
            waiting=waiting.get(q, (0, 0))[0],
            throttled=waiting.get(q, (0, 0))[1] - waiting.get(q, (0, 0))[0],
            running=running.get(q, 0),
            workers=live.get(q, 0),
        )
        for q in names
    ]


def unserved_text(queue: QueueHealth) -> str:
    jobs = queue.waiting + queue.throttled
    return (
        f"No live worker serves the {queue.queue} queue; {jobs} job(s) wait there. "
        f"Start one: studio worker --queues {queue.queue}"
    )
