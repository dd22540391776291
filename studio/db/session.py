"""Engines and sessions. Sessions open only at the edges, through session_scope()."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_ON_COMMIT = "studio_on_commit"
_ON_ROLLBACK = "studio_on_rollback"


# Connections per process: POOL_SIZE kept open, up to POOL_OVERFLOW more during
# a burst (closed again when returned): room for the API's concurrent requests
# (api/deps.CONCURRENT_REQUESTS, one connection each at a time) plus the pages,
# uploads and background threads (embedded runner, webhook delivery).
POOL_SIZE = 10
POOL_OVERFLOW = 20


class Database:
    """An engine plus a session factory for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any error.

        Callbacks registered with on_commit() run after a successful commit
        (that is where job messages are sent: never for a rolled-back row).
        """
        session = self._sessions()
        try:
            yield session
            session.commit()
            callbacks: list[Callable[[], Any]] = session.info.pop(_ON_COMMIT, [])
            for callback in callbacks:
                callback()
        except BaseException:
            session.rollback()
            undo: list[Callable[[], Any]] = session.info.pop(_ON_ROLLBACK, [])
            for callback in undo:
                callback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def on_commit(session: Session, callback: Callable[[], Any]) -> None:
    session.info.setdefault(_ON_COMMIT, []).append(callback)


def commit_now(session: Session) -> None:
    """Commit a session_scope() session before its block ends (the API commits as
    the endpoint returns: api/deps.TransactionRoute): its on_commit callbacks run
    now, and nothing later in the block can undo the commit's side effects."""
    session.commit()
    session.info.pop(_ON_ROLLBACK, None)
    callbacks: list[Callable[[], Any]] = session.info.pop(_ON_COMMIT, [])
    for callback in callbacks:
        callback()


def on_rollback(session: Session, callback: Callable[[], Any]) -> None:
    """Undo a side effect outside the database (a file written) if the transaction fails."""
    session.info.setdefault(_ON_ROLLBACK, []).append(callback)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            pool = {}  # an in-memory database lives in one connection (SingletonThreadPool)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **pool
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # Plain postgresql:// means psycopg 3 here, the only driver we install.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **pool)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
