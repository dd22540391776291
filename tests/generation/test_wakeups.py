"""Wake-ups are bounded by workers, not jobs; an unserved queue is reported.

Real Redis, real `studio worker` processes, and a database of their own (so
that the embedded test server's runner, which serves gpu and cpu in the
shared test database, does not count as a worker here).
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import select, update

from studio.config import Settings
from studio.db import migrate
from studio.db.session import Database
from studio.generation import farm
from studio.generation.models import Job, JobStatus
from studio.queue import CeleryDispatcher, create_celery
from tests.conftest import PG_ADMIN_URL, unavailable
from tests.factories import bearer, login, make_api_key, make_workspace
from tests.generation import bulk
from tests.generation.celery_stack import STUDIO, Stack, build_stack, require_redis, wait_task
from tests.generation.test_celery_jobs import SLOW_MODELS, submit
from tests.ui import named


@pytest.fixture(scope="module")
def own_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('wakeups') / 'studio.db'}"
        migrate.upgrade(url)
        database = Database(url)
        yield database
        database.dispose()
        return
    name = f"studio_wake_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        unavailable(f"Postgres at {PG_ADMIN_URL}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    database = Database(url)
    yield database
    database.dispose()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="module")
def stack(
    own_db: Database,
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    artifacts_dir: Path,
) -> Iterator[Stack]:
    models = tmp_path_factory.mktemp("models") / "models.toml"
    models.write_text(SLOW_MODELS)
    mine = settings.model_copy(
        update={"database_url": own_db.url, "data_dir": tmp_path_factory.mktemp("wake-data")}
    )
    mine.media_dir = mine.data_dir / "media"
    built = build_stack(mine, models, artifacts_dir / f"wakeups-{own_db.url.split(':')[0]}")
    yield built
    built.stop_all()
    built.server.stop()


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.server.url, timeout=30) as http:
        yield http
    stack.stop_all()


def broker_waiting(stack: Stack, queue: str) -> int:
    """Messages waiting in Redis for one of the stack's queues."""
    return int(require_redis().llen(stack.env["STUDIO_QUEUE_PREFIX"] + queue))  # type: ignore[arg-type]


def wait_for_workers(db: Database, queue: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with db.session_scope() as session:
            if farm.live_workers(session).get(queue, 0) >= count:
                return
        assert time.monotonic() < deadline, f"{count} {queue} worker(s) never reported"
        time.sleep(0.2)


def test_an_unserved_queue_is_reported_and_its_messages_stay_bounded(
    own_db: Database, stack: Stack, client: httpx.Client
) -> None:
    team = make_workspace(own_db)
    key = make_api_key(own_db, team.owner, team)
    task_id = submit(client, key, duration=2)  # animatics run on the cpu queue
    # Thousands more wait, each announced as a submit would (one dispatch per job).
    bulk.add_jobs(
        own_db, [team.id], team.owner.id, "cpu", per_workspace=2000, model="slow-animatic"
    )
    dispatcher = CeleryDispatcher(create_celery(stack.server.settings), stack.server.settings)
    for _ in range(2000):
        dispatcher.dispatch("cpu", "bulk")
    assert broker_waiting(stack, "cpu") == 1
    assert dispatcher.sent <= 1  # the API's submit already left one waiting

    stack.start_worker("gpu")  # a worker, but not for the animatics' queue
    wait_for_workers(own_db, "gpu", 1)
    most = 0
    for _ in range(12):  # a few of the worker's maintenance passes (0.5 s each)
        most = max(most, broker_waiting(stack, "cpu"), broker_waiting(stack, "gpu"))
        time.sleep(0.25)
    assert most <= 1

    task = client.get(f"/v1/tasks/{task_id}", headers=bearer(key)).json()
    assert task["status"] == "PENDING"
    assert task["studio"]["waitingFor"] == "worker"
    assert "no worker serves the cpu queue" in task["studio"]["waitingMessage"]
    health = client.get("/healthz").json()
    assert health["queues"]["cpu"]["workers"] == 0 and health["queues"]["cpu"]["waiting"] >= 2001
    assert any("cpu queue" in problem for problem in health["problems"])
    status = subprocess.run(
        [STUDIO, "status"], env=stack.env, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0, status.stderr
    assert "PROBLEM: No live worker serves the cpu queue; 2001 job(s) wait" in status.stdout
    # The Generate page's queue says so too (its handler returns the queue after a submit).
    login(client, team.owner)
    page = named.call(
        client,
        "generate",
        gen_workspace=team.id,
        gen_model="slow-animatic",
        gen_mode="text_to_video",
        gen_prompt="From the page",
        gen_ratio="1280:720",
        gen_duration=2,
        gen_camera="zoom_in",
        gen_motion=0.5,
        gen_random=True,
        gen_seed=0,
    )
    assert "no worker serves the cpu queue" in named.value(page, "gen-queue")

    # Keep two; a cpu worker starts and works through them with one message at a time.
    with own_db.session_scope() as session:
        keep = session.scalars(
            select(Job.id).where(Job.workspace_id == team.id).order_by(Job.id).limit(2)
        ).all()
        session.execute(
            update(Job)
            .where(Job.workspace_id == team.id, Job.id.not_in(keep))
            .values(status=JobStatus.CANCELED, cancel_requested=True)
        )
        session.execute(update(Job).where(Job.id.in_(keep[1:])).values(params=_short_params()))
    stack.start_worker("cpu")
    wait_task(client, key, task_id, {"SUCCEEDED", "FAILED"}, timeout=120)
    deadline = time.monotonic() + 120
    while True:
        with own_db.session_scope() as session:
            statuses = session.scalars(select(Job.status).where(Job.id.in_(keep))).all()
        most = max(most, broker_waiting(stack, "cpu"))
        if all(s == JobStatus.SUCCEEDED for s in statuses):
            break
        assert time.monotonic() < deadline, (statuses, stack.worker_logs())
        time.sleep(0.2)
    assert most <= 2
    time.sleep(1.5)  # the last wake-up finds nothing and sends nothing more
    assert broker_waiting(stack, "cpu") == 0


def _short_params() -> dict[str, object]:
    """What the API stores for a 2 s animatic (the bulk rows were inserted bare)."""
    return {
        "prompt": "bulk",
        "negative_prompt": None,
        "ratio": "1280:720",
        "width": 1280,
        "height": 720,
        "duration": 2,
        "num_frames": 16,
        "fps": 24,
        "seed": 1,
        "steps": 1,
        "guidance": 1.0,
        "camera_move": "zoom_in",
        "motion_strength": None,
        "title": None,
        "user_prompt": "bulk",
    }


def test_a_lone_workspace_runs_on_every_idle_worker(
    own_db: Database, stack: Stack, client: httpx.Client
) -> None:
    team = make_workspace(own_db)  # share 2 (the default), no hard cap
    key = make_api_key(own_db, team.owner, team)
    for _ in range(3):
        stack.start_worker("cpu")
    wait_for_workers(own_db, "cpu", 3)
    tasks = [submit(client, key) for _ in range(4)]  # slow ones: 10 s of 720p zoom each
    deadline = time.monotonic() + 90
    while True:
        statuses = [
            client.get(f"/v1/tasks/{t}", headers=bearer(key)).json()["status"] for t in tasks
        ]
        if statuses.count("RUNNING") == 3:
            break  # every idle worker took one, although the share is 2
        assert "SUCCEEDED" not in statuses, (statuses, stack.worker_logs())
        assert time.monotonic() < deadline, (statuses, stack.worker_logs())
        time.sleep(0.2)
    # One wake-up waits for whoever frees up first (two if two senders raced):
    # bounded by the workers, not by the jobs.
    assert broker_waiting(stack, "cpu") <= 3
    fourth = client.get(f"/v1/tasks/{tasks[3]}", headers=bearer(key)).json()
    assert fourth["status"] == "PENDING" and fourth["studio"]["waitingFor"] == "turn"
    for task_id in tasks:
        assert client.delete(f"/v1/tasks/{task_id}", headers=bearer(key)).status_code == 204
    for task_id in tasks:
        ended = wait_task(client, key, task_id, {"CANCELLED", "SUCCEEDED", "FAILED"}, timeout=60)
        assert ended["status"] == "CANCELLED"
