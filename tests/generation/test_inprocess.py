"""The embedded default's runner recovers jobs a dead process was running."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

from sqlalchemy import update

from studio.accounts import service as accounts
from studio.accounts.access import Actor
from studio.config import Settings
from studio.db.base import utcnow
from studio.db.session import Database
from studio.generation import service as jobs
from studio.generation.inprocess import InProcessRunner
from studio.generation.models import Job, JobStatus
from studio.generation.registry import load_registry
from studio.media.storage import LocalStorage
from tests.factories import make_workspace

DEAD_PID = 4_194_305  # above the largest pid_max Linux allows (2**22): no process has it


def test_jobs_interrupted_by_a_dead_process_run_again_at_start_up(
    db: Database, settings: Settings
) -> None:
    team = make_workspace(db)
    registry = load_registry()
    runner = InProcessRunner(db, settings, registry)
    with db.session_scope() as session:
        actor = Actor(user=accounts.get_user(session, team.owner.id))  # type: ignore[arg-type]
        job, _ = jobs.submit_job(
            session,
            actor,
            workspace_id=team.id,
            request=jobs.Submission(mode="text_to_image", prompt="after a crash", model="animatic"),
            registry=registry,
            storage=LocalStorage(settings.media_path),
            dispatcher=runner,
        )
        job_id = job.id
    # As a process that died mid-job leaves it: running, a lease far in the future.
    with db.session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status=JobStatus.RUNNING,
                attempts=1,
                worker_id=f"embedded@{socket.gethostname()}:{DEAD_PID}:abc123",
                lease_expires_at=utcnow() + timedelta(hours=1),
            )
        )
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            with db.session_scope() as session:
                row = session.get(Job, job_id)
                assert row is not None
                if row.status.finished:
                    break
            assert time.monotonic() < deadline, f"job still {row.status}"
            time.sleep(0.1)
        assert row.status == JobStatus.SUCCEEDED
        assert row.attempts == 2
    finally:
        runner.stop()
