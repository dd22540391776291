"""The append-only audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.accounts.models import AuditEvent
from studio.db.base import utcnow


def record(
    session: Session,
    action: str,
    *,
    actor_user_id: int | None,
    workspace_id: int | None = None,
    target: str = "",
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(
        at=utcnow(),
        actor_user_id=actor_user_id,
        workspace_id=workspace_id,
        action=action,
        target=target,
        details=details,
    )
    session.add(event)
    return event


def list_for_workspace(session: Session, workspace_id: int, limit: int = 100) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.workspace_id == workspace_id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )
