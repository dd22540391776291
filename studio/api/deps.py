"""Request dependencies: the database session and the API-key actor, and the
route class every /v1 router uses (TransactionRoute)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from studio.accounts import apikeys
from studio.accounts.access import Actor
from studio.auth.sessions import bearer_token
from studio.db.session import Database, commit_now
from studio.errors import NotAuthenticated


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def db_session(request: Request) -> Iterator[Session]:
    with get_db(request).session_scope() as session:
        yield session


def api_actor(request: Request) -> Actor:
    """API calls authenticate with `Authorization: Bearer <api key>` only."""
    token = bearer_token(request)
    if token is None:
        raise NotAuthenticated(
            "Send an API key as 'Authorization: Bearer <key>'. Create one on your Account page.",
            code="unauthorized",
        )
    with get_db(request).session_scope() as session:
        return apikeys.authenticate_key(session, token)


# Sync API requests served at once per process; the others wait their turn in
# arrival order, holding nothing (see TransactionRoute). Python runs one thread
# at a time: more would only slow each request down, while a few cover the
# waits on the database. db/session.py sizes the connection pool for it.
CONCURRENT_REQUESTS = 10


class TransactionRoute(APIRoute):
    """How every sync /v1 endpoint runs: admitted in arrival order, and its
    transaction ended in the endpoint's own thread call.

    FastAPI serves a sync endpoint in several calls into its thread pool (each
    sync dependency, the endpoint, the response's validation), and each call
    queues behind every call issued before it. Two things go wrong under a
    burst (a jam's deadline) without this class:
    - `db_session` commits only after the response is validated, so a finished
      request keeps its connection while it waits for a thread, while threads
      wait for connections: a deadlock only the pool's 30 s timeout breaks
      (500s). Committing as the endpoint returns, still in its thread, gives the
      connection back first (and runs the on_commit callbacks); `session_scope`
      then has nothing left to do. An exception in the endpoint still rolls
      everything back.
    - with every request's calls interleaved, the first request in is answered
      about when the last one is. Admitting CONCURRENT_REQUESTS at a time, after
      their body is read and before their first thread call, serves them
      first come, first served (the request waiting holds no thread and no
      connection).
    Async endpoints (uploads, which stream their body) are left as they are.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _commit_on_return(endpoint)
            kwargs["dependencies"] = [Depends(_admitted), *(kwargs.get("dependencies") or [])]
        super().__init__(path, endpoint, **kwargs)


async def _admitted(request: Request) -> AsyncIterator[None]:
    state = request.app.state
    if getattr(state, "admission", None) is None:  # made in the serving event loop
        state.admission = anyio.Semaphore(CONCURRENT_REQUESTS)
    async with state.admission:
        yield


def _commit_on_return(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the endpoint's signature through this
    def run(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, Session):
                commit_now(value)
        return result

    return run
