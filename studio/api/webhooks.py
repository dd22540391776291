"""Studio extras: a workspace's task webhook and its delivery log (admins).

PUT  /v1/workspaces/{slug}/webhook                               set or clear it
GET  /v1/workspaces/{slug}/webhook/deliveries                    the delivery log
POST /v1/workspaces/{slug}/webhook/deliveries/{event_id}/resend  send an event again
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from studio.accounts.access import workspace_by_slug
from studio.api.deps import TransactionRoute
from studio.api.schemas import BODY_ERRORS, COMMON_ERRORS, SlugPath, Strict
from studio.api.tasks import ActorDep, GenDep, SessionDep
from studio.generation import webhooks
from studio.generation.webhooks.models import DeliveryStatus

router = APIRouter(route_class=TransactionRoute, tags=["webhooks"], responses=COMMON_ERRORS)
EventIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class WebhookIn(Strict):
    url: str | None = Field(default=None, max_length=500)


class WebhookOut(BaseModel):
    url: str | None
    secret: str | None = Field(description="Signing secret (shown when a webhook is set)")


class DeliveryOut(BaseModel):
    id: str = Field(description="The event id, also sent as the Studio-Event-Id header")
    event: str
    taskId: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    inFlight: bool
    lastStatusCode: int | None
    lastError: str | None
    lastAttemptAt: str | None
    nextAttemptAt: str | None
    deliveredAt: str | None
    createdAt: str | None
    url: str | None


class DeliveriesOut(BaseModel):
    deliveries: list[DeliveryOut]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def delivery_out(view: webhooks.DeliveryView) -> DeliveryOut:
    return DeliveryOut(
        id=view.event_id,
        event=view.event,
        taskId=view.task_id,
        status=view.status.value,
        attempts=view.attempts,
        inFlight=view.in_flight,
        lastStatusCode=view.last_status_code,
        lastError=view.last_error,
        lastAttemptAt=_iso(view.last_attempt_at),
        nextAttemptAt=_iso(view.next_attempt_at),
        deliveredAt=_iso(view.delivered_at),
        createdAt=_iso(view.created_at),
        url=view.url,
    )


@router.put(
    "/workspaces/{slug}/webhook",
    response_model=WebhookOut,
    summary="Studio extra: set the task webhook (admins)",
    responses=BODY_ERRORS,
)
def put_webhook(
    slug: SlugPath, body: WebhookIn, actor: ActorDep, session: SessionDep, gen: GenDep
) -> WebhookOut:
    workspace, _ = workspace_by_slug(session, actor, slug)
    secret = webhooks.set_webhook(
        session, actor, workspace.id, body.url, allow_private=gen.settings.webhooks_allow_private
    )
    return WebhookOut(url=body.url or None, secret=secret)


@router.get(
    "/workspaces/{slug}/webhook/deliveries",
    response_model=DeliveriesOut,
    summary="Studio extra: the webhook delivery log, newest first (admins)",
)
def list_deliveries(
    slug: SlugPath,
    actor: ActorDep,
    session: SessionDep,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveriesOut:
    workspace, _ = workspace_by_slug(session, actor, slug)
    views = webhooks.list_deliveries(session, actor, workspace.id, status=status, limit=limit)
    return DeliveriesOut(deliveries=[delivery_out(v) for v in views])


@router.post(
    "/workspaces/{slug}/webhook/deliveries/{event_id}/resend",
    response_model=DeliveryOut,
    summary="Studio extra: send a webhook event again, same event id (admins)",
    responses=BODY_ERRORS,
)
def resend_delivery(
    slug: SlugPath, event_id: EventIdPath, actor: ActorDep, session: SessionDep
) -> DeliveryOut:
    workspace, _ = workspace_by_slug(session, actor, slug)
    return delivery_out(webhooks.resend_delivery(session, actor, workspace.id, event_id))
