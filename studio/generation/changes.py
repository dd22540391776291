"""Change stamps of a workspace's jobs: has its queue or its finished takes moved?

The Generate page polls every couple of seconds (ui/generate/live.py); reading
and rendering the queue and the last 24 takes each time does not scale to a
team. `queue_stamp` answers with one statement over the jobs' indexes.
Stamps are compared for equality only; their contents mean nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, case, cast, func, select, true
from sqlalchemy.orm import Session

from studio.accounts.access import Actor, require_role
from studio.generation.models import ACTIVE, Job, JobStatus, QueueSnapshot


@dataclass(frozen=True)
class QueueStamp:
    # Unfinished jobs: how many, which, how many run, their progress, how many are
    # being canceled, how many wait.
    active: tuple[Any, ...]
    # Finished jobs of the given modes (the takes): how many, the newest.
    done: tuple[Any, ...]
    # While one waits: the newest queue snapshot (positions move with the farm).
    snapshot: Any

    @property
    def waiting(self) -> bool:
        return bool(self.active[-1])

    @property
    def ids(self) -> tuple[Any, ...]:
        """Which jobs are unfinished (the cancel picker's choices)."""
        return tuple(self.active[:2])


def queue_stamp(
    session: Session, actor: Actor, workspace_id: int, modes: Sequence[str]
) -> QueueStamp:
    """The stamp of `workspace_id`'s queue and of its finished jobs in `modes`."""
    require_role(session, actor, workspace_id)
    row = session.execute(_statement(), {"workspace_id": workspace_id, "modes": list(modes)}).one()
    return QueueStamp(active=tuple(row[:6]), done=tuple(row[6:8]), snapshot=row[8])


@lru_cache(maxsize=1)
def _statement() -> Select[Any]:
    """Built once: a page polls every 2 s (see projects/changes.py)."""
    workspace_id = bindparam("workspace_id", type_=Integer)
    mine = and_(Job.workspace_id == workspace_id, Job.deleted_at.is_(None))

    def count_of(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    active = and_(mine, Job.status.in_(ACTIVE))
    unfinished = (
        select(
            func.count(),
            func.coalesce(func.sum(Job.id), 0),
            count_of(Job.status == JobStatus.RUNNING),
            func.coalesce(func.sum(Job.progress), 0.0),
            func.coalesce(func.sum(cast(Job.cancel_requested, Integer)), 0),
            count_of(Job.status == JobStatus.QUEUED),
        )
        .where(active)
        .subquery()
    )
    finished = (
        select(func.count(), func.max(Job.id))
        .where(
            mine,
            Job.status.not_in(ACTIVE),
            Job.mode.in_(bindparam("modes", expanding=True)),
        )
        .subquery()
    )
    snapshot = select(func.max(QueueSnapshot.taken_at)).scalar_subquery()
    return select(unfinished, finished, snapshot).select_from(unfinished.join(finished, true()))
