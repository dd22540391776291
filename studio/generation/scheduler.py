"""Fair, atomic job claiming, leases, the reaper and the sweeper.

The jobs table is the queue. Redis messages (or the in-process runner's
wake-ups) only say "there may be work": whoever wakes claims the next job
by the fair-share rules below, so a flood from one workspace cannot starve
another, whatever order the messages arrive in.

Fair order, among workspaces with a job waiting in this worker's queues (for
a model it has) that are under their hard cap (`concurrent_jobs_cap`) and
their GPU-seconds quota:

1. workspaces running fewer jobs than their share (`max_concurrent_jobs`)
   before those at or over it; so a workspace uses every idle worker when
   nobody else waits (work-conserving) and its share when others do;
2. then the workspace served least recently (never served first);
3. inside it, the user served least recently;
4. then a job for a model this worker has warm, then the oldest.

Cost: what the order needs lives in small tables that triggers on `jobs`
keep current (`scheduler_workspaces`: running, GPU seconds used, last
served; `scheduler_lanes`: jobs waiting per workspace, queue and model;
`scheduler_users`: last served per member). A claim reads the waiting lanes
through a partial index, joins two rows by primary key per lane, and probes
one user's waiting jobs through partial indexes: one statement, whatever the
job history, the number of workspaces or how many of them are throttled
(a throttled lane costs a filtered index entry, not a statement or a lock).

Atomicity. SQLite serializes writers: the claim is one UPDATE, which takes
the write lock before it reads. On Postgres claimers first take one
transaction-scoped advisory lock (`pg_advisory_xact_lock`), then run the
claim; under READ COMMITTED that statement sees every earlier claim, so two
workers can neither take the same job nor both take a workspace's last slot
under its cap. The lock is held for one short statement (about a
millisecond), far below the rate at which GPU jobs start. Lessons kept from
the per-workspace row locks this replaced:

- SKIP LOCKED is the wrong tool here: skipping a locked workspace or job
  hides work from a woken worker, which then goes back to sleep with jobs
  waiting (a lone workspace would not use every idle worker). Claimers wait
  for the lock instead; nothing else takes it.
- Nothing locks job rows in the background any more (the sweeper no longer
  touches jobs), so the claim's conditional `status = 'queued'` only races
  with a cancel, and then simply claims nothing.
- Lock rows FOR NO KEY UPDATE when you must (never plain FOR UPDATE on rows
  others reference): every insert referencing a workspace or a job takes a
  key-share lock that FOR UPDATE would collide with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause, bindparam, select, text, update
from sqlalchemy.orm import Session

from studio.db.base import UTCDateTime, utcnow
from studio.generation.models import Job, JobStatus

WORKER_LOST = "worker_lost"
# Any constant will do: the one advisory lock every claimer takes on Postgres.
CLAIM_LOCK_KEY = 0x5354_5544_494F  # "STUDIO"


def pairs(rows: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
    # Not dict(result): a SQLAlchemy Result has .keys(), so dict() misreads it as a mapping.
    return {key: value for key, value in rows}


@dataclass(frozen=True)
class Claim:
    job_id: int
    public_id: str
    attempt: int
    queue: str


# Room under the hard cap and the quota: the eligible set, in SQL. Shared by
# the claim, the sweeper and the queue snapshots so they agree on who may run.
ELIGIBLE = """
    l.queued > 0
    AND (w.concurrent_jobs_cap IS NULL OR s.running < w.concurrent_jobs_cap)
    AND (w.gpu_seconds_quota IS NULL OR s.gpu_seconds_used < w.gpu_seconds_quota)
"""
LANES = """
    scheduler_lanes l
    JOIN scheduler_workspaces s ON s.workspace_id = l.workspace_id
    JOIN workspaces w ON w.id = l.workspace_id
"""
# Under its share first; then least recently served (never served first).
WORKSPACE_ORDER = """
    CASE WHEN s.running < w.max_concurrent_jobs THEN 0 ELSE 1 END,
    s.last_served_at IS NOT NULL, s.last_served_at, l.workspace_id
"""


@lru_cache(maxsize=32)
def _claim_sql(with_models: bool, with_warm: bool) -> TextClause:
    """The claim: pick the workspace, then its user, then the job, and take it.

    Written as SQL (not the ORM) so that it reads as the one statement it is
    and can be EXPLAINed as is. It is built only from the constants above;
    every value is a bound parameter (hence the S608 waivers).
    """
    models = "AND {a}.model_key IN :models" if with_models else ""
    # Literally the partial indexes' condition (models.WAITING_SQL), per alias.
    waiting = "{a}.status = 'queued' AND {a}.deleted_at IS NULL AND {a}.queue IN :queues " + models
    # Correlated to the one chosen user, so each probe walks an index in id order.
    job_of_user = "SELECT j.id FROM jobs j WHERE " + (  # noqa: S608
        "j.workspace_id = usr.workspace_id AND j.user_id = usr.user_id AND " + waiting.format(a="j")
    )
    first_job = f"({job_of_user} ORDER BY j.id LIMIT 1)"
    if with_warm:
        # Two index probes instead of sorting all of a user's waiting jobs.
        first_job = (
            f"COALESCE(({job_of_user} AND j.model_key IN :warm ORDER BY j.id LIMIT 1), {first_job})"
        )
    sql = f"""
WITH ws AS (
    SELECT l.workspace_id FROM {LANES}
     WHERE {ELIGIBLE} AND l.queue IN :queues {models.format(a="l")}
     ORDER BY {WORKSPACE_ORDER}
     LIMIT 1
), usr AS (
    SELECT u.workspace_id, u.user_id
      FROM scheduler_users u JOIN ws ON u.workspace_id = ws.workspace_id
     WHERE EXISTS (
        SELECT 1 FROM jobs q
         WHERE q.workspace_id = u.workspace_id AND q.user_id = u.user_id
           AND {waiting.format(a="q")})
     ORDER BY u.last_served_at IS NOT NULL, u.last_served_at, u.user_id
     LIMIT 1
), pick AS (
    SELECT {first_job} AS id FROM usr
)
UPDATE jobs
   SET status = 'running', worker_id = :worker_id, attempts = attempts + 1,
       started_at = :now, heartbeat_at = :now, lease_expires_at = :lease, progress = 0
 WHERE id = (SELECT id FROM pick) AND status = 'queued'
RETURNING id, public_id, attempts, queue
"""  # noqa: S608
    params = [
        bindparam("queues", expanding=True),
        bindparam("now", type_=UTCDateTime()),
        bindparam("lease", type_=UTCDateTime()),
    ]
    if with_models:
        params.append(bindparam("models", expanding=True))
    if with_warm:
        params.append(bindparam("warm", expanding=True))
    return text(sql).bindparams(*params)


def claim_next(
    session: Session,
    *,
    queues: Sequence[str],
    worker_id: str,
    lease_seconds: float,
    warm_models: Iterable[str] = (),
    models: Iterable[str] | None = None,
    now: datetime | None = None,
) -> Claim | None:
    """Claim the fairest runnable job, or None. Commit right after (short transaction).

    `models`: the model keys this worker can run (its registry); other jobs are
    left for workers that have them. At most two statements (one on SQLite).
    """
    if not queues:
        return None
    now = now or utcnow()
    model_list = None if models is None else sorted(set(models))
    if model_list is not None and not model_list:
        return None
    warm = sorted(set(warm_models) & set(model_list)) if model_list else sorted(set(warm_models))
    params: dict[str, Any] = {
        "queues": list(queues),
        "worker_id": worker_id,
        "now": now,
        "lease": now + timedelta(seconds=lease_seconds),
    }
    if model_list is not None:
        params["models"] = model_list
    if warm:
        params["warm"] = warm
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY})
    row = session.execute(_claim_sql(model_list is not None, bool(warm)), params).first()
    if row is None:
        return None
    return Claim(int(row.id), str(row.public_id), int(row.attempts), str(row.queue))


@lru_cache(maxsize=1)
def _claimable_sql() -> TextClause:
    return text(f"SELECT DISTINCT l.queue FROM {LANES} WHERE {ELIGIBLE}")  # noqa: S608


def claimable_queues(session: Session) -> set[str]:
    """Queues where some job could start now (throttled workspaces' jobs never count)."""
    return {str(queue) for queue in session.scalars(_claimable_sql())}


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


def reap_expired(session: Session, now: datetime | None = None) -> list[str]:
    """Requeue running jobs whose worker stopped heartbeating; fail them after max attempts.

    Returns the queue of each job put back (to be woken after commit).
    """
    now = now or utcnow()
    # In id order, so two workers reaping at once lock rows in the same order.
    expired = session.scalars(
        select(Job)
        .where(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now)
        .order_by(Job.id)
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
            }
        done = session.execute(
            update(Job).where(*guard).values(**values).execution_options(synchronize_session=False)
        )
        if done.rowcount == 1 and values["status"] == JobStatus.QUEUED:  # type: ignore[attr-defined]
            requeued.append(job.queue)
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
