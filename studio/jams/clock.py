"""The clock every jam decision reads: the database's, inside the transaction.

Why the database and not the web process: with several web replicas their
clocks drift apart, and the deadline must be the same instant for every team.
The database is the one place they all share, and reading its clock in the
transaction that records an entry makes "on time" a fact about the row.

Why `statement_timestamp()` on Postgres (not `now()`, not `clock_timestamp()`):
`now()` is the start of the transaction, which here begins with the first
query of the request, before the film was probed and before we waited for the
team's row lock; it would date an entry by when the server started handling
it. `statement_timestamp()` is when the clock-reading statement itself
started, which we issue right after taking the locks and right before writing
the row: the moment the entry is recorded. `clock_timestamp()` would only add
a difference inside one statement. SQLite's 'now' is likewise the time of the
statement being run.

Entries sent through the API are dated by when their request reached the web
process (`arrival_clock`), bounded by the database clock: a team that pressed
Submit before the deadline is on time even if the rush made its request wait
for locks past it (see studio/api/arrival.py).

Tests pass their own Clock (any `session -> aware datetime`), e.g. fixed_clock(t).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

Clock = Callable[[Session], datetime]

# How far before the database's now an arrival time is believed: longer than any
# request waits for admission and locks in a rush, far shorter than a deadline's
# grace for mischief (a web host whose clock runs slow dates entries at most this early).
ARRIVAL_TOLERANCE = timedelta(minutes=2)


def db_clock(session: Session) -> datetime:
    """The database's current time (aware UTC), read inside the session's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        value = session.execute(text("SELECT statement_timestamp()")).scalar_one()
        aware: datetime = value.astimezone(UTC)
        return aware
    raw = session.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
    return datetime.fromisoformat(str(raw)).replace(tzinfo=UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock stuck at `at` (tests, replays)."""
    if at.tzinfo is None:
        raise ValueError("fixed_clock needs an aware datetime")
    return lambda _session: at.astimezone(UTC)


def arrival_clock(arrived: datetime | None, tolerance: timedelta = ARRIVAL_TOLERANCE) -> Clock:
    """The moment a request arrived, bounded by the database clock read now: never
    after it, never more than `tolerance` before it. Without an arrival time it is
    db_clock."""

    def clock(session: Session) -> datetime:
        now = db_clock(session)
        if arrived is None:
            return now
        return max(min(arrived.astimezone(UTC), now), now - tolerance)

    return clock
