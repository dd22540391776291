"""Temporary files a killed worker left behind.

Outputs are written through atomic_path: a hidden `.<name>.<random>.tmp`
next to the final file, renamed when complete. A worker killed in between
leaves the temporary file in `ws<id>/jobs/<public id>/`, and nothing else
would ever remove it. Each maintenance pass looks at the folders of jobs
that have run (attempts >= 1) and are not running now (finished, or
requeued by the reaper) and removes their temporary files. Bounded: only
jobs that ended in the last hour, at most `limit` per pass.

With object storage a worker writes in scratch folders instead
(`studio-in-*` / `studio-out-*` in the system temp folder, removed when a
job's block ends); a killed worker leaves those, so a pass also removes
scratch folders older than any job may run (the hard time limit).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from studio.db.base import utcnow
from studio.generation.models import Job, JobStatus
from studio.media.storage import Storage

log = logging.getLogger(__name__)
RECENT = timedelta(hours=1)
SCRATCH_PREFIXES = ("studio-in-", "studio-out-")
SCRATCH_MAX_AGE_S = 2 * 3600  # above the workers' hard time limit (one hour)


def is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(".tmp")


def job_folder(storage: Storage, workspace_id: int, public_id: str) -> Path | None:
    """The job's folder when the store is a local folder; None for object storage."""
    path = storage.local_path(f"ws{workspace_id}/jobs/{public_id}/x")
    return path.parent if path is not None else None


def remove_stale_temp_files(session: Session, storage: Storage, *, limit: int = 200) -> list[Path]:
    """Remove temporary files of jobs no longer running; returns what was removed."""
    since = utcnow() - RECENT
    rows = session.execute(
        select(Job.workspace_id, Job.public_id)
        .where(
            Job.attempts >= 1,
            Job.status != JobStatus.RUNNING,
            or_(Job.status == JobStatus.QUEUED, Job.finished_at >= since),
        )
        .order_by(Job.id.desc())
        .limit(limit)
    ).tuples()
    removed = []
    for workspace_id, public_id in rows:
        folder = job_folder(storage, workspace_id, public_id)
        if folder is None or not folder.is_dir():
            continue
        for path in folder.iterdir():
            if is_temporary(path) and path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    if removed:
        log.info("removed %d temporary file(s) left by stopped workers", len(removed))
    return removed


def remove_stale_scratch(
    folder: Path | None = None, *, max_age_s: float = SCRATCH_MAX_AGE_S
) -> int:
    """Remove scratch folders a killed worker left (older than any job may run)."""
    root = Path(folder or tempfile.gettempdir())
    cutoff = time.time() - max_age_s
    removed = 0
    for path in root.iterdir():
        if not path.name.startswith(SCRATCH_PREFIXES) or not path.is_dir():
            continue
        try:
            if path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
        except FileNotFoundError:  # another worker of this host removed it first
            continue
    return removed
