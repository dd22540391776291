"""The worker process's signals: its maintenance loop starts when the worker is
ready and it leaves the farm when it stops. The Celery app itself is
`queue.create_celery` (the web side sends with the same one).
"""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready, worker_shutdown


@worker_ready.connect
def _start_maintenance(**_: Any) -> None:
    from studio.generation.tasks import start_maintenance

    start_maintenance()


@worker_shutdown.connect
def _leave_farm(**_: Any) -> None:
    from studio.generation.tasks import stop

    stop()
