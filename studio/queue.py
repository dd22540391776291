"""Where wake-ups go: Celery over Redis, or the in-process runner.

A message says "there may be work in this queue", nothing more: the worker
that takes it claims the fairest job (generation/scheduler.py), not a job
named in the message. So one waiting message per queue is enough, and the
dispatcher sends one only when none is waiting. The broker then holds at most
about one message per queue plus one per busy worker (the one it is
running), however many jobs wait; the jobs themselves stay in the database.

Sending is best effort: if Redis is down or flushed, the jobs stay queued in
the database and the workers' maintenance loop wakes the queue again.
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
        self.sent = 0  # wake-ups sent by this process (benchmarks, tests)

    def dispatch(self, queue: str, public_id: str) -> None:
        """A job was queued (public_id only for the log): wake the queue."""
        self.wake(queue)

    def wake(self, queue: str) -> bool:
        """Send one wake-up to `queue` unless one is already waiting there."""
        name = celery_queue(self.settings, queue)
        try:
            if self.waiting(queue) > 0:
                return False
            self.celery.send_task(WORK_TASK, queue=name)
        except Exception:
            log.warning(
                "could not wake queue %s through the broker; the maintenance loop will retry",
                name,
                exc_info=True,
            )
            return False
        self.sent += 1
        return True

    def waiting(self, queue: str) -> int:
        """Messages waiting in the broker for `queue` (not those being worked on)."""
        name = celery_queue(self.settings, queue)
        with self.celery.pool.acquire(block=True) as connection:
            declared = connection.default_channel.queue_declare(queue=name, passive=False)
            return int(declared.message_count)
