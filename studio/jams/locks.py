"""The one place jam rows are locked, the same way on Postgres and SQLite.

Postgres: SELECT ... FOR UPDATE (or FOR SHARE) on the row. SQLite ignores
FOR UPDATE, and pysqlite starts a transaction only at the first write, so
reads taken "under a lock" would see nothing of a concurrent writer: here a
lock is a no-op UPDATE of the row, which begins the transaction with
SQLite's one write lock (others wait, busy_timeout) before anything is read.

Order, to never deadlock: the jam before its team, the team before an
assignment of it. Each function re-reads the row (populate_existing), so
what the caller decides on is what the lock protects.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from studio.jams.models import Assignment, Jam, JamTeam

Row = TypeVar("Row", Jam, JamTeam, Assignment)


def _lock(session: Session, model: type[Row], row_id: int, *, shared: bool = False) -> Row:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(model)
            .where(model.id == row_id)
            .values(id=model.id)
            .execution_options(synchronize_session=False)
        )
        query = select(model).where(model.id == row_id)
    else:
        query = select(model).where(model.id == row_id).with_for_update(read=shared)
    row = session.scalar(query.execution_options(populate_existing=True))
    assert row is not None, f"{model.__name__} {row_id} vanished under a lock"
    return row


def lock_jam(session: Session, jam_id: int, *, shared: bool = False) -> Jam:
    """The jam row: one kickoff draw, one assigner, one publication at a time.
    shared=True (FOR SHARE) lets entries of different teams save side by side
    while the schedule cannot change under them."""
    return _lock(session, Jam, jam_id, shared=shared)


def lock_team(session: Session, team_id: int) -> JamTeam:
    """The team row: its roster, invitations and entry change one at a time."""
    return _lock(session, JamTeam, team_id)


def lock_assignment(session: Session, assignment_id: int) -> Assignment:
    """One judge's sheet for one entry: two saves of it take turns."""
    return _lock(session, Assignment, assignment_id)
