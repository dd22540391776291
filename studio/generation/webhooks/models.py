"""The webhook outbox: one row per task end, which is also the delivery log.

Rows are written by a database trigger on `jobs` (migration
0008_webhook_outbox), in the very transaction that moves a job from queued or
running to succeeded, failed or canceled, and only when the workspace has a
webhook configured. Whatever code path ends a task (the runner's finish, a
failure, a cancel of a queued or running job, the reaper giving up), the event
is recorded exactly once (UNIQUE job_id) or not at all (rolled back with the
end itself). Workers' maintenance loops deliver them (delivery.py).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from studio.db.base import Base, CreatedAtMixin, UTCDateTime, enum_column

TASK_FINISHED = "task.finished"
ERROR_MAX = 500


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt (or one is in flight: see lease)
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # gave up: attempts used up, or the webhook was removed


class WebhookDelivery(CreatedAtMixin, Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # What the maintenance loops claim: due, pending rows.
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        # The delivery log: a workspace's newest first.
        Index("ix_webhook_deliveries_workspace_id_id", "workspace_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable across retries and re-sends ("evt_" + the task id): receivers dedupe on it.
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # One event per task end, whichever path ended it.
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "webhook_delivery_status")
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A claimed attempt: who holds it and until when (another loop may take it after).
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(ERROR_MAX))
    url: Mapped[str | None] = mapped_column(String(500))  # where the last attempt went
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
