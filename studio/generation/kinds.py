"""Job kinds that other domains run on the workers (a rough cut, a large upload's
check), registered by those domains: the runner knows how to claim, watch,
retry and finish a job, never what a rough cut or an upload is.

A kind is a name (the job's `model_key` and `mode`), the queue its jobs wait
on, and a function. The function gets a `KindJob` and returns the file it made
(`Made`, recorded as the job's output and poster) or None (the job only ran a
check whose result the domain recorded itself). It raises StudioError or
ffmpeg.MediaError for a failure the user should read; it calls `job.step` as
it goes (progress, and where a cancel or a lost lease stops it).

Registration happens in `studio/job_kinds.py`, which the edges that build a
runner (the web app, the Celery worker, benchmarks) call first.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from studio.config import Settings
from studio.media import ffmpeg
from studio.media import service as media
from studio.media.storage import Storage


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


def stored(key: str, path: Path) -> StoredFile:
    """A finished file about to become `key`: its size and hash, from the local copy."""
    return StoredFile(key, path.stat().st_size, media.sha256_of(path))


@dataclass(frozen=True)
class KindJob:
    """What a kind's function is given on the worker."""

    public_id: str
    attempt: int
    workspace_id: int
    params: dict[str, Any]
    session_scope: Callable[[], AbstractContextManager[Session]]
    storage: Storage
    settings: Settings
    step: Callable[[int, int], None]
    # Keys the function is about to write: removed again if the job fails or is
    # no longer this worker's, so outputs are written exactly once.
    written: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Made:
    """A video a kind made, already in the store."""

    output: StoredFile
    poster: StoredFile
    info: ffmpeg.Probe
    timings: dict[str, Any]


@dataclass(frozen=True)
class JobKind:
    name: str
    queue: str
    run: Callable[[KindJob], Made | None]


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> None:
    """Make `kind` known to every runner in this process (idempotent)."""
    known = _KINDS.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"job kind {kind.name!r} is already registered differently")
    _KINDS[kind.name] = kind


def find(name: str) -> JobKind | None:
    return _KINDS.get(name)


def names_for(queues: list[str]) -> list[str]:
    """The kinds a worker serving `queues` can claim."""
    return sorted(k.name for k in _KINDS.values() if k.queue in queues)
