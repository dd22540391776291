"""A worker killed while writing leaves a temporary file; the maintenance loop
removes it once its job is no longer running (issue 13, finding 8)."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import update

from studio.config import Settings
from studio.db.base import utcnow
from studio.db.session import Database
from studio.generation import cleanup
from studio.generation.models import Job, JobStatus
from tests.api.test_tasks import bearer, wait_for
from tests.factories import make_api_key, make_workspace


def test_maintenance_removes_temp_files_of_jobs_no_longer_running(
    db: Database, http: httpx.Client, settings: Settings
) -> None:
    team = make_workspace(db)
    key = make_api_key(db, team.owner, team)
    ids = []
    for prompt in ("finished", "still running"):
        made = http.post(
            "/v1/text_to_video",
            json={"model": "animatic", "promptText": prompt, "duration": 1},
            headers=bearer(key),
        ).json()
        assert wait_for(http, key, made["id"], {"SUCCEEDED"})["status"] == "SUCCEEDED"
        ids.append(made["id"])
    done, running = ids
    # The second job is (as far as the database knows) running on a live worker.
    with db.session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.public_id == running)
            .values(status=JobStatus.RUNNING, lease_expires_at=utcnow() + timedelta(hours=1))
        )
    folders = {pid: settings.media_path / f"ws{team.id}/jobs/{pid}" for pid in ids}
    left = folders[done] / ".a1-output.mp4.0123456789ab.tmp"
    writing = folders[running] / ".a1-output.mp4.ba9876543210.tmp"
    for path in (left, writing):
        path.write_bytes(b"half a video")
    finished_output = [p for p in folders[done].iterdir() if not p.name.startswith(".")]
    deadline = time.monotonic() + 15
    while left.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left.exists(), "the maintenance loop left a dead write's temporary file"
    assert writing.exists(), "a running job's file in progress must stay"
    assert all(p.exists() for p in finished_output)  # only temporary files go
    with db.session_scope() as session:  # leave the job as the runner would find it
        session.execute(
            update(Job).where(Job.public_id == running).values(status=JobStatus.SUCCEEDED)
        )
    os.unlink(writing)


def test_stale_scratch_folders_of_killed_workers_are_removed(tmp_path: Path) -> None:
    """With object storage a worker writes in scratch folders; a killed one leaves them."""
    old_out = tmp_path / "studio-out-dead"
    old_in = tmp_path / "studio-in-dead"
    fresh = tmp_path / "studio-out-running"
    other = tmp_path / "someone-elses"
    for folder in (old_out, old_in, fresh, other):
        folder.mkdir()
        (folder / "a1-output.mp4").write_bytes(b"frames")
    hours_ago = time.time() - 3 * 3600
    for folder in (old_out, old_in, other):
        os.utime(folder, (hours_ago, hours_ago))
    assert cleanup.remove_stale_scratch(tmp_path) == 2
    assert not old_out.exists() and not old_in.exists()
    assert fresh.exists(), "a running job's scratch must stay"
    assert other.exists(), "only the workers' own scratch folders are touched"
