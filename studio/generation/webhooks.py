"""Signed webhooks when a task ends, to the URL a workspace admin configured.

The body is the task as GET /v1/tasks/{id} returns it. The signature header
is `Studio-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
with the workspace's webhook secret (Stripe's scheme, so receivers know it).
Delivery is fast-timeout with backoff; private, loopback and link-local
targets are refused unless STUDIO_WEBHOOKS_ALLOW_PRIVATE is set.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts.access import Actor, require_role
from studio.accounts.models import Role, User, Workspace
from studio.config import Settings
from studio.db.session import Database
from studio.errors import InvalidInput
from studio.generation import runway, service
from studio.generation.models import Job

log = logging.getLogger(__name__)
RETRY_DELAYS_S = (1.0, 4.0, 15.0)


def check_webhook_url(url: str, *, allow_private: bool) -> str:
    """A URL we may POST to; InvalidInput says why not."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            "A webhook URL starts with https:// (or http://).", code="invalid_webhook_url"
        )
    if len(text) > 500:
        raise InvalidInput(
            "Webhook URLs are limited to 500 characters.", code="invalid_webhook_url"
        )
    if not allow_private:
        for address in _addresses(parts.hostname):
            if not address.is_global:
                raise InvalidInput(
                    f"{parts.hostname} resolves to a private or local address ({address}); "
                    "webhooks go only to public addresses.",
                    code="webhook_address_refused",
                )
    return text


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        raise InvalidInput(f"Cannot resolve {host}.", code="invalid_webhook_url") from None
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def sign(body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class WebhookSender:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def job_finished(self, public_id: str) -> None:
        threading.Thread(
            target=self._deliver, args=(public_id,), daemon=True, name="webhook"
        ).start()

    def payload(self, public_id: str) -> tuple[str, str, bytes] | None:
        with self.db.session_scope() as session:
            job = session.scalar(select(Job).where(Job.public_id == public_id))
            if job is None:
                return None
            workspace = session.get(Workspace, job.workspace_id)
            user = session.get(User, job.user_id)
            if (
                workspace is None
                or user is None
                or not workspace.webhook_url
                or not workspace.webhook_secret
            ):
                return None
            # Read as the job's owner: the same view the API gives them.
            view = service.get_job(
                session, Actor(user=user, workspace_scope=workspace.id), public_id
            )
            body = runway.task_json(
                view,
                base_url=self.settings.base_url,
                secret=self.settings.resolved_secret_key(),
                ttl_seconds=self.settings.media_url_ttl_seconds,
            )
            return (
                workspace.webhook_url,
                workspace.webhook_secret,
                json.dumps(
                    {"event": "task.finished", "task": body}, separators=(",", ":")
                ).encode(),
            )

    def _deliver(self, public_id: str) -> None:
        try:
            found = self.payload(public_id)
        except Exception:
            log.exception("webhook payload for %s", public_id)
            return
        if found is None:
            return
        url, secret, body = found
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS_S)):
            time.sleep(delay)
            try:
                check_webhook_url(url, allow_private=self.settings.webhooks_allow_private)
                response = httpx.post(
                    url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "Studio-Signature": sign(body, secret, int(time.time())),
                        "User-Agent": "Studio-Webhooks/1",
                    },
                    timeout=self.settings.webhook_timeout_seconds,
                    follow_redirects=False,
                )
                if response.status_code < 300:
                    return
                log.warning(
                    "webhook %s answered %s (try %d)", url, response.status_code, attempt + 1
                )
            except InvalidInput as exc:
                log.warning("webhook %s refused: %s", url, exc.message)
                return
            except httpx.HTTPError as exc:
                log.warning("webhook %s failed (try %d): %s", url, attempt + 1, exc)


def set_webhook(
    session: Session, actor: Actor, workspace_id: int, url: str | None, *, allow_private: bool
) -> str | None:
    """Set (or clear, with None) the workspace's webhook. Returns a new signing secret."""
    require_role(session, actor, workspace_id, Role.ADMIN)
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None
    if not url:
        workspace.webhook_url = None
        workspace.webhook_secret = None
        secret = None
    else:
        workspace.webhook_url = check_webhook_url(url, allow_private=allow_private)
        secret = "whsec_" + secrets.token_urlsafe(24)
        workspace.webhook_secret = secret
    audit.record(
        session,
        "workspace.webhook_set" if url else "workspace.webhook_cleared",
        actor_user_id=actor.user_id,
        workspace_id=workspace_id,
        target=f"workspace:{workspace.slug}",
    )
    session.flush()
    return secret
