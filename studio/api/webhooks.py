"""Studio extras: a workspace's task webhook and its delivery log (admins).

PUT  /v1/workspaces/{slug}/webhook                               set or clear it
GET  /v1/workspaces/{slug}/webhook/deliveries                    the delivery log
POST /v1/workspaces/{slug}/webhook/deliveries/{event_id}/resend  send an event again
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from studio.accounts.access import workspace_by_slug
from studio.api.deps import TransactionRoute
from studio.api.schemas import Strict
from studio.api.tasks import ActorDep, GenDep, SessionDep
from studio.generation import webhooks
from studio.generation.webhooks.models import DeliveryStatus

router = APIRouter(route_class=TransactionRoute)


class WebhookIn(Strict):
    url: str | None = Field(default=None, max_length=500)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def delivery_json(view: webhooks.DeliveryView) -> dict[str, Any]:
    return {
        "id": view.event_id,
        "event": view.event,
        "taskId": view.task_id,
        "status": view.status.value,
        "attempts": view.attempts,
        "inFlight": view.in_flight,
        "lastStatusCode": view.last_status_code,
        "lastError": view.last_error,
        "lastAttemptAt": _iso(view.last_attempt_at),
        "nextAttemptAt": _iso(view.next_attempt_at),
        "deliveredAt": _iso(view.delivered_at),
        "createdAt": _iso(view.created_at),
        "url": view.url,
    }


@router.put("/workspaces/{slug}/webhook", summary="Studio extra: set the task webhook (admins)")
def put_webhook(
    slug: str, body: WebhookIn, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    workspace, _ = workspace_by_slug(session, actor, slug)
    secret = webhooks.set_webhook(
        session, actor, workspace.id, body.url, allow_private=gen.settings.webhooks_allow_private
    )
    return {"url": body.url or None, "secret": secret}


@router.get(
    "/workspaces/{slug}/webhook/deliveries",
    summary="Studio extra: the webhook delivery log, newest first (admins)",
)
def list_deliveries(
    slug: str,
    actor: ActorDep,
    session: SessionDep,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    workspace, _ = workspace_by_slug(session, actor, slug)
    views = webhooks.list_deliveries(session, actor, workspace.id, status=status, limit=limit)
    return {"deliveries": [delivery_json(v) for v in views]}


@router.post(
    "/workspaces/{slug}/webhook/deliveries/{event_id}/resend",
    summary="Studio extra: send a webhook event again, same event id (admins)",
)
def resend_delivery(
    slug: str, event_id: str, actor: ActorDep, session: SessionDep
) -> dict[str, Any]:
    workspace, _ = workspace_by_slug(session, actor, slug)
    return delivery_json(webhooks.resend_delivery(session, actor, workspace.id, event_id))
