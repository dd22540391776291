"""The Runway-compatible task shape (GET /v1/tasks/{id}), shared by the API and webhooks."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from studio.generation.models import JobStatus
from studio.generation.service import JobView, wait_text
from studio.media import signing

RUNWAY_STATUS = {
    JobStatus.QUEUED: "PENDING",
    JobStatus.RUNNING: "RUNNING",
    JobStatus.SUCCEEDED: "SUCCEEDED",
    JobStatus.FAILED: "FAILED",
    JobStatus.CANCELED: "CANCELLED",
}


def runway_status(view: JobView) -> str:
    if view.status == JobStatus.QUEUED and view.throttled:
        return "THROTTLED"
    return RUNWAY_STATUS[view.status]


def task_json(view: JobView, *, base_url: str, secret: str, ttl_seconds: int) -> dict[str, Any]:
    """Runway's fields first; studio's extras (queue position, seed, poster) after them."""
    now = time.time()

    def url(asset_id: int) -> str:
        path = signing.signed_path(asset_id, secret, now=now, ttl_seconds=ttl_seconds)
        return base_url.rstrip("/") + path

    body: dict[str, Any] = {
        "id": view.public_id,
        "status": runway_status(view),
        "createdAt": _iso(view.created_at),
    }
    if view.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        body["progress"] = round(view.progress, 3)
    if view.status == JobStatus.SUCCEEDED and view.output_asset_id is not None:
        body["output"] = [url(view.output_asset_id)]
    if view.status == JobStatus.FAILED:
        body["failure"] = view.error_message or "The task failed."
        body["failureCode"] = view.error_code or "generation_failed"
    if view.status == JobStatus.CANCELED:
        body["failureCode"] = "canceled"
    body["studio"] = {
        "model": view.model_key,
        "mode": view.mode,
        "seed": view.params.get("seed"),
        "ratio": view.params.get("ratio"),
        "duration": view.params.get("duration"),
        "queue": view.queue,
        # While queued: jobs that start first by the fair order, a rough start
        # time, and why it waits: "turn", "concurrency" or "quota" (THROTTLED),
        # or "worker" (no live worker serves the queue: an operator's problem).
        # A duration outside the model's table renders its nearest frame count: said here.
        "durationNote": view.params.get("duration_note"),
        "requestedModel": view.params.get("requested_model"),
        "queuePosition": view.position,
        "estimatedStartAt": _iso(view.wait.estimated_start_at) if view.wait else None,
        "waitingFor": view.waiting_for,
        "waitingMessage": wait_text(view) or None,
        "attempts": view.attempts,
        "poster": url(view.poster_asset_id) if view.poster_asset_id else None,
        "expiresInSeconds": ttl_seconds,
    }
    return body


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
