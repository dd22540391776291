"""What the web edges need to submit and show jobs, built once per app."""

from __future__ import annotations

from dataclasses import dataclass

from studio.config import Settings
from studio.db.session import Database
from studio.generation.inprocess import InProcessRunner
from studio.generation.registry import Registry, load_registry
from studio.media.service import build_storage
from studio.media.storage import Storage
from studio.queue import CeleryDispatcher, Dispatcher


@dataclass
class Generation:
    settings: Settings
    registry: Registry
    storage: Storage
    dispatcher: Dispatcher
    runner: InProcessRunner | None  # the embedded default's thread; None with Redis

    def start(self) -> None:
        if self.runner is not None:
            self.runner.start()

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()


def build_generation(db: Database, settings: Settings) -> Generation:
    registry = load_registry(settings.models_file)
    storage = build_storage(settings)
    if settings.redis_url:
        from studio.queue import create_celery

        return Generation(
            settings, registry, storage, CeleryDispatcher(create_celery(settings), settings), None
        )
    runner = InProcessRunner(db, settings, registry)
    return Generation(settings, registry, storage, runner, runner)
