"""Where job messages go: Celery over Redis, or the in-process runner.

Messages carry the job's public id only and are sent after commit (see
generation.service.submit_job). Sending is best effort: if Redis is down the
job stays queued in the database and the sweeper sends it again later.
"""

from __future__ import annotations

import logging
from typing import Protocol

from celery import Celery

from studio.config import Settings

log = logging.getLogger(__name__)
WORK_TASK = "studio.generation.work"


class Dispatcher(Protocol):
    def dispatch(self, queue: str, public_id: str) -> None: ...


def celery_queue(settings: Settings, queue: str) -> str:
    return f"{settings.queue_prefix}{queue}"


class CeleryDispatcher:
    def __init__(self, celery: Celery, settings: Settings) -> None:
        self.celery = celery
        self.settings = settings

    def dispatch(self, queue: str, public_id: str) -> None:
        try:
            self.celery.send_task(
                WORK_TASK, args=[public_id], queue=celery_queue(self.settings, queue)
            )
        except Exception:
            log.warning(
                "could not send job %s to Redis; the sweeper will retry", public_id, exc_info=True
            )
