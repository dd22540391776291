"""Webhooks delivered by real `studio worker` processes (Redis, the maintenance
loop), to a real receiver on loopback: a receiver that is down for a while
gets every event once it is back, and a worker killed with kill -9 in the
middle of a delivery loses no event."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from studio.config import Settings
from studio.db.session import Database
from studio.generation.webhooks import sign
from studio.generation.webhooks.models import DeliveryStatus, WebhookDelivery
from tests.conftest import free_port
from tests.factories import bearer, make_api_key, make_workspace
from tests.generation.celery_stack import Stack, build_stack, wait_task
from tests.generation.webhook_helpers import Receiver, deliveries, fresh_database

QUICK_MODELS = """
[models.quick-animatic]
name = "Quick animatic"
engine = "animatic"
modes = ["text_to_video"]
ratios = { "1280:720" = [128, 72] }
durations = { 2 = 4 }
fps = 4
camera_move = "native"
default_steps = 1
memory_gb = 0
"""

# Seconds instead of minutes: retries back off from 0.3 s to 1 s; an attempt
# whose worker died is retried once its 5 s lease runs out.
HOOK_SETTINGS = {
    "webhook_backoff_base_seconds": 0.3,
    "webhook_backoff_max_seconds": 1.0,
    "webhook_max_attempts": 60,
    "webhook_timeout_seconds": 1.5,
    "webhook_lease_seconds": 5.0,
}


@pytest.fixture(scope="module")
def own_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with fresh_database(backend, tmp_path_factory.mktemp("hooks-db")) as url:
        database = Database(url)
        yield database
        database.dispose()


@pytest.fixture(scope="module")
def stack(
    own_db: Database,
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    artifacts_dir: Path,
) -> Iterator[Stack]:
    models = tmp_path_factory.mktemp("models") / "models.toml"
    models.write_text(QUICK_MODELS)
    built = build_stack(
        settings.model_copy(update={"database_url": own_db.url}),
        models,
        artifacts_dir / f"webhook-workers-{own_db.url.split(':')[0]}",
        **HOOK_SETTINGS,
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


def submit(client: httpx.Client, key: str) -> str:
    body = {"promptText": "A hook", "model": "quick-animatic", "duration": 2}
    response = client.post("/v1/text_to_video", json=body, headers=bearer(key))
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def hook_up(client: httpx.Client, key: str, slug: str, port: int) -> str:
    response = client.put(
        f"/v1/workspaces/{slug}/webhook",
        json={"url": f"http://127.0.0.1:{port}/hook"},
        headers=bearer(key),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["secret"])


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, stack: Stack | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}\n{stack.worker_logs() if stack else ''}")
        time.sleep(0.1)


def test_a_receiver_down_for_a_while_gets_every_event_once_it_is_back(
    own_db: Database, stack: Stack, client: httpx.Client
) -> None:
    team = make_workspace(own_db)
    key = make_api_key(own_db, team.owner, team)
    port = free_port()  # nothing listens here yet: connections are refused
    secret = hook_up(client, key, team.slug, port)
    stack.start_worker()
    stack.start_worker()  # two maintenance loops, as on two hosts
    task_ids = [submit(client, key) for _ in range(6)]
    for task_id in task_ids:
        task = wait_task(client, key, task_id, {"SUCCEEDED", "FAILED"}, timeout=90)
        assert task["status"] == "SUCCEEDED", (task, stack.worker_logs())

    def retried_while_down() -> bool:
        rows = deliveries(own_db, team.id)
        return len(rows) == len(task_ids) and all(r.attempts >= 3 for r in rows)

    down_since = time.monotonic()
    wait_until(retried_while_down, 60, "events were not retried while the receiver was down")
    rows = deliveries(own_db, team.id)
    assert all(r.status is DeliveryStatus.PENDING for r in rows)
    assert all("refused" in (r.last_error or "").lower() for r in rows)
    time.sleep(max(0.0, 3.0 - (time.monotonic() - down_since)))  # down a few seconds, for real

    with Receiver("127.0.0.1", port) as receiver:
        wait_until(
            lambda: all(r.status is DeliveryStatus.DELIVERED for r in deliveries(own_db, team.id)),
            60,
            "not every event was delivered once the receiver was back",
            stack,
        )
    by_task = {r.payload["task"]["id"]: r for r in receiver.received}
    assert sorted(by_task) == sorted(task_ids)
    # Exactly once each: no crash here, so the two loops' claims never overlap.
    assert sorted(receiver.events().values()) == [1] * len(task_ids)
    for received in receiver.received:
        timestamp = int(received.headers["Studio-Signature"].split(",")[0].split("=")[1])
        assert received.headers["Studio-Signature"] == sign(received.body, secret, timestamp)
        assert received.event_id == "evt_" + received.payload["task"]["id"]
        assert received.payload["task"]["status"] == "SUCCEEDED"
        assert received.attempt >= 4  # three refused, at least, before this one

    log = client.get(f"/v1/workspaces/{team.slug}/webhook/deliveries", headers=bearer(key))
    assert log.status_code == 200, log.text
    shown = log.json()["deliveries"]
    assert {d["taskId"] for d in shown} == set(task_ids)
    for item in shown:
        assert item["status"] == "delivered" and item["lastStatusCode"] == 204
        assert item["attempts"] >= 4 and item["nextAttemptAt"] is None


def test_a_worker_killed_mid_delivery_loses_no_event(
    own_db: Database, stack: Stack, client: httpx.Client
) -> None:
    team = make_workspace(own_db)
    key = make_api_key(own_db, team.owner, team)
    with Receiver() as receiver:
        receiver.stall_next = True  # read the first POST, never answer it
        hook_up(client, key, team.slug, receiver.port)
        first = stack.start_worker()
        task_id = submit(client, key)
        wait_until(receiver.stalled.is_set, 90, "the first attempt never arrived", stack)
        (row,) = deliveries(own_db, team.id)
        assert row.status is DeliveryStatus.PENDING and row.claimed_by is not None
        stack.kill(first)  # kill -9 while its POST waits for an answer
        receiver.release.set()
        stack.start_worker()  # picks the event up once the dead worker's lease runs out
        wait_until(
            lambda: deliveries(own_db, team.id)[0].status is DeliveryStatus.DELIVERED,
            60,
            "the event was lost with the worker",
            stack,
        )
    (row,) = deliveries(own_db, team.id)
    assert isinstance(row, WebhookDelivery) and row.attempts == 2
    # At-least-once: the receiver saw the event twice (the unanswered try and the
    # retry), under one event id, so deduplicating leaves exactly one.
    assert [r.attempt for r in receiver.received] == [1, 2]
    assert receiver.events() == {f"evt_{task_id}": 2}
