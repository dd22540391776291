"""Where wake-ups go: Celery over Redis, or the in-process runner.

A message says "there may be work in this queue", nothing more: the worker
that takes it claims the fairest job (generation/scheduler.py), not a job
named in the message. So one waiting message per queue is enough, and the
dispatcher sends one only when none is waiting. The broker then holds at most
about one message per queue plus one per busy worker (the one it is
running), however many jobs wait; the jobs themselves stay in the database.

Sending is best effort: if Redis is down or flushed, the jobs stay queued in
the database and the workers' maintenance loop wakes the queue again.

`create_celery(settings)`: the Celery app that GPU and CPU workers run and the
web sends with. Settings follow what was measured for long GPU jobs: late
acks, prefetch 1, and a visibility timeout above the longest hard time limit.
The job row in the database stays the source of truth; Redis only carries
wake-ups.
"""

from __future__ import annotations

import logging
from typing import Protocol

from celery import Celery

from studio.config import Settings

log = logging.getLogger(__name__)
WORK_TASK = "studio.generation.work"
HARD_TIME_LIMIT_S = 60 * 60
SOFT_TIME_LIMIT_S = HARD_TIME_LIMIT_S - 60


def create_celery(settings: Settings) -> Celery:
    celery = Celery(
        "studio",
        broker=settings.redis_url,
        backend=settings.redis_url,
        include=["studio.worker", "studio.worker_tasks", "studio.generation.tasks"],
    )
    celery.conf.update(
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_reject_on_worker_lost=False,
        task_time_limit=HARD_TIME_LIMIT_S,
        task_soft_time_limit=SOFT_TIME_LIMIT_S,
        broker_transport_options={"visibility_timeout": HARD_TIME_LIMIT_S + 15 * 60},
        broker_connection_retry_on_startup=True,
        task_default_queue="cpu",
        task_ignore_result=True,
        worker_hijack_root_logger=False,
    )
    return celery


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
