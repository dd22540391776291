"""Fair share, caps, quotas, warm models, leases and re-sends, on both databases.

Jobs here use a queue name of their own, so the live server's in-process
runner (which serves "gpu" and "cpu") never takes them.
"""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from studio.accounts.models import Workspace
from studio.db.base import utcnow
from studio.db.session import Database
from studio.generation import scheduler
from studio.generation.models import Job, JobStatus
from tests.factories import WorkspaceInfo, make_user, make_workspace


@pytest.fixture
def queue() -> str:
    return f"q-{secrets.token_hex(4)}"


def add_jobs(
    db: Database,
    team: WorkspaceInfo,
    queue: str,
    count: int,
    model: str = "m1",
    user_id: int | None = None,
) -> list[int]:
    ids = []
    with db.session_scope() as session:
        for _ in range(count):
            job = Job(
                workspace_id=team.id,
                user_id=user_id or team.owner.id,
                queue=queue,
                model_key=model,
                mode="text_to_video",
                params={},
                status=JobStatus.QUEUED,
                max_attempts=2,
            )
            session.add(job)
            session.flush()
            ids.append(job.id)
    return ids


def claim(db: Database, queue: str, warm: tuple[str, ...] = ()) -> int | None:
    with db.session_scope() as session:
        got = scheduler.claim_next(
            session, queues=[queue], worker_id="w-test", lease_seconds=30, warm_models=warm
        )
    return got.job_id if got else None


def finish(
    db: Database, job_id: int, status: JobStatus = JobStatus.SUCCEEDED, gpu_seconds: float = 0.0
) -> None:
    with db.session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status=status, gpu_seconds=gpu_seconds, finished_at=utcnow())
        )


def set_limits(
    db: Database, team: WorkspaceInfo, *, cap: int | None = None, quota: int | None = None
) -> None:
    with db.session_scope() as session:
        ws = session.get(Workspace, team.id)
        assert ws is not None
        if cap is not None:
            ws.max_concurrent_jobs = cap
        ws.gpu_seconds_quota = quota


def test_a_flood_from_one_workspace_does_not_starve_another(db: Database, queue: str) -> None:
    team_a, team_b = make_workspace(db), make_workspace(db)
    a_jobs = add_jobs(db, team_a, queue, 50)
    b_jobs = add_jobs(db, team_b, queue, 1)
    order = []
    for _ in range(4):
        job_id = claim(db, queue)
        assert job_id is not None
        order.append(job_id)
        finish(db, job_id)
    # A was first in line; B, never served, goes next, before A's second job.
    assert order == [a_jobs[0], b_jobs[0], a_jobs[1], a_jobs[2]]


def test_users_take_turns_inside_a_workspace(db: Database, queue: str) -> None:
    team = make_workspace(db)
    other = make_user(db)
    first = add_jobs(db, team, queue, 3)
    second = add_jobs(db, team, queue, 1, user_id=other.id)
    got = [claim(db, queue) for _ in range(2)]
    for job_id in got:
        assert job_id is not None
        finish(db, job_id)
    assert got == [first[0], second[0]]


def test_over_the_cap_waits_as_throttled_and_is_not_rejected(db: Database, queue: str) -> None:
    team_a, team_b = make_workspace(db), make_workspace(db)
    set_limits(db, team_a, cap=1)
    a_jobs = add_jobs(db, team_a, queue, 2)
    b_jobs = add_jobs(db, team_b, queue, 1)
    assert claim(db, queue) == a_jobs[0]
    assert claim(db, queue) == b_jobs[0]
    assert claim(db, queue) is None  # A is at its cap
    with db.session_scope() as session:
        assert team_a.id in scheduler.throttled_workspaces(session)
        assert session.get(Job, a_jobs[1]).status == JobStatus.QUEUED  # type: ignore[union-attr]
    finish(db, a_jobs[0])
    assert claim(db, queue) == a_jobs[1]


def test_gpu_quota_counts_only_successful_jobs(db: Database, queue: str) -> None:
    team = make_workspace(db)
    set_limits(db, team, quota=10)
    first, second, third = add_jobs(db, team, queue, 3)
    assert claim(db, queue) == first
    finish(db, first, JobStatus.FAILED, gpu_seconds=500)  # failures cost nothing
    assert claim(db, queue) == second
    finish(db, second, JobStatus.SUCCEEDED, gpu_seconds=10)
    assert claim(db, queue) is None  # quota used up: waits
    with db.session_scope() as session:
        assert team.id in scheduler.throttled_workspaces(session)
    set_limits(db, team, quota=100)
    assert claim(db, queue) == third


def test_a_worker_prefers_jobs_for_models_it_has_warm(db: Database, queue: str) -> None:
    team = make_workspace(db)
    cold = add_jobs(db, team, queue, 1, model="cold-model")
    warm = add_jobs(db, team, queue, 1, model="warm-model")
    assert claim(db, queue, warm=("warm-model",)) == warm[0]
    assert claim(db, queue) == cold[0]  # then the cold one (the cap is 2)


def test_a_worker_claims_only_models_it_has(db: Database, queue: str) -> None:
    team = make_workspace(db)
    (other,) = add_jobs(db, team, queue, 1, model="not-here")
    (mine,) = add_jobs(db, team, queue, 1, model="here")
    with db.session_scope() as session:
        got = scheduler.claim_next(
            session, queues=[queue], worker_id="w-test", lease_seconds=30, models=["here"]
        )
    assert got is not None and got.job_id == mine
    with db.session_scope() as session:
        assert session.get(Job, other).status == JobStatus.QUEUED  # type: ignore[union-attr]


def test_claims_are_atomic_under_contention(db: Database, queue: str) -> None:
    team = make_workspace(db)
    set_limits(db, team, cap=50)
    jobs = add_jobs(db, team, queue, 6)
    claimed: list[int | None] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            try:
                got = claim(db, queue)
            except Exception:  # SQLite may report 'database is locked' under contention
                got = None
            with lock:
                claimed.append(got)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    real = [c for c in claimed if c is not None]
    assert len(real) == len(set(real))  # no job claimed twice
    with db.session_scope() as session:
        running = session.scalars(
            select(Job.id).where(Job.id.in_(jobs), Job.status == JobStatus.RUNNING)
        ).all()
    assert sorted(running) == sorted(real)


def test_expired_leases_are_requeued_then_failed_after_max_attempts(
    db: Database, queue: str
) -> None:
    team = make_workspace(db)
    (job_id,) = add_jobs(db, team, queue, 1)
    for attempt in (1, 2):
        assert claim(db, queue) == job_id
        with db.session_scope() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(lease_expires_at=utcnow() - timedelta(seconds=1))
            )
        with db.session_scope() as session:
            requeued = scheduler.reap_expired(session)
            job = session.get(Job, job_id)
            assert job is not None and job.attempts == attempt
            if attempt == 1:
                assert job.status == JobStatus.QUEUED and job.public_id in requeued
            else:
                assert job.status == JobStatus.FAILED
                assert job.error_code == "worker_lost"
                assert "stopped responding 2 times" in (job.error_message or "")


def test_a_heartbeat_keeps_a_job_and_a_lost_lease_is_noticed(db: Database, queue: str) -> None:
    team = make_workspace(db)
    (job_id,) = add_jobs(db, team, queue, 1)
    assert claim(db, queue) == job_id
    with db.session_scope() as session:
        assert scheduler.heartbeat(session, job_id, "w-test", 30)
        assert not scheduler.heartbeat(session, job_id, "someone-else", 30)


def test_queued_jobs_whose_message_was_lost_are_sent_again(db: Database, queue: str) -> None:
    team = make_workspace(db)
    (job_id,) = add_jobs(db, team, queue, 1)
    with db.session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(dispatched_at=utcnow() - timedelta(minutes=5))
        )
    with db.session_scope() as session:
        due = scheduler.due_for_dispatch(session, resend_after_seconds=30)
        public_id = session.get(Job, job_id).public_id  # type: ignore[union-attr]
    assert (queue, public_id) in due
    with db.session_scope() as session:
        assert (queue, public_id) not in scheduler.due_for_dispatch(
            session, resend_after_seconds=30
        )
