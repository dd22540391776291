"""Claiming due deliveries and recording attempts: the outbox's database side.

A claim is one UPDATE that takes due rows (pending, next attempt due, no live
lease) and stamps them with this attempt's token and a lease. On Postgres the
rows are picked FOR UPDATE SKIP LOCKED, so two maintenance loops on two hosts
take disjoint rows without waiting on each other; SQLite runs the statement
under its single write lock. Whoever holds the token records the outcome
(a conditional UPDATE on the token); an attempt whose lease ran out (its
worker died mid-send) is simply due again: at-least-once, same event id.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from studio.generation.webhooks.models import ERROR_MAX, DeliveryStatus, WebhookDelivery


@dataclass(frozen=True)
class Claimed:
    id: int
    event_id: str
    job_id: int
    workspace_id: int
    attempt: int  # 1 for the first attempt


@dataclass(frozen=True)
class Policy:
    max_attempts: int
    backoff_base_seconds: float
    backoff_max_seconds: float
    lease_seconds: float


def claim_due(
    session: Session, *, token: str, now: datetime, lease_seconds: float, limit: int
) -> list[Claimed]:
    """Take up to `limit` due deliveries for this attempt; commit right after."""
    due = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            or_(
                WebhookDelivery.lease_expires_at.is_(None),
                WebhookDelivery.lease_expires_at < now,
            ),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(due.scalar_subquery()))
        .values(
            claimed_by=token,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=WebhookDelivery.attempts + 1,
            last_attempt_at=now,
        )
        .returning(
            WebhookDelivery.id,
            WebhookDelivery.event_id,
            WebhookDelivery.job_id,
            WebhookDelivery.workspace_id,
            WebhookDelivery.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(
        (Claimed(r.id, r.event_id, r.job_id, r.workspace_id, int(r.attempts)) for r in rows),
        key=lambda c: c.id,
    )


def backoff_seconds(attempt: int, policy: Policy) -> float:
    """Exponential, capped, with +-20% jitter so a receiver that comes back is not
    hit by every retry in the same instant."""
    delay = min(policy.backoff_max_seconds, policy.backoff_base_seconds * 2 ** (attempt - 1))
    return float(delay * random.uniform(0.8, 1.2))  # noqa: S311 (timing, not security)


def record_attempt(
    session: Session,
    claimed: Claimed,
    *,
    token: str,
    now: datetime,
    policy: Policy,
    url: str | None,
    status_code: int | None,
    error: str | None,
    give_up: bool = False,
) -> DeliveryStatus | None:
    """Record one attempt's outcome, if the attempt is still ours (None: it was not).

    Success is a 2xx status code. Otherwise the next attempt is scheduled with
    backoff, until the attempts are used up (or `give_up`): then it failed.
    """
    ok = status_code is not None and 200 <= status_code < 300 and error is None
    values: dict[str, object] = {
        "claimed_by": None,
        "lease_expires_at": None,
        "last_status_code": status_code,
        "last_error": error[:ERROR_MAX] if error else None,
        "url": url,
    }
    if ok:
        status = DeliveryStatus.DELIVERED
        values["delivered_at"] = now
    elif give_up or claimed.attempt >= policy.max_attempts:
        status = DeliveryStatus.FAILED
    else:
        status = DeliveryStatus.PENDING
        values["next_attempt_at"] = now + timedelta(
            seconds=backoff_seconds(claimed.attempt, policy)
        )
    values["status"] = status
    done = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == claimed.id, WebhookDelivery.claimed_by == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return status if done.rowcount == 1 else None  # type: ignore[attr-defined]
