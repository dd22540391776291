"""Fair share, caps, quotas, warm models, leases and the kept counters, on both databases.

Jobs here use a queue name of their own, so the live server's in-process
runner (which serves "gpu" and "cpu") never takes them.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from studio.accounts.access import Actor
from studio.accounts.models import User, Workspace
from studio.db.base import utcnow
from studio.db.session import Database
from studio.generation import farm, scheduler, waiting
from studio.generation import service as jobs_service
from studio.generation.models import Job, JobStatus
from tests.factories import WorkspaceInfo, make_user, make_workspace
from tests.generation import bulk


@pytest.fixture
def queue(db: Database) -> Iterator[str]:
    """A queue of its own, with a (pretend) live worker serving it."""
    name = f"q-{secrets.token_hex(4)}"
    worker_id = f"w-{name}"
    with db.session_scope() as session:
        farm.report_alive(session, worker_id, [name], next_report_within=600)
    yield name
    with db.session_scope() as session:
        farm.forget_worker(session, worker_id)
    bulk.close_queue(db, name)


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
    db: Database,
    team: WorkspaceInfo,
    *,
    share: int | None = None,
    cap: int | None = None,
    quota: int | None = None,
) -> None:
    with db.session_scope() as session:
        ws = session.get(Workspace, team.id)
        assert ws is not None
        if share is not None:
            ws.max_concurrent_jobs = share
        ws.concurrent_jobs_cap = cap
        ws.gpu_seconds_quota = quota


def wait_of(db: Database, team: WorkspaceInfo, job_id: int) -> waiting.Wait | None:
    with db.session_scope() as session:
        job = session.get(Job, job_id)
        assert job is not None
        actor = Actor(user=session.get(User, team.owner.id))  # type: ignore[arg-type]
        return jobs_service.get_job(session, actor, job.public_id).wait


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


def test_a_lone_workspace_uses_every_idle_worker(db: Database, queue: str) -> None:
    team = make_workspace(db)
    set_limits(db, team, share=2)
    queued = add_jobs(db, team, queue, 6)
    # Five workers wake with nobody else waiting: the share (2) does not hold it back.
    taken = [claim(db, queue) for _ in range(5)]
    assert taken == queued[:5]
    assert wait_of(db, team, queued[5]).reason == waiting.TURN  # type: ignore[union-attr]


def test_over_its_share_a_workspace_yields_to_others_that_wait(db: Database, queue: str) -> None:
    team_a, team_b = make_workspace(db), make_workspace(db)
    set_limits(db, team_a, share=2)
    a_jobs = add_jobs(db, team_a, queue, 5)
    b_jobs = add_jobs(db, team_b, queue, 3)
    assert claim(db, queue) == a_jobs[0]  # both never served: lower id first
    first_b = claim(db, queue)
    assert first_b == b_jobs[0]
    finish(db, first_b)  # B was served after A, but has nothing running now
    assert claim(db, queue) == a_jobs[1]  # A served least recently, still under its share
    # A runs 2 = its share; B runs none. B goes first although A was served longer ago.
    assert claim(db, queue) == b_jobs[1]
    assert claim(db, queue) == b_jobs[2]
    # Nobody else waits: A may go over its share and use the idle workers.
    assert claim(db, queue) == a_jobs[2]


def test_over_the_hard_cap_waits_as_throttled_and_is_not_rejected(db: Database, queue: str) -> None:
    team_a, team_b = make_workspace(db), make_workspace(db)
    set_limits(db, team_a, cap=1)
    a_jobs = add_jobs(db, team_a, queue, 2)
    b_jobs = add_jobs(db, team_b, queue, 1)
    assert claim(db, queue) == a_jobs[0]
    assert claim(db, queue) == b_jobs[0]
    assert claim(db, queue) is None  # A is at its cap, even with workers idle
    wait = wait_of(db, team_a, a_jobs[1])
    assert wait is not None and wait.throttled and wait.reason == waiting.CONCURRENCY
    with db.session_scope() as session:
        assert queue not in scheduler.claimable_queues(session)  # nobody is woken for it
    finish(db, a_jobs[0])
    with db.session_scope() as session:
        assert queue in scheduler.claimable_queues(session)
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
    wait = wait_of(db, team, third)
    assert wait is not None and wait.throttled and wait.reason == waiting.QUOTA
    set_limits(db, team, quota=100)
    assert claim(db, queue) == third


def test_a_worker_prefers_jobs_for_models_it_has_warm(db: Database, queue: str) -> None:
    team = make_workspace(db)
    cold = add_jobs(db, team, queue, 1, model="cold-model")
    warm = add_jobs(db, team, queue, 1, model="warm-model")
    assert claim(db, queue, warm=("warm-model",)) == warm[0]
    assert claim(db, queue) == cold[0]


def test_a_worker_claims_only_models_it_has(db: Database, queue: str) -> None:
    team_a, team_b = make_workspace(db), make_workspace(db)
    # A is first in line, but only with a model this worker lacks: B's job is taken.
    (other,) = add_jobs(db, team_a, queue, 1, model="not-here")
    (mine,) = add_jobs(db, team_b, queue, 1, model="here")
    with db.session_scope() as session:
        got = scheduler.claim_next(
            session, queues=[queue], worker_id="w-test", lease_seconds=30, models=["here"]
        )
    assert got is not None and got.job_id == mine
    with db.session_scope() as session:
        assert session.get(Job, other).status == JobStatus.QUEUED  # type: ignore[union-attr]


def test_claims_are_atomic_and_caps_hold_under_contention(db: Database, queue: str) -> None:
    capped, free = make_workspace(db), make_workspace(db)
    set_limits(db, capped, cap=2)
    set_limits(db, free, share=50)
    capped_jobs = add_jobs(db, capped, queue, 6)
    free_jobs = add_jobs(db, free, queue, 6)
    claimed: list[int | None] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker() -> None:
        start.wait()
        for _ in range(4):
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
            select(Job.id).where(
                Job.id.in_(capped_jobs + free_jobs), Job.status == JobStatus.RUNNING
            )
        ).all()
    assert sorted(running) == sorted(real)
    assert len(set(running) & set(capped_jobs)) <= 2  # the hard cap held
    if db.engine.dialect.name == "postgresql":  # no lock errors there: every claim counts
        assert len(real) == 2 + 6


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
                assert job.status == JobStatus.QUEUED and queue in requeued
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


def test_counters_follow_every_path_a_job_takes(db: Database, queue: str) -> None:
    """Submit, claim, succeed, fail, cancel (queued and running), reap, delete: the
    kept counters always equal what the jobs say."""
    team = make_workspace(db)
    with db.session_scope() as session:
        actor = Actor(user=session.get(User, team.owner.id))  # type: ignore[arg-type]
    ids = add_jobs(db, team, queue, 6)
    done, failed, cancel_running, reaped = (claim(db, queue) for _ in range(4))
    assert None not in (done, failed, cancel_running, reaped)
    finish(db, done, JobStatus.SUCCEEDED, gpu_seconds=12.5)  # type: ignore[arg-type]
    finish(db, failed, JobStatus.FAILED, gpu_seconds=99)  # type: ignore[arg-type]
    with db.session_scope() as session:
        running = session.get(Job, cancel_running)
        queued = session.get(Job, ids[4])
        assert running is not None and queued is not None
        jobs_service.cancel_job(session, actor, queued.public_id)  # queued: canceled at once
        jobs_service.cancel_job(session, actor, running.public_id)  # running: asked to stop
        session.execute(
            update(Job)
            .where(Job.id == reaped)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    with db.session_scope() as session:
        scheduler.reap_expired(session)  # requeues `reaped`
    with db.session_scope() as session:
        job = session.get(Job, done)
        assert job is not None
        jobs_service.delete_job(session, actor, job.public_id)  # hidden, still counted as used
    kept, truth = bulk.recount(db, [team.id])
    assert kept == truth
    assert kept[team.id][:2] == (1, 12.5)  # cancel_running still runs; one success counted
    assert kept[team.id][3] == 2  # ids[5] and the reaped one wait


# ---------------------------------------------------------------- cost at scale


def _claim_counted(db: Database, queue: str, models: list[str] | None = None) -> tuple[int, int]:
    with bulk.counting(db.engine) as statements, db.session_scope() as session:
        got = scheduler.claim_next(
            session,
            queues=[queue],
            worker_id="w-test",
            lease_seconds=30,
            warm_models=["m1"],
            models=models,
        )
    assert got is not None
    return len(statements), got.job_id


@pytest.fixture
def crowd(db: Database) -> Iterator[list[int]]:
    made: list[int] = []
    yield made
    bulk.remove_workspaces(db, made)


def test_claim_statements_do_not_grow_with_workspaces_throttling_or_history(
    db: Database, queue: str, crowd: list[int]
) -> None:
    owner = make_user(db)
    small = bulk.add_workspaces(db, 5)
    crowd.extend(small)
    bulk.add_jobs(db, small, owner.id, queue, per_workspace=2)
    alone, first = _claim_counted(db, queue)
    assert alone <= 3
    # A jam's late hours: 1,000 more workspaces waiting, 600 of them at quota, 3,000
    # finished jobs of history.
    waiting_ws = bulk.add_workspaces(db, 400)
    throttled = bulk.add_workspaces(db, 600, quota=0)
    crowd.extend(waiting_ws + throttled)
    bulk.add_jobs(db, waiting_ws + throttled, owner.id, queue, per_workspace=2)
    bulk.add_jobs(
        db, small + waiting_ws, owner.id, queue, per_workspace=7, status=JobStatus.SUCCEEDED
    )
    crowded, second = _claim_counted(db, queue, models=["m1", "m2"])
    assert crowded == alone, "a claim must not cost more statements in a bigger farm"
    with db.session_scope() as session:
        claimed_ws = session.scalars(
            select(Job.workspace_id).where(Job.id.in_([first, second]))
        ).all()
    assert set(claimed_ws) <= set(small + waiting_ws)  # never a throttled one
    kept, truth = bulk.recount(db, small + throttled[:50])
    assert kept == truth
