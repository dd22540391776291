"""Request dependencies: the database session and the API-key actor."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from studio.accounts import apikeys
from studio.accounts.access import Actor
from studio.auth.sessions import bearer_token
from studio.db.session import Database
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
