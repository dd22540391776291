"""create_celery(settings): the Celery app that GPU and CPU workers run.

Settings follow what was measured for long GPU jobs: late acks, prefetch 1,
and a visibility timeout above the longest hard time limit. The job row in
the database stays the source of truth; Redis only carries job ids.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

from studio.config import Settings

HARD_TIME_LIMIT_S = 60 * 60
SOFT_TIME_LIMIT_S = HARD_TIME_LIMIT_S - 60


def create_celery(settings: Settings) -> Celery:
    celery = Celery(
        "studio",
        broker=settings.redis_url,
        backend=settings.redis_url,
        include=["studio.worker_tasks", "studio.generation.tasks"],
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


@worker_ready.connect
def _start_maintenance(**_: Any) -> None:
    from studio.generation.tasks import start_maintenance

    start_maintenance()


@worker_shutdown.connect
def _leave_farm(**_: Any) -> None:
    from studio.generation.tasks import stop

    stop()
