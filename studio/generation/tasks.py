"""Celery side of generation: the work task and the worker's maintenance loop.

A message means "there may be work in this queue"; the worker claims the
fairest runnable job (not necessarily the one named), runs it, and acks.
A duplicate or stale message finds nothing to claim and is a cheap no-op.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from celery import shared_task

from studio.config import Settings, get_settings
from studio.db.session import Database
from studio.generation.registry import load_registry
from studio.generation.runner import JobRunner, make_worker_id
from studio.generation.webhooks import WebhookSender
from studio.queue import CeleryDispatcher

log = logging.getLogger(__name__)


@dataclass
class WorkerRuntime:
    settings: Settings
    runner: JobRunner
    dispatcher: CeleryDispatcher
    webhooks: WebhookSender


_runtime: WorkerRuntime | None = None
_queues: list[str] = ["gpu", "cpu"]


def configure(queues: list[str]) -> None:
    """Called by `studio worker` before the worker starts: the logical queues it serves."""
    global _queues
    _queues = list(queues)


def runtime() -> WorkerRuntime:
    """Built on first use in the worker process, never at import."""
    global _runtime
    if _runtime is None:
        from studio.worker import create_celery

        settings = get_settings()
        db = Database(settings.database_url)
        registry = load_registry(settings.models_file)
        webhooks = WebhookSender(db, settings)
        runner = JobRunner(
            db,
            settings,
            registry,
            queues=_queues,
            worker_id=make_worker_id("celery"),
            on_finished=webhooks.job_finished,
        )
        _runtime = WorkerRuntime(
            settings, runner, CeleryDispatcher(create_celery(settings), settings), webhooks
        )
    return _runtime


@shared_task(name="studio.generation.work", acks_late=True, ignore_result=True)
def work(public_id: str) -> str | None:
    outcome = runtime().runner.work_once()
    return outcome.public_id if outcome else None


def start_maintenance() -> threading.Thread:
    """Reap jobs of dead workers, re-send lost messages and deliver webhooks, every few seconds."""

    def loop() -> None:
        rt = runtime()
        while True:
            try:
                # Any worker re-sends for any queue: a lost cpu message is found
                # by a gpu worker's pass too.
                for queue, public_id in rt.runner.maintenance():
                    rt.dispatcher.dispatch(queue, public_id)
                rt.webhooks.pump()  # due webhook deliveries, in their own thread
            except Exception:
                log.warning("maintenance pass failed; retrying", exc_info=True)
            time.sleep(rt.settings.maintenance_interval_seconds)

    thread = threading.Thread(target=loop, name="studio-maintenance", daemon=True)
    thread.start()
    return thread
