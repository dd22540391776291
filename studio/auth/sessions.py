"""Session cookies: a signed cookie holding the user id and session version.

The version lives on the user row too; bumping it (logout, password change,
removal from a workspace) kills every copy of every cookie at once.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from studio.accounts import apikeys
from studio.accounts import service as accounts
from studio.accounts.access import Actor
from studio.accounts.models import User
from studio.db.session import Database
from studio.errors import NotAuthenticated

_UID = "uid"
_VERSION = "sv"
_CACHE = "studio_actor"


def start_session(conn: HTTPConnection, user: User) -> None:
    # A fresh dict: nothing from before sign-in (an OAuth state, say) survives.
    conn.session.clear()
    conn.session.update({_UID: user.id, _VERSION: user.session_version})


def clear_session(conn: HTTPConnection) -> None:
    conn.session.clear()


def session_user_id(conn: HTTPConnection) -> int | None:
    uid = conn.session.get(_UID)
    return uid if isinstance(uid, int) else None


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def resolve_actor(db: Database, conn: HTTPConnection) -> Actor | None:
    """The actor behind this request (API key or session cookie), or None.

    An Authorization header wins over a cookie; a bad key is never silently
    replaced by the cookie. Cached per request.
    """
    if _CACHE in conn.scope:
        cached: Actor | None = conn.scope[_CACHE]
        return cached
    with db.session_scope() as session:
        return actor_in_session(session, conn)


def actor_in_session(session: Session, conn: HTTPConnection) -> Actor | None:
    """`resolve_actor` inside a session the caller has open (a route that reads the
    database anyway saves a connection checkout and a commit). Cached per request."""
    if _CACHE in conn.scope:
        cached: Actor | None = conn.scope[_CACHE]
        return cached
    actor: Actor | None = None
    token = bearer_token(conn)
    if token is not None:
        try:
            actor = apikeys.authenticate_key(session, token)
        except NotAuthenticated:
            actor = None
    elif "session" in conn.scope:
        user = accounts.user_for_session(
            session, conn.session.get(_UID), conn.session.get(_VERSION)
        )
        actor = Actor(user=user) if user is not None else None
    conn.scope[_CACHE] = actor
    return actor
