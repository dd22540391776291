"""Account rules at the service layer, on both databases."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from studio.accounts import service as accounts
from studio.accounts.access import Actor
from studio.accounts.models import AuditEvent, User, Workspace
from studio.db.session import Database
from studio.errors import Conflict, InvalidInput
from tests.factories import make_user, make_workspace, unique_email


def count(db: Database, model: type) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_passwords_are_argon2id_and_emails_case_insensitive(db: Database) -> None:
    user = make_user(db)
    with db.session_scope() as session:
        row = session.get(User, user.id)
        assert row is not None and row.password_hash is not None
        assert row.password_hash.startswith("$argon2id$")
        assert user.password not in row.password_hash
    with db.session_scope() as session:
        assert accounts.check_password(session, email=user.email.upper(), password=user.password)
        assert accounts.check_password(session, email=user.email, password="wrong") is None


def test_a_password_hashed_with_older_parameters_still_signs_in_and_is_rehashed(
    db: Database,
) -> None:
    """Sign-in costs OWASP's argon2id floor (19 MiB, 2 passes, 1 lane); hashes stored
    with the library's heavier default (64 MiB x 4 lanes) keep working and move to
    the current parameters at the next sign-in."""
    user = make_user(db)
    with db.session_scope() as session:
        stored = session.get(User, user.id)
        assert stored is not None and stored.password_hash is not None
        assert "$m=19456,t=2,p=1$" in stored.password_hash
        stored.password_hash = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(
            user.password
        )
    with db.session_scope() as session:
        assert accounts.check_password(session, email=user.email, password=user.password)
    with db.session_scope() as session:
        stored = session.get(User, user.id)
        assert stored is not None and stored.password_hash is not None
        assert "$m=19456,t=2,p=1$" in stored.password_hash
        assert accounts.check_password(session, email=user.email, password="wrong") is None


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"email": ""}, "email_required"),
        ({"email": "no-at-sign"}, "invalid_email"),
        ({"email": "x" * 250 + "@a.co"}, "invalid_email"),
        ({"display_name": "n" * 81}, "name_too_long"),
        ({"password": "short"}, "weak_password"),
    ],
)
def test_bad_user_input_writes_nothing(db: Database, kwargs: dict[str, str], code: str) -> None:
    before = count(db, User)
    args = {"email": unique_email(), "password": "long enough pass", **kwargs}
    with pytest.raises(InvalidInput) as caught, db.session_scope() as session:
        accounts.create_user(session, **args)
    assert caught.value.code == code
    assert count(db, User) == before


def test_duplicate_email_is_refused_whatever_the_case(db: Database) -> None:
    user = make_user(db)
    before = count(db, User)
    with pytest.raises(Conflict, match="already exists"), db.session_scope() as session:
        accounts.create_user(session, email=user.email.upper(), password="long enough pass")
    assert count(db, User) == before


def test_workspace_names_are_validated_and_slugs_stay_unique(db: Database) -> None:
    owner = make_user(db)
    before = count(db, Workspace)
    for bad in ("", "   ", "w" * 81):
        with pytest.raises(InvalidInput), db.session_scope() as session:
            accounts.create_workspace(
                session, Actor(user=accounts.get_user(session, owner.id)), name=bad
            )  # type: ignore[arg-type]
    assert count(db, Workspace) == before
    slugs = []
    for _ in range(2):
        with db.session_scope() as session:
            actor = Actor(user=accounts.get_user(session, owner.id))  # type: ignore[arg-type]
            slugs.append(
                accounts.create_workspace(session, actor, name=f"Night Shift {owner.id}").slug
            )
    assert slugs[0] != slugs[1] and slugs[1].startswith(slugs[0])


def test_changing_password_ends_every_session(db: Database) -> None:
    user = make_user(db)
    with db.session_scope() as session:
        version = accounts.get_user(session, user.id).session_version  # type: ignore[union-attr]
        actor = Actor(user=accounts.get_user(session, user.id))  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="current password"):
            accounts.change_password(session, actor, current="not it", new="a new long password")
    with db.session_scope() as session:
        actor = Actor(user=accounts.get_user(session, user.id))  # type: ignore[arg-type]
        accounts.change_password(session, actor, current=user.password, new="a new long password")
    with db.session_scope() as session:
        assert accounts.user_for_session(session, user.id, version) is None
        assert accounts.check_password(session, email=user.email, password="a new long password")


def test_audit_log_is_append_only(db: Database) -> None:
    make_workspace(db)
    for statement in ("UPDATE audit_events SET action = 'tampered'", "DELETE FROM audit_events"):
        with pytest.raises(DatabaseError, match="append-only"), db.session_scope() as session:
            session.execute(text(statement))
    with db.session_scope() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "tampered")
            )
            == 0
        )
