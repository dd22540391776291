"""A workspace's webhook: setting it, its delivery log, re-sending (admins only)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts.access import Actor, require_role
from studio.accounts.models import Role, Workspace
from studio.db.base import utcnow
from studio.errors import Conflict, InvalidInput, NotFound
from studio.generation.models import Job
from studio.generation.webhooks.addresses import Resolver, pin, system_resolver
from studio.generation.webhooks.models import DeliveryStatus, WebhookDelivery

DELIVERY_NOT_FOUND = "No such webhook delivery in this workspace."
LOG_LIMIT_MAX = 200


def check_webhook_url(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> str:
    """A URL we may POST to (checked now; each attempt checks again); InvalidInput says why not."""
    return pin(url, allow_private=allow_private, resolver=resolver).url


def set_webhook(
    session: Session,
    actor: Actor,
    workspace_id: int,
    url: str | None,
    *,
    allow_private: bool,
    resolver: Resolver = system_resolver,
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
        workspace.webhook_url = check_webhook_url(
            url, allow_private=allow_private, resolver=resolver
        )
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


@dataclass(frozen=True)
class DeliveryView:
    event_id: str
    event: str
    task_id: str
    status: DeliveryStatus
    attempts: int
    in_flight: bool  # an attempt is being sent right now
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None  # only while pending
    delivered_at: datetime | None
    created_at: datetime
    url: str | None


def _view(row: WebhookDelivery, task_id: str, now: datetime) -> DeliveryView:
    pending = row.status is DeliveryStatus.PENDING
    return DeliveryView(
        event_id=row.event_id,
        event=row.event,
        task_id=task_id,
        status=row.status,
        attempts=row.attempts,
        in_flight=pending and row.lease_expires_at is not None and row.lease_expires_at > now,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        last_attempt_at=row.last_attempt_at,
        next_attempt_at=row.next_attempt_at if pending else None,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
        url=row.url,
    )


def list_deliveries(
    session: Session,
    actor: Actor,
    workspace_id: int,
    *,
    status: DeliveryStatus | None = None,
    limit: int = 50,
) -> list[DeliveryView]:
    """The workspace's webhook events, newest first, with how their delivery went."""
    require_role(session, actor, workspace_id, Role.ADMIN)
    if not 1 <= limit <= LOG_LIMIT_MAX:
        raise InvalidInput(f"limit is between 1 and {LOG_LIMIT_MAX}.", code="invalid_limit")
    query = (
        select(WebhookDelivery, Job.public_id)
        .join(Job, Job.id == WebhookDelivery.job_id)
        .where(WebhookDelivery.workspace_id == workspace_id)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    rows = session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit)).tuples()
    now = utcnow()
    return [_view(row, task_id, now) for row, task_id in rows]


def resend_delivery(
    session: Session, actor: Actor, workspace_id: int, event_id: str
) -> DeliveryView:
    """Send an event again, now, with a fresh set of attempts and the same event id
    (receivers that saw it already can tell). An attempt in flight is abandoned."""
    require_role(session, actor, workspace_id, Role.ADMIN)
    found = session.execute(
        select(WebhookDelivery, Job.public_id)
        .join(Job, Job.id == WebhookDelivery.job_id)
        .where(
            WebhookDelivery.workspace_id == workspace_id,
            WebhookDelivery.event_id == (event_id or "").strip(),
        )
    ).first()
    if found is None:
        raise NotFound(DELIVERY_NOT_FOUND, code="delivery_not_found")
    row, task_id = found
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None
    if not workspace.webhook_url:
        raise Conflict(
            "This workspace has no webhook any more: set one first, then re-send.",
            code="no_webhook",
        )
    now = utcnow()
    row.status = DeliveryStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = now
    row.claimed_by = None  # an attempt in flight records nothing; a fresh one goes out
    row.lease_expires_at = None
    audit.record(
        session,
        "workspace.webhook_resent",
        actor_user_id=actor.user_id,
        workspace_id=workspace_id,
        target=f"webhook:{row.event_id}",
    )
    session.flush()
    return _view(row, task_id, now)
