"""Delivering the outbox: signed POSTs with retries, from the workers' maintenance loops.

Each attempt is claimed in the database first (outbox.claim_due), so two
loops on two hosts never send the same attempt; a worker killed mid-send
leaves a lease that runs out, and the event goes out again (at-least-once).

The body is the task as GET /v1/tasks/{id} returns it, built at send time (so
its media URLs are fresh), wrapped as {"id": <event id>, "event":
"task.finished", "task": {...}}. Headers:
- `Studio-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with
  the workspace's webhook secret (Stripe's scheme, so receivers know it);
- `Studio-Event-Id`: the same on every attempt and re-send: dedupe on it;
- `Studio-Delivery-Attempt`: 1, 2, ...
A 2xx answer delivers; anything else (another status, a refused or
unresolvable address, a timeout, a refused connection) is retried with
exponential backoff until STUDIO_WEBHOOK_MAX_ATTEMPTS, then marked failed.
Every attempt resolves the host once and connects to that address (addresses.py).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import os
import socket
import ssl
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from studio.accounts.models import Workspace
from studio.config import Settings
from studio.db.base import utcnow
from studio.db.session import Database
from studio.errors import InvalidInput
from studio.generation import runway, service
from studio.generation.models import Job
from studio.generation.webhooks import outbox
from studio.generation.webhooks.addresses import Resolver, pin, post, system_resolver
from studio.generation.webhooks.models import DeliveryStatus

log = logging.getLogger(__name__)
BATCH = 50  # deliveries claimed per pass
PARALLEL = 8  # sent at once: one slow receiver does not hold up the others
USER_AGENT = "Studio-Webhooks/1"


def sign(body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(frozen=True)
class Outgoing:
    """One claimed attempt, ready to send (url None: the webhook was removed)."""

    claimed: outbox.Claimed
    url: str | None
    secret: str | None
    body: bytes


@dataclass(frozen=True)
class Result:
    url: str | None
    status_code: int | None = None
    error: str | None = None
    give_up: bool = False


class WebhookSender:
    """Delivers due webhook events; one per process (Celery worker or embedded runner).

    `pump()` starts a delivery pass in a background thread unless one is
    running, so the maintenance loop that calls it is never held up by a slow
    receiver. `job_finished()` pumps too, so an event usually goes out the
    moment its task ends rather than at the next maintenance pass.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.resolver = resolver
        self.ssl_context = ssl_context
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.policy = outbox.Policy(
            max_attempts=settings.webhook_max_attempts,
            backoff_base_seconds=settings.webhook_backoff_base_seconds,
            backoff_max_seconds=settings.webhook_backoff_max_seconds,
            lease_seconds=settings.webhook_lease_seconds,
        )
        self._lock = threading.Lock()
        self._again = False
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ scheduling

    def job_finished(self, public_id: str) -> None:
        self.pump()

    def pump(self) -> None:
        with self._lock:
            self._again = True
            if self._thread is not None:  # the running pass will look again
                return
            self._thread = threading.Thread(target=self._drain, daemon=True, name="webhooks")
            self._thread.start()

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._again:
                    self._thread = None  # under the lock: a pump from now on starts a new one
                    return
                self._again = False
            try:
                if self.deliver_due():
                    with self._lock:
                        self._again = True  # a full batch may have left more behind
            except Exception:
                log.warning("webhook delivery pass failed; retrying at the next one", exc_info=True)

    # ------------------------------------------------------------ one pass

    def deliver_due(self) -> int:
        """Claim due deliveries, send them, record the outcomes; how many were attempted."""
        token = f"{self.name}:{uuid.uuid4().hex[:12]}"
        with self.db.session_scope() as session:
            claimed = outbox.claim_due(
                session,
                token=token,
                now=utcnow(),
                lease_seconds=self.policy.lease_seconds,
                limit=BATCH,
            )
        if not claimed:
            return 0
        outgoing = [self._prepare(c) for c in claimed]
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(outgoing))) as pool:
            results = list(pool.map(self._send, outgoing))
        with self.db.session_scope() as session:
            for item, result in zip(outgoing, results, strict=True):
                status = outbox.record_attempt(
                    session,
                    item.claimed,
                    token=token,
                    now=utcnow(),
                    policy=self.policy,
                    url=result.url,
                    status_code=result.status_code,
                    error=result.error,
                    give_up=result.give_up,
                )
                if status is DeliveryStatus.FAILED:
                    log.warning(
                        "webhook %s gave up after %d attempt(s): %s",
                        item.claimed.event_id,
                        item.claimed.attempt,
                        result.error or f"HTTP {result.status_code}",
                    )
        return len(claimed)

    def _prepare(self, claimed: outbox.Claimed) -> Outgoing:
        with self.db.session_scope() as session:
            workspace = session.get(Workspace, claimed.workspace_id)
            job = session.get(Job, claimed.job_id)
            if workspace is None or job is None or not workspace.webhook_url:
                return Outgoing(claimed, None, None, b"")
            view = service.views_for(session, [job])[0]
            task = runway.task_json(
                view,
                base_url=self.settings.base_url,
                secret=self.settings.resolved_secret_key(),
                ttl_seconds=self.settings.media_url_ttl_seconds,
            )
            body = {"id": claimed.event_id, "event": "task.finished", "task": task}
            return Outgoing(
                claimed,
                workspace.webhook_url,
                workspace.webhook_secret,
                json.dumps(body, separators=(",", ":")).encode(),
            )

    def _send(self, item: Outgoing) -> Result:
        if item.url is None or item.secret is None:
            return Result(
                None,
                error="The workspace's webhook was removed before this event was delivered.",
                give_up=True,
            )
        try:
            # Resolve once, check, and connect to exactly that address.
            target = pin(
                item.url,
                allow_private=self.settings.webhooks_allow_private,
                resolver=self.resolver,
            )
        except InvalidInput as exc:
            return Result(item.url, error=exc.message)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Studio-Signature": sign(item.body, item.secret, int(time.time())),
            "Studio-Event-Id": item.claimed.event_id,
            "Studio-Delivery-Attempt": str(item.claimed.attempt),
        }
        try:
            code = post(
                target,
                item.body,
                headers,
                timeout=self.settings.webhook_timeout_seconds,
                ssl_context=self.ssl_context,
            )
        except (OSError, http.client.HTTPException) as exc:
            reason = str(exc) or type(exc).__name__
            return Result(item.url, error=f"{target.address}:{target.port}: {reason}")
        if 200 <= code < 300:
            return Result(item.url, status_code=code)
        return Result(item.url, status_code=code, error=f"The receiver answered HTTP {code}.")
