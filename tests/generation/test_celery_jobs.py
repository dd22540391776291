"""Jobs survive workers and Redis dying: real Redis, real `studio worker` processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from studio.config import Settings
from studio.db.session import Database
from studio.generation.models import Job
from studio.media.models import Asset
from tests.factories import make_api_key, make_workspace
from tests.generation.celery_stack import Stack, build_stack, require_redis, wait_task

# Long enough to be killed mid-job: 240 frames of 1280x720 with a zoom.
SLOW_MODELS = """
[models.slow-animatic]
name = "Slow animatic"
engine = "animatic"
modes = ["text_to_video"]
ratios = { "1280:720" = [1280, 720] }
durations = { 2 = 16, 10 = 240 }
fps = 24
camera_move = "native"
default_steps = 1
memory_gb = 0
"""


@pytest.fixture(scope="module")
def stack(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path
) -> Iterator[Stack]:
    models = tmp_path_factory.mktemp("models") / "models.toml"
    models.write_text(SLOW_MODELS)
    built = build_stack(
        settings, models, artifacts_dir / f"workers-{settings.database_url.split(':')[0]}"
    )
    yield built
    built.stop_all()
    built.server.stop()


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    stack.stop_all()
    with httpx.Client(base_url=stack.server.url, timeout=30) as http:
        yield http
    stack.stop_all()


def submit(client: httpx.Client, key: str, duration: int = 10) -> str:
    body = {
        "promptText": "A slow push in",
        "model": "slow-animatic",
        "duration": duration,
        "cameraMove": "zoom_in",
    }
    response = client.post(
        "/v1/text_to_video", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def outputs_of(db: Database, task_id: str) -> tuple[int, int]:
    with db.session_scope() as session:
        job = session.scalar(select(Job).where(Job.public_id == task_id))
        assert job is not None
        assets = session.scalar(
            select(func.count())
            .select_from(Asset)
            .where(Asset.storage_key.like(f"%/jobs/{task_id}/%"))
        )
        return job.attempts, int(assets or 0)


def test_a_worker_runs_a_job_sent_through_redis(
    db: Database, stack: Stack, client: httpx.Client
) -> None:
    team = make_workspace(db)
    key = make_api_key(db, team.owner, team)
    stack.start_worker("cpu")
    task = wait_task(
        client, key, submit(client, key, duration=2), {"SUCCEEDED", "FAILED"}, timeout=60
    )
    assert task["status"] == "SUCCEEDED", (task, stack.worker_logs())


def test_kill_9_mid_job_then_the_job_finishes_exactly_once(
    db: Database, stack: Stack, client: httpx.Client
) -> None:
    team = make_workspace(db)
    key = make_api_key(db, team.owner, team)
    first = stack.start_worker("cpu")
    task_id = submit(client, key)
    wait_task(client, key, task_id, {"RUNNING"}, timeout=60)
    stack.kill(first)
    stack.start_worker("cpu")
    task = wait_task(client, key, task_id, {"SUCCEEDED", "FAILED"}, timeout=120)
    assert task["status"] == "SUCCEEDED", (task, stack.worker_logs())
    attempts, assets = outputs_of(db, task_id)
    assert attempts == 2
    assert assets == 2  # one video and one poster: written once


def test_redis_flushed_mid_queue_loses_no_job(
    db: Database, stack: Stack, client: httpx.Client
) -> None:
    team = make_workspace(db)
    key = make_api_key(db, team.owner, team)
    task_ids = [submit(client, key, duration=2) for _ in range(3)]
    require_redis().flushdb()  # every message is gone; the rows are not
    stack.start_worker("cpu")
    for task_id in task_ids:
        task = wait_task(client, key, task_id, {"SUCCEEDED", "FAILED"}, timeout=120)
        assert task["status"] == "SUCCEEDED", (task, stack.worker_logs())


def test_a_job_that_always_crashes_its_worker_stops_after_max_attempts(
    db: Database, stack: Stack, client: httpx.Client
) -> None:
    team = make_workspace(db)
    key = make_api_key(db, team.owner, team)
    task_id = submit(client, key)
    for attempt in (1, 2):  # max attempts is 2 in this stack
        worker = stack.start_worker("cpu")
        # The killed attempt still shows RUNNING until its lease expires; wait for this one.
        deadline = time.monotonic() + 60
        while True:
            running = wait_task(client, key, task_id, {"RUNNING"}, timeout=60)
            if running["studio"]["attempts"] == attempt:
                break
            assert time.monotonic() < deadline, running
            time.sleep(0.2)
        stack.kill(worker)
    stack.start_worker("cpu")  # its maintenance pass finds the expired lease
    task = wait_task(client, key, task_id, {"FAILED", "SUCCEEDED"}, timeout=60)
    assert task["status"] == "FAILED"
    assert task["failureCode"] == "worker_lost"
    assert "stopped responding 2 times" in task["failure"]
    with db.session_scope() as session:
        job = session.scalar(select(Job).where(Job.public_id == task_id))
        assert job is not None and job.gpu_seconds == 0
