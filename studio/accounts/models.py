"""Users, identities, workspaces, memberships, API keys and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from studio.db.base import Base, CreatedAtMixin, UTCDateTime, enum_column

EMAIL_MAX = 254
NAME_MAX = 80


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


class User(CreatedAtMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME_MAX))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    # Bumped by logout, password change and removal from a workspace: every
    # session cookie carries the version it was issued with and dies with it.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OAuthIdentity(CreatedAtMixin, Base):
    __tablename__ = "oauth_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))


class Workspace(CreatedAtMixin, Base):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    # What the generation queue enforces (see generation/scheduler.py):
    # the share: jobs it runs at once while other workspaces wait (on an idle
    # farm it may use every free worker); a hard cap, never exceeded (None:
    # none; jam teams get the jam's); GPU seconds of successful jobs.
    max_concurrent_jobs: Mapped[int] = mapped_column(default=2)
    concurrent_jobs_cap: Mapped[int | None] = mapped_column()
    gpu_seconds_quota: Mapped[int | None] = mapped_column()
    # Optional: a signed POST here when a task ends (set by owners/admins).
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(100))


class Membership(CreatedAtMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))

    user: Mapped[User] = relationship(lazy="raise")
    workspace: Mapped[Workspace] = relationship(lazy="raise")


class ApiKey(CreatedAtMixin, Base):
    """A bearer key acting as its user inside one workspace.

    Only a SHA-256 of the key is stored (keys are 256-bit random, so a slow
    hash buys nothing); the prefix is shown so people can tell keys apart.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    workspace: Mapped[Workspace] = relationship(lazy="raise")


class AuditEvent(Base):
    """Append-only: the migration adds triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_workspace_id_at", "workspace_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    workspace_id: Mapped[int | None] = mapped_column(ForeignKey("workspaces.id"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LoginThrottle(Base):
    """Failed sign-ins per key (an email or a client address) in the current window.

    Kept in the database so that every web replica sees the same count.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
