"""The embedded default's job runner: a thread in the web process running the
same task code a Celery worker runs. It is also the dispatcher: a dispatch
just wakes it up. At start-up it requeues what a previous process of this
install was running when it died.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from sqlalchemy import select

from studio.config import Settings
from studio.db.session import Database
from studio.generation import scheduler
from studio.generation.models import Job, JobStatus
from studio.generation.registry import Registry
from studio.generation.runner import JobRunner, make_worker_id
from studio.generation.webhooks import WebhookSender

log = logging.getLogger(__name__)
KIND = "embedded"


class InProcessRunner:
    def __init__(self, db: Database, settings: Settings, registry: Registry) -> None:
        self.db = db
        self.settings = settings
        self.webhooks = WebhookSender(db, settings)
        self.runner = JobRunner(
            db,
            settings,
            registry,
            queues=["gpu", "cpu"],
            worker_id=make_worker_id(KIND),
            on_finished=self.webhooks.job_finished,
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def dispatch(self, queue: str, public_id: str) -> None:
        self._wake.set()

    def start(self) -> None:
        self._recover()
        self._thread = threading.Thread(target=self._loop, name="studio-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        try:
            self.runner.forget()
        except Exception:  # the database may already be gone at shutdown
            log.warning("could not remove the runner's presence row", exc_info=True)

    def _recover(self) -> None:
        """Jobs left 'running' by a dead process of this host go back to the queue."""
        prefix = f"{KIND}@{socket.gethostname()}:"
        with self.db.session_scope() as session:
            running = session.scalars(
                select(Job.worker_id).where(
                    Job.status == JobStatus.RUNNING, Job.worker_id.like(prefix + "%")
                )
            ).all()
            dead = {w for w in running if w and not _pid_alive(_pid_of(w))}
            requeued = scheduler.requeue_workers_jobs(session, dead)
        if requeued:
            log.info("requeued %d interrupted job(s) at start-up", len(requeued))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.runner.maintenance()
                self.webhooks.pump()  # due webhook deliveries, in their own thread
                while not self._stop.is_set() and self.runner.work_once() is not None:
                    pass
            except Exception:
                log.exception("in-process runner: unexpected error; retrying")
            self._wake.wait(self.settings.maintenance_interval_seconds)
            self._wake.clear()


def _pid_of(worker_id: str) -> int:
    try:
        return int(worker_id.split(":")[1])
    except (IndexError, ValueError):
        return -1


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
