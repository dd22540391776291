"""Durable webhooks on both databases: one event per task end (whichever path
ends it), claimed attempts, retries with backoff then failure, re-send, and
the address pinning (one resolution per attempt, private addresses refused,
TLS still checks the host name).

Each test here has a database of its own, so no other test's runner (the live
server's embedded runner) claims its events. Workers and the real-receiver
outage are in test_webhooks_workers.py.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from studio.accounts.access import Actor
from studio.accounts.models import User
from studio.config import Settings
from studio.db.base import utcnow
from studio.db.session import Database
from studio.generation import scheduler
from studio.generation import service as jobs
from studio.generation.models import Job, JobStatus
from studio.generation.registry import load_registry
from studio.generation.runner import JobRunner, make_worker_id
from studio.generation.webhooks import WebhookSender, resend_delivery, set_webhook, sign
from studio.generation.webhooks.addresses import pin
from studio.generation.webhooks.models import DeliveryStatus, WebhookDelivery
from studio.generation.webhooks.outbox import claim_due
from studio.media.storage import LocalStorage
from tests.conftest import free_port
from tests.factories import WorkspaceInfo, make_workspace
from tests.generation.webhook_helpers import (
    Receiver,
    deliveries,
    fresh_database,
    make_tls_pair,
)

HOST = "hooks.test"  # resolved only by the tests' own resolvers


@pytest.fixture(scope="module")
def own_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with fresh_database(backend, tmp_path_factory.mktemp("hooks-db")) as url:
        database = Database(url)
        yield database
        database.dispose()


@pytest.fixture(scope="module")
def own_settings(own_db: Database, settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "database_url": own_db.url,
            "webhooks_allow_private": True,
            "webhook_backoff_base_seconds": 0.05,
            "webhook_backoff_max_seconds": 0.2,
            "webhook_max_attempts": 3,
            "webhook_timeout_seconds": 2.0,
            "webhook_lease_seconds": 30.0,
        }
    )


@pytest.fixture(autouse=True)
def settle_leftovers(own_db: Database) -> Iterator[None]:
    """Each test sees only its own due events: the module shares one database."""
    yield
    with own_db.session_scope() as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.FAILED)
        )


class NoDispatch:
    def dispatch(self, queue: str, public_id: str) -> None:
        pass


def actor_of(session, user_id: int) -> Actor:  # type: ignore[no-untyped-def]
    user = session.get(User, user_id)
    assert user is not None
    return Actor(user=user)


def hooked_workspace(db: Database, url: str, resolver=None) -> tuple[WorkspaceInfo, str]:  # type: ignore[no-untyped-def]
    """A workspace whose webhook is `url`; returns it and the signing secret."""
    team = make_workspace(db)
    with db.session_scope() as session:
        secret = set_webhook(
            session,
            actor_of(session, team.owner.id),
            team.id,
            url,
            allow_private=True,
            **({"resolver": resolver} if resolver else {}),
        )
    assert secret is not None
    return team, secret


def queued_job(db: Database, team: WorkspaceInfo, *, max_attempts: int = 3) -> int:
    with db.session_scope() as session:
        job = Job(
            workspace_id=team.id,
            user_id=team.owner.id,
            queue="q-hooks",
            model_key="m",
            mode="text_to_image",
            params={},
            status=JobStatus.QUEUED,
            max_attempts=max_attempts,
        )
        session.add(job)
        session.flush()
        return job.id


def cancel_queued(db: Database, team: WorkspaceInfo, job_id: int) -> None:
    with db.session_scope() as session:
        public_id = session.get(Job, job_id).public_id  # type: ignore[union-attr]
        jobs.cancel_job(session, actor_of(session, team.owner.id), public_id)


def events_of(db: Database, job_id: int) -> list[WebhookDelivery]:
    with db.session_scope() as session:
        return list(
            session.scalars(select(WebhookDelivery).where(WebhookDelivery.job_id == job_id))
        )


def status_of(db: Database, job_id: int) -> JobStatus:
    with db.session_scope() as session:
        return session.get(Job, job_id).status  # type: ignore[union-attr]


def worker_died(db: Database, job_id: int) -> None:
    """The job was claimed by a worker that then died: running, lease run out."""
    with db.session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status=JobStatus.RUNNING,
                worker_id="w-gone",
                attempts=Job.attempts + 1,
                lease_expires_at=utcnow() - timedelta(seconds=5),
            )
        )


def reap(db: Database) -> None:
    with db.session_scope() as session:
        scheduler.reap_expired(session)


def test_every_way_a_task_ends_records_exactly_one_event(
    own_db: Database, own_settings: Settings
) -> None:
    db = own_db
    team, _ = hooked_workspace(db, "http://127.0.0.1:9/hook")
    registry = load_registry(None)
    storage = LocalStorage(own_settings.media_path)

    def submit() -> int:
        with db.session_scope() as session:
            job, _ = jobs.submit_job(
                session,
                actor_of(session, team.owner.id),
                workspace_id=team.id,
                request=jobs.Submission(mode="text_to_image", prompt="Hook", model="animatic"),
                registry=registry,
                storage=storage,
                dispatcher=NoDispatch(),
            )
            return job.id

    runner = JobRunner(
        db, own_settings, registry, queues=["gpu", "cpu"], worker_id=make_worker_id("test")
    )
    # 1. The runner's finish.
    succeeded = submit()
    assert runner.work_once() is not None and status_of(db, succeeded) is JobStatus.SUCCEEDED
    # 2. The runner's failure path (params the engine cannot read).
    failing = submit()
    with db.session_scope() as session:
        job = session.get(Job, failing)
        assert job is not None
        job.params = {**job.params, "width": "wide"}
    assert runner.work_once() is not None and status_of(db, failing) is JobStatus.FAILED
    # 3. Cancelling a queued job.
    canceled = queued_job(db, team)
    cancel_queued(db, team, canceled)
    # 4. The reaper failing a job whose worker died on its last attempt.
    lost = queued_job(db, team, max_attempts=1)
    worker_died(db, lost)
    reap(db)
    # 5. The reaper ending a job whose worker died after a cancel was asked for.
    stopped = queued_job(db, team)
    worker_died(db, stopped)
    with db.session_scope() as session:
        jobs.cancel_job(
            session,
            actor_of(session, team.owner.id),
            session.get(Job, stopped).public_id,  # type: ignore[union-attr]
        )
    reap(db)
    # 6. Requeued by the reaper: not an end, no event.
    requeued = queued_job(db, team, max_attempts=2)
    worker_died(db, requeued)
    reap(db)
    assert status_of(db, lost) is JobStatus.FAILED
    assert status_of(db, stopped) is JobStatus.CANCELED
    assert status_of(db, requeued) is JobStatus.QUEUED

    for job_id in (succeeded, failing, canceled, lost, stopped):
        (event,) = events_of(db, job_id)
        assert event.status is DeliveryStatus.PENDING and event.attempts == 0
        assert event.event == "task.finished" and event.workspace_id == team.id
    assert events_of(db, requeued) == []

    # Ending again changes nothing: the conditional updates match no row, and
    # even a forced second end finds the event already there.
    cancel_queued(db, team, canceled)
    with db.session_scope() as session:
        scheduler.reap_expired(session)
        session.execute(update(Job).where(Job.id == succeeded).values(status=JobStatus.RUNNING))
        session.execute(update(Job).where(Job.id == succeeded).values(status=JobStatus.FAILED))
    assert len(events_of(db, succeeded)) == 1 and len(events_of(db, canceled)) == 1

    # An end that rolls back leaves no event; a workspace without a webhook gets none.
    rolled_back = queued_job(db, team)
    with pytest.raises(RuntimeError), db.session_scope() as session:
        session.execute(update(Job).where(Job.id == rolled_back).values(status=JobStatus.CANCELED))
        raise RuntimeError("the end's transaction fails")
    assert status_of(db, rolled_back) is JobStatus.QUEUED and events_of(db, rolled_back) == []
    quiet = make_workspace(db)
    silent = queued_job(db, quiet)
    cancel_queued(db, quiet, silent)
    assert status_of(db, silent) is JobStatus.CANCELED and events_of(db, silent) == []


def test_a_failing_receiver_gets_bounded_retries_then_a_resend_delivers(
    own_db: Database, own_settings: Settings
) -> None:
    with Receiver(status=500) as receiver:
        team, secret = hooked_workspace(own_db, f"http://127.0.0.1:{receiver.port}/hook")
        job_id = queued_job(own_db, team)
        cancel_queued(own_db, team, job_id)
        hooks = WebhookSender(own_db, own_settings)
        for _ in range(50):
            hooks.deliver_due()
            (row,) = deliveries(own_db, team.id)
            if row.status is not DeliveryStatus.PENDING:
                break
            threading.Event().wait(0.05)
        assert row.status is DeliveryStatus.FAILED
        assert (row.attempts, row.last_status_code) == (3, 500)
        assert "HTTP 500" in (row.last_error or "")
        # Three tries of one event, numbered, each correctly signed, backing off.
        assert [r.attempt for r in receiver.received] == [1, 2, 3]
        assert {r.event_id for r in receiver.received} == {row.event_id}
        for received in receiver.received:
            timestamp = int(received.headers["Studio-Signature"].split(",")[0].split("=")[1])
            assert received.headers["Studio-Signature"] == sign(received.body, secret, timestamp)
            assert received.payload["id"] == row.event_id
            assert received.payload["task"]["status"] == "CANCELLED"
        assert hooks.deliver_due() == 0  # failed is final

        # A re-send starts a fresh set of attempts; the receiver now works.
        receiver.status = 204
        with own_db.session_scope() as session:
            view = resend_delivery(session, actor_of(session, team.owner.id), team.id, row.event_id)
        assert (view.status, view.attempts) == (DeliveryStatus.PENDING, 0)
        assert hooks.deliver_due() == 1
        (row,) = deliveries(own_db, team.id)
        assert (row.status, row.attempts, row.last_status_code) == (
            DeliveryStatus.DELIVERED,
            1,
            204,
        )
        assert receiver.received[-1].event_id == row.event_id  # same id: receivers dedupe


def test_two_senders_never_send_the_same_attempt(own_db: Database, own_settings: Settings) -> None:
    """Two delivery loops with their own connection pools (as on two hosts) drain
    one outbox at once: every event is sent exactly once."""
    with Receiver() as receiver:
        team, _ = hooked_workspace(own_db, f"http://127.0.0.1:{receiver.port}/hook")
        ids = [queued_job(own_db, team) for _ in range(60)]
        with own_db.session_scope() as session:
            session.execute(update(Job).where(Job.id.in_(ids)).values(status=JobStatus.CANCELED))
        # Claims alone: two concurrent claims never share a row.
        second = Database(own_db.url)
        got: dict[str, list[int]] = {}
        gate = threading.Barrier(2)

        def claim(name: str, database: Database) -> None:
            gate.wait()
            with database.session_scope() as session:
                rows = claim_due(session, token=name, now=utcnow(), lease_seconds=1, limit=20)
            got[name] = [r.id for r in rows]

        threads = [
            threading.Thread(target=claim, args=(n, d)) for n, d in (("a", own_db), ("b", second))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not set(got["a"]) & set(got["b"])
        assert len(got["a"]) + len(got["b"]) == 40
        with own_db.session_scope() as session:  # hand them back
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.workspace_id == team.id)
                .values(claimed_by=None, lease_expires_at=None, attempts=0)
            )

        senders = [WebhookSender(own_db, own_settings), WebhookSender(second, own_settings)]
        gate = threading.Barrier(2)

        def drain(hooks: WebhookSender) -> None:
            gate.wait()
            while hooks.deliver_due():
                pass

        threads = [threading.Thread(target=drain, args=(s,)) for s in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        second.dispose()
    rows = deliveries(own_db, team.id)
    assert {r.status for r in rows} == {DeliveryStatus.DELIVERED}
    assert all(r.attempts == 1 for r in rows)
    assert receiver.events() == Counter({r.event_id: 1 for r in rows})


class SwitchingResolver:
    """A name that answers one address, then another (DNS rebinding)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


def test_each_attempt_connects_to_the_address_it_checked(
    own_db: Database, own_settings: Settings
) -> None:
    """The name answers 127.0.0.1 to the check and 127.0.0.2 to any later lookup:
    the POST goes to 127.0.0.1, by the host's name, and the name is looked up once."""
    port = free_port()
    with Receiver("127.0.0.1", port) as good, Receiver("127.0.0.2", port) as other:
        team, _ = hooked_workspace(
            own_db, f"http://{HOST}:{port}/hook", resolver=lambda h, p: ["127.0.0.1"]
        )
        cancel_queued(own_db, team, queued_job(own_db, team))
        resolver = SwitchingResolver(["127.0.0.1"], ["127.0.0.2"])
        assert WebhookSender(own_db, own_settings, resolver=resolver).deliver_due() == 1
        assert resolver.calls == [(HOST, port)]  # one resolution for the attempt
        assert len(good.received) == 1 and other.connections == 0
        assert good.received[0].headers["Host"] == f"{HOST}:{port}"
        (row,) = deliveries(own_db, team.id)
        assert row.status is DeliveryStatus.DELIVERED


def test_a_private_address_is_refused_and_never_connected_to(
    own_db: Database, own_settings: Settings
) -> None:
    public_only = own_settings.model_copy(update={"webhooks_allow_private": False})
    with Receiver("127.0.0.1") as receiver:
        team, _ = hooked_workspace(
            own_db, f"http://{HOST}:{receiver.port}/hook", lambda h, p: ["127.0.0.1"]
        )
        cancel_queued(own_db, team, queued_job(own_db, team))
        # A name that mixes a public answer with a loopback one is refused too.
        for answers in (["127.0.0.1"], ["8.8.8.8", "127.0.0.1"], ["::ffff:127.0.0.1"]):
            with own_db.session_scope() as session:
                session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.workspace_id == team.id)
                    .values(next_attempt_at=utcnow(), attempts=0, status=DeliveryStatus.PENDING)
                )
            resolver = SwitchingResolver(answers)
            assert WebhookSender(own_db, public_only, resolver=resolver).deliver_due() == 1
            (row,) = deliveries(own_db, team.id)
            assert row.status is DeliveryStatus.PENDING and row.last_status_code is None
            assert "private or local address" in (row.last_error or "")
        assert receiver.connections == 0 and receiver.received == []
    for url in ("http://127.0.0.1/x", "http://10.1.2.3/x", "http://[::1]/x", "http://0.0.0.0/x"):
        with pytest.raises(Exception, match="private or local"):
            pin(url, allow_private=False)
    for url in ("ftp://example.com/x", "http://user:pw@example.com/x", "https:///x"):
        with pytest.raises(Exception, match=r"https://|user name"):
            pin(url, allow_private=True)


def test_https_keeps_the_host_name_for_sni_and_the_certificate(
    own_db: Database, own_settings: Settings, tmp_path: Path
) -> None:
    server_tls, client_tls = make_tls_pair(HOST, tmp_path)
    with Receiver("127.0.0.1", tls=server_tls) as receiver:
        url = f"https://{HOST}:{receiver.port}/hook"
        team, _ = hooked_workspace(own_db, url, resolver=lambda h, p: ["127.0.0.1"])
        cancel_queued(own_db, team, queued_job(own_db, team))
        hooks = WebhookSender(
            own_db, own_settings, resolver=lambda h, p: ["127.0.0.1"], ssl_context=client_tls
        )
        assert hooks.deliver_due() == 1
        (row,) = deliveries(own_db, team.id)
        assert row.status is DeliveryStatus.DELIVERED, row.last_error
        assert receiver.server_names == [HOST]
        assert receiver.received[0].headers["Host"] == f"{HOST}:{receiver.port}"

        # The same address under another name: the certificate does not match it.
        other, _ = hooked_workspace(
            own_db, f"https://other.test:{receiver.port}/hook", resolver=lambda h, p: ["127.0.0.1"]
        )
        cancel_queued(own_db, other, queued_job(own_db, other))
        assert hooks.deliver_due() == 1
        (row,) = deliveries(own_db, other.id)
        assert row.status is DeliveryStatus.PENDING
        assert "certificate" in (row.last_error or "").lower()
        assert len(receiver.received) == 1


def test_a_port_with_nothing_listening_is_a_retried_failure(
    own_db: Database, own_settings: Settings
) -> None:
    port = free_port()
    team, _ = hooked_workspace(own_db, f"http://127.0.0.1:{port}/hook")
    cancel_queued(own_db, team, queued_job(own_db, team))
    assert WebhookSender(own_db, own_settings).deliver_due() == 1
    (row,) = deliveries(own_db, team.id)
    assert row.status is DeliveryStatus.PENDING and row.attempts == 1
    assert "refused" in (row.last_error or "").lower()
    assert row.next_attempt_at > row.last_attempt_at  # type: ignore[operator]
