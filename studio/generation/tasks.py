"""Celery side of generation: the work task and the worker's maintenance loop.

A message means "there may be work in this queue". The worker that takes it
claims the fairest runnable job (not necessarily one named anywhere), wakes
one more worker if it got one (so idle workers join in one after another,
however many jobs wait, with one message in the broker at a time), runs the
job and acks. A message that finds nothing to claim is a cheap no-op, and
nothing sends another then: wake-ups are bounded by workers, not by jobs.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from celery import shared_task

from studio.config import Settings, get_settings
from studio.db.session import Database
from studio.generation import scheduler
from studio.generation.registry import load_registry
from studio.generation.runner import JobRunner, make_worker_id
from studio.generation.webhooks import WebhookSender
from studio.queue import CeleryDispatcher

log = logging.getLogger(__name__)
QUEUES = ("gpu", "cpu")  # every job's queue (registry.ModelSpec.queue, rough cuts: cpu)


@dataclass
class WorkerRuntime:
    settings: Settings
    runner: JobRunner
    dispatcher: CeleryDispatcher
    db: Database
    webhooks: WebhookSender

    def wake_if_work(self) -> None:
        """After a job ends a slot is free: a capped workspace may go on."""
        for queue in self.runner.queues:
            if self.dispatcher.waiting(queue) == 0:
                with self.db.session_scope() as session:
                    claimable = queue in scheduler.claimable_queues(session)
                if claimable:
                    self.dispatcher.wake(queue)


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
        from studio.queue import create_celery

        settings = get_settings()
        db = Database(settings.database_url)
        registry = load_registry(settings.models_file)
        webhooks = WebhookSender(db, settings)
        dispatcher = CeleryDispatcher(create_celery(settings), settings)
        runner = JobRunner(
            db,
            settings,
            registry,
            queues=_queues,
            worker_id=make_worker_id("celery"),
            on_finished=webhooks.job_finished,
            on_claimed=dispatcher.wake,
        )
        _runtime = WorkerRuntime(settings, runner, dispatcher, db, webhooks)
    return _runtime


@shared_task(name="studio.generation.work", acks_late=True, ignore_result=True)
def work(public_id: str | None = None) -> str | None:
    """One wake-up: claim and run at most one job. (`public_id`: messages sent
    by older versions named a job; it is ignored, as it always was.)"""
    rt = runtime()
    outcome = rt.runner.work_once()
    if outcome is None:
        return None
    rt.wake_if_work()
    return outcome.public_id


def start_maintenance() -> threading.Thread:
    """Report presence, reap jobs of dead workers, wake queues with claimable
    work and no waiting message (lost messages, a flushed Redis, a quota
    raised) and deliver due webhooks, every few seconds."""

    def loop() -> None:
        rt = runtime()
        while True:
            try:
                # Any worker wakes any queue: a lost cpu message is found by a
                # gpu worker's pass too. wake() sends nothing if one waits.
                for queue in rt.runner.maintenance():
                    if queue in QUEUES:
                        rt.dispatcher.wake(queue)
                rt.webhooks.pump()  # due webhook deliveries, in their own thread
            except Exception:
                log.warning("maintenance pass failed; retrying", exc_info=True)
            time.sleep(rt.settings.maintenance_interval_seconds)

    thread = threading.Thread(target=loop, name="studio-maintenance", daemon=True)
    thread.start()
    return thread


def stop() -> None:
    """Worker shutdown: leave the farm at once instead of going stale."""
    if _runtime is not None:
        try:
            _runtime.runner.forget()
        except Exception:
            log.warning("could not remove this worker's presence row", exc_info=True)
