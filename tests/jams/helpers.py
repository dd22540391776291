"""Jam factories: real rows through the real services, a fixed clock where asked."""

from __future__ import annotations

import functools
import secrets
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from studio.accounts import service as accounts
from studio.accounts.access import Actor
from studio.db.session import Database
from studio.jams import entries, service, teams
from studio.jams.clock import Clock, db_clock, fixed_clock
from studio.jams.rules import JamRules
from studio.media import ffmpeg
from studio.media.storage import Storage
from tests.factories import UserInfo, WorkspaceInfo, make_api_key, make_user

# A fixed timeline for clock-controlled tests (far from the real "now").
KICKOFF = datetime(2030, 6, 7, 17, 0, tzinfo=UTC)
DEADLINE = KICKOFF + timedelta(hours=48)
GRACE = 600  # seconds
REG_OPEN = KICKOFF - timedelta(days=7)
ELEMENTS = [
    {"category": "character", "options": ["a retired astronaut", "a twin"], "per_team": False},
    {"category": "prop", "options": ["a brass key", "a paper crane"], "per_team": False},
    {"category": "genre", "options": ["film noir", "musical", "western"], "per_team": True},
]
SECRET_WORDS = [
    "retired astronaut",
    "twin",
    "brass key",
    "paper crane",
    "noir",
    "musical",
    "western",
]


def at(when: datetime) -> Clock:
    return fixed_clock(when)


def actor(session: Session, user: UserInfo) -> Actor:
    found = accounts.get_user(session, user.id)
    assert found is not None
    return Actor(user=found)


def make_jam(db: Database, admin: UserInfo | None = None, **overrides: Any) -> tuple[str, UserInfo]:
    admin = admin or make_user(db, "admin", is_admin=True)
    values: dict[str, Any] = {
        "title": "Spring Jam",
        "slug": f"spring-{secrets.token_hex(3)}",
        "brief": "Make a film in 48 hours.",
        "timezone": "Europe/Paris",
        "registration_opens_at": REG_OPEN,
        "kickoff_at": KICKOFF,
        "grace_seconds": GRACE,
        "team_size_max": 3,
        "film_min_seconds": 1.0,
        "film_max_seconds": 4.0,
        "elements": ELEMENTS,
        "gpu_seconds_grant": 900,
    }
    values.update(overrides)
    with db.session_scope() as session:
        jam = service.create_jam(session, actor(session, admin), JamRules(**values))
        return jam.slug, admin


def running_jam_team(db: Database, **overrides: Any) -> tuple[str, teams.TeamView, str]:
    """A jam running now by the database clock (kicked off an hour ago, the deadline
    an hour ahead), a team registered in it -> (slug, team, the captain's API key)."""
    with db.session_scope() as session:
        now = db_clock(session)
    slug, _ = make_jam(
        db,
        registration_opens_at=now - timedelta(hours=2),
        kickoff_at=now - timedelta(hours=1),
        deadline_at=now + timedelta(hours=1),
        **overrides,
    )
    captain = make_user(db, "captain")
    team = register(db, slug, captain, when=now - timedelta(hours=3))
    key = make_api_key(db, captain, WorkspaceInfo(team.workspace_id, team.workspace_slug, captain))
    return slug, team, key


def register(
    db: Database, slug: str, user: UserInfo, name: str | None = None, when: datetime = REG_OPEN
) -> teams.TeamView:
    with db.session_scope() as session:
        return teams.register_team(
            session,
            actor(session, user),
            slug,
            name=name or f"Team {secrets.token_hex(3)}",
            clock=at(when + timedelta(hours=1)),
        )


def join(
    db: Database, slug: str, captain: UserInfo, member: UserInfo, when: datetime
) -> teams.TeamView:
    """The captain invites `member` by email and the member accepts (two steps)."""
    with db.session_scope() as session:
        team = teams.invite_member(
            session, actor(session, captain), slug, email=member.email, clock=at(when)
        )
    with db.session_scope() as session:
        me = actor(session, member)
        (invite,) = [i for i in teams.my_invites(session, me, slug) if i.team_id == team.id]
        return teams.accept_invite(session, me, slug, invite.id, clock=at(when))


@functools.cache
def film_bytes(seconds: float = 2.0, fps: int = 8, size: tuple[int, int] = (64, 48)) -> bytes:
    frames = max(1, round(seconds * fps))
    width, height = size
    ramp = np.linspace(0, 255, frames, dtype=np.uint8)[:, None, None, None]
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "film.mp4"
        ffmpeg.encode_mp4(np.broadcast_to(ramp, (frames, height, width, 3)).copy(), fps, path)
        return path.read_bytes()


def upload_film_bytes(
    session: Session, actor: Actor, slug: str, data: bytes, *, storage: Storage
) -> entries.FilmCheck:
    """entries.upload_film for bytes: the service takes the file the web process wrote."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "film"
        path.write_bytes(data)
        return entries.upload_film(session, actor, slug, path, storage=storage)


def upload(
    db: Database, slug: str, user: UserInfo, storage: Storage, data: bytes | None = None
) -> int:
    with db.session_scope() as session:
        return upload_film_bytes(
            session, actor(session, user), slug, data or film_bytes(), storage=storage
        ).asset_id


def put(
    db: Database,
    slug: str,
    user: UserInfo,
    storage: Storage,
    when: datetime,
    **values: Any,
) -> entries.EntryView:
    values.setdefault("title", "Night Swim")
    with db.session_scope() as session:
        return entries.put_entry(
            session,
            actor(session, user),
            slug,
            entries.EntryInput(**values),
            storage=storage,
            clock=at(when),
        )


def team_with_film(
    db: Database, slug: str, storage: Storage, label: str = "captain"
) -> tuple[UserInfo, int]:
    """A registered captain and a validated film in their team's workspace."""
    captain = make_user(db, label)
    register(db, slug, captain)
    return captain, upload(db, slug, captain, storage)
