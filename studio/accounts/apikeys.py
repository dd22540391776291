"""API keys: created once, stored hashed, revocable, each bound to one workspace."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session

from studio.accounts import audit, validation
from studio.accounts.access import Actor, require_role
from studio.accounts.models import ApiKey, Membership, User, Workspace
from studio.db.base import utcnow
from studio.errors import Forbidden, NotAuthenticated, NotFound

KEY_PREFIX = "stu_"
ACCOUNT_ACTION = (
    "An API key acts inside its one workspace; manage API keys, your password and "
    "your workspaces signed in, on the Account page."
)
# Writing last_used_at on every request would turn each read into a write.
_LAST_USED_RESOLUTION = timedelta(minutes=1)
INVALID_KEY = "The API key is missing, unknown or revoked."


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the full key: shown once, never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def require_session(actor: Actor) -> None:
    """Account-level actions (keys, password, workspaces): the person, signed in."""
    if actor.via_api_key:
        raise Forbidden(ACCOUNT_ACTION, code="session_required")


def create_key(session: Session, actor: Actor, *, workspace_id: int, name: str) -> NewKey:
    require_session(actor)
    require_role(session, actor, workspace_id)
    label = validation.name(name, "Key name")
    prefix = KEY_PREFIX + secrets.token_hex(4)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        user_id=actor.user_id,
        workspace_id=workspace_id,
        name=label,
        prefix=prefix,
        key_hash=_digest(secret),
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        "apikey.created",
        actor_user_id=actor.user_id,
        workspace_id=workspace_id,
        target=f"apikey:{prefix}",
    )
    return NewKey(key, secret)


@dataclass(frozen=True)
class KeyRow:
    id: int
    name: str
    prefix: str
    workspace_slug: str
    workspace_name: str
    created_at: str
    last_used_at: str | None
    revoked: bool


def list_keys(session: Session, actor: Actor) -> list[KeyRow]:
    require_session(actor)  # a key would see its person's other workspaces
    rows = session.execute(
        select(ApiKey, Workspace)
        .join(Workspace, Workspace.id == ApiKey.workspace_id)
        .where(ApiKey.user_id == actor.user_id)
        .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
    ).tuples()
    return [
        KeyRow(
            key.id,
            key.name,
            key.prefix,
            ws.slug,
            ws.name,
            key.created_at.isoformat(),
            key.last_used_at.isoformat() if key.last_used_at else None,
            key.revoked_at is not None,
        )
        for key, ws in rows
    ]


def revoke_key(session: Session, actor: Actor, key_id: int) -> None:
    require_session(actor)
    key = session.get(ApiKey, key_id)
    # Someone else's key looks exactly like a missing one.
    if key is None or key.user_id != actor.user_id:
        raise NotFound("No such API key.", code="apikey_not_found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session,
            "apikey.revoked",
            actor_user_id=actor.user_id,
            workspace_id=key.workspace_id,
            target=f"apikey:{key.prefix}",
        )
    session.flush()


def authenticate_key(session: Session, secret: str) -> Actor:
    """The actor a bearer key stands for; NotAuthenticated for anything else."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        raise NotAuthenticated(INVALID_KEY, code="invalid_api_key")
    digest = _digest(secret)
    # One round trip for the key, its person and whether they are still a member:
    # scripts and polls present a key on every request.
    row = session.execute(_key_statement(), {"digest": digest}).first()
    if row is None or not hmac.compare_digest(row[0].key_hash, digest):
        raise NotAuthenticated(INVALID_KEY, code="invalid_api_key")
    key, user, still_member = row
    return _checked(session, key, user, still_member)


@lru_cache(maxsize=1)
def _key_statement() -> Select[ApiKey, User, int]:
    member = and_(Membership.workspace_id == ApiKey.workspace_id, Membership.user_id == User.id)
    return (
        select(ApiKey, User, Membership.id)
        .join(User, User.id == ApiKey.user_id)
        .outerjoin(Membership, member)
        .where(ApiKey.key_hash == bindparam("digest"))
    )


def actor_for_key_id(session: Session, key_id: int) -> Actor:
    """Re-check a key already authenticated earlier in this request's life."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotAuthenticated(INVALID_KEY, code="invalid_api_key")
    still_member = session.scalar(
        select(Membership.id).where(
            Membership.workspace_id == key.workspace_id, Membership.user_id == key.user_id
        )
    )
    return _checked(session, key, session.get(User, key.user_id), still_member)


def _checked(session: Session, key: ApiKey, user: User | None, still_member: int | None) -> Actor:
    if key.revoked_at is not None or still_member is None or user is None:
        raise NotAuthenticated(INVALID_KEY, code="invalid_api_key")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
        key.last_used_at = now
    return Actor(user=user, workspace_scope=key.workspace_id, api_key_id=key.id)
