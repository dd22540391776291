"""0007_scheduler upgrades a database that already has jobs: counters backfilled,
jobs intact, and the fair claim works on them at once (SQLite and Postgres)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import MetaData, create_engine, func, insert, select

from studio.db import migrate
from studio.db.session import Database
from studio.generation import scheduler
from studio.generation.models import Job, JobStatus, SchedulerLane, SchedulerUser
from tests.conftest import PG_ADMIN_URL, unavailable
from tests.generation import bulk


@pytest.fixture
def fresh_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('mig0007') / 'studio.db'}"
        return
    name = f"studio_mig_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        unavailable(f"Postgres at {PG_ADMIN_URL}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def test_upgrade_backfills_counters_from_existing_jobs(fresh_url: str) -> None:
    migrate.upgrade(fresh_url, "0006_jams")
    engine = create_engine(fresh_url.replace("postgresql://", "postgresql+psycopg://"))
    old = MetaData()
    old.reflect(engine, only=["users", "workspaces", "jobs"])
    users, workspaces, jobs = (old.tables[n] for n in ("users", "workspaces", "jobs"))
    t0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def job(ws: int, user: int, status: str, minute: int | None, **extra: object) -> dict:
        started = t0 + timedelta(minutes=minute) if minute is not None else None
        return {
            "public_id": secrets.token_hex(16),
            "workspace_id": ws,
            "user_id": user,
            "queue": "gpu",
            "model_key": "m1",
            "mode": "text_to_video",
            "params": {},
            "status": status,
            "progress": 0.0,
            "cancel_requested": False,
            "attempts": 0 if status == "queued" else 1,
            "max_attempts": 3,
            "gpu_seconds": 0.0,
            "timings": {},
            "started_at": started,
            **extra,
        }

    with engine.begin() as conn:
        conn.execute(
            insert(users),
            [
                {"id": i, "email": f"u{i}@x.example", "display_name": f"U{i}"}
                | {"is_admin": False, "session_version": 1}
                for i in (1, 2)
            ],
        )
        conn.execute(
            insert(workspaces),
            [  # (every row names every column: executemany takes the first row's keys)
                {"id": i, "slug": slug, "name": slug, "max_concurrent_jobs": 2}
                | {"gpu_seconds_quota": quota}
                for i, slug, quota in ((1, "busy", None), (2, "spent", 100), (3, "new", None))
            ],
        )
        conn.execute(
            insert(jobs),
            [
                job(1, 1, "succeeded", 1, gpu_seconds=30.0),
                job(1, 2, "running", 5),
                job(1, 1, "failed", 3, gpu_seconds=50.0),
                job(1, 1, "queued", None),
                job(1, 2, "queued", None),
                job(2, 1, "succeeded", 2, gpu_seconds=120.0),  # over its quota of 100
                job(2, 1, "queued", None),
                job(3, 2, "queued", None),
                job(3, 2, "canceled", None),
            ],
        )
    engine.dispose()

    migrate.upgrade(fresh_url)
    db = Database(fresh_url)
    try:
        kept, truth = bulk.recount(db, [1, 2, 3])
        assert kept == truth
        assert kept[1][:2] == (1, 30.0) and kept[2][:2] == (0, 120.0) and kept[3][0] == 0
        with db.session_scope() as session:
            assert session.scalar(select(func.count()).select_from(Job)) == 9  # all kept
            lanes = {
                r.workspace_id: r.queued
                for r in session.execute(select(SchedulerLane.workspace_id, SchedulerLane.queued))
            }
            assert lanes == {1: 2, 2: 1, 3: 1}
            served = session.scalar(
                select(SchedulerUser.last_served_at).where(
                    SchedulerUser.workspace_id == 1, SchedulerUser.user_id == 2
                )
            )
            assert served == t0 + timedelta(minutes=5)
        order = []
        for _ in range(4):
            with db.session_scope() as session:
                got = scheduler.claim_next(session, queues=["gpu"], worker_id="w", lease_seconds=30)
                order.append(session.get(Job, got.job_id).workspace_id if got else None)
        # Never-served "new" first, then "busy" (its share allows 2 running),
        # then busy again: nobody else may run ("spent" is over its GPU quota).
        assert order == [3, 1, 1, None]
        with db.session_scope() as session:
            waiting = session.scalars(
                select(Job.workspace_id).where(Job.status == JobStatus.QUEUED)
            ).all()
        assert waiting == [2]
    finally:
        db.dispose()
