"""Queue positions follow the claim order, and reading them stays cheap."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from studio.accounts.access import Actor
from studio.accounts.models import Role, User
from studio.db.base import utcnow
from studio.db.session import Database
from studio.generation import farm, scheduler, waiting
from studio.generation import service as jobs_service
from studio.generation.models import Job, JobStatus
from studio.generation.runway import task_json
from tests.factories import add_member, make_user, make_workspace
from tests.generation import bulk
from tests.generation.test_scheduler import add_jobs, claim, finish


@pytest.fixture
def queue(db: Database) -> Iterator[str]:
    name = f"q-{secrets.token_hex(4)}"
    with db.session_scope() as session:
        farm.report_alive(session, f"w-{name}", [name], next_report_within=600)
    yield name
    with db.session_scope() as session:
        farm.forget_worker(session, f"w-{name}")
    bulk.close_queue(db, name)


def views(db: Database, job_ids: list[int]) -> dict[int, jobs_service.JobView]:
    with db.session_scope() as session:
        found = list(session.scalars(select(Job).where(Job.id.in_(job_ids))))
        by_public = {j.public_id: j.id for j in found}
        return {by_public[v.public_id]: v for v in jobs_service.views_for(session, found)}


def test_queue_positions_are_the_order_jobs_actually_start_in(db: Database, queue: str) -> None:
    a, b, c, d = (make_workspace(db) for _ in range(4))
    second = make_user(db)
    add_member(db, a, second, Role.EDITOR)
    # D was served a moment ago: it goes after the never-served ones.
    (d_old,) = add_jobs(db, d, queue, 1)
    assert claim(db, queue) == d_old
    finish(db, d_old)
    waiting_ids = (
        add_jobs(db, a, queue, 3)
        + add_jobs(db, a, queue, 2, user_id=second.id)  # A's two members take turns
        + add_jobs(db, b, queue, 1)
        + add_jobs(db, c, queue, 3)
        + add_jobs(db, d, queue, 2)
    )
    with db.session_scope() as session:
        assert queue in farm.refresh_snapshots(session, max_age_seconds=0)
    predicted = {job_id: view.position for job_id, view in views(db, waiting_ids).items()}
    started = []
    while (job_id := claim(db, queue)) is not None:
        started.append(job_id)
        finish(db, job_id)
    assert sorted(started) == sorted(waiting_ids)
    assert predicted == {job_id: started.index(job_id) for job_id in waiting_ids}


def test_an_estimated_start_comes_from_recent_run_times_and_live_workers(
    db: Database, queue: str
) -> None:
    team = make_workspace(db)
    done = add_jobs(db, team, queue, 2)
    now = utcnow()
    with db.session_scope() as session:  # two finished jobs of 40 s and 60 s
        for job_id, seconds in zip(done, (40, 60), strict=True):
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(
                    status=JobStatus.SUCCEEDED,
                    started_at=now - timedelta(seconds=seconds),
                    finished_at=now,
                )
            )
        farm.report_alive(session, f"w2-{queue}", [queue], next_report_within=600)  # 2 workers
    later = add_jobs(db, team, queue, 5)
    with db.session_scope() as session:
        farm.refresh_snapshots(session, max_age_seconds=0)
    fifth = views(db, later)[later[4]]
    assert fifth.position == 4 and fifth.wait is not None
    assert fifth.wait.estimated_start_at is not None
    eta = (fifth.wait.estimated_start_at - utcnow()).total_seconds()
    assert 95 <= eta <= 100  # 4 jobs ahead x 50 s each / 2 workers
    body = task_json(fifth, base_url="http://x", secret="s" * 40, ttl_seconds=60)
    assert body["status"] == "PENDING"  # Runway's field, unchanged
    assert body["studio"]["queuePosition"] == 4 and body["studio"]["waitingFor"] == "turn"
    assert body["studio"]["estimatedStartAt"].endswith("Z")
    with db.session_scope() as session:
        farm.forget_worker(session, f"w2-{queue}")


@pytest.fixture
def crowd(db: Database) -> Iterator[list[int]]:
    made: list[int] = []
    yield made
    bulk.remove_workspaces(db, made)


def test_reading_a_page_of_tasks_does_not_grow_with_the_farm(
    db: Database, queue: str, crowd: list[int]
) -> None:
    team = make_workspace(db)
    add_jobs(db, team, queue, 60)
    with db.session_scope() as session:
        farm.refresh_snapshots(session, max_age_seconds=0)

    def read_page() -> tuple[int, list[int | None]]:
        with bulk.counting(db.engine) as statements, db.session_scope() as session:
            actor = Actor(user=session.get(User, team.owner.id))  # type: ignore[arg-type]
            page = jobs_service.list_jobs(session, actor, team.id, limit=50)
        return len(statements), [v.position for v in page]

    alone, positions = read_page()
    assert positions == list(range(59, 9, -1))  # newest first; alone in the queue
    owner = make_user(db)
    others = bulk.add_workspaces(db, 800)
    throttled = bulk.add_workspaces(db, 400, quota=0)
    crowd.extend(others + throttled)
    bulk.add_jobs(db, others + throttled, owner.id, queue, per_workspace=3)
    bulk.add_jobs(db, others, owner.id, queue, per_workspace=5, status=JobStatus.SUCCEEDED)
    with db.session_scope() as session:
        farm.refresh_snapshots(session, max_age_seconds=0)
    crowded, positions = read_page()
    assert crowded == alone
    # The team's oldest waiting job on the page (10 of its own ahead) waits for 10
    # rounds of the 800 others' 3 jobs each; never for the throttled ones.
    assert positions[-1] == 10 + 800 * 3 + 0
    wait_reasons = {v.waiting_for for v in _first(db, throttled)}
    assert wait_reasons == {waiting.QUOTA}
    with db.session_scope() as session:
        assert scheduler.claimable_queues(session) >= {queue}


def _first(db: Database, workspace_ids: list[int]) -> list[jobs_service.JobView]:
    with db.session_scope() as session:
        found = list(session.scalars(select(Job).where(Job.workspace_id.in_(workspace_ids[:3]))))
        return jobs_service.views_for(session, found)
