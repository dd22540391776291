"""Users, workspaces and memberships.

Functions are verb_noun(session, actor, *, ...); they flush, never commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from studio.accounts import access, audit, validation
from studio.accounts.access import Actor, require_role
from studio.accounts.models import ApiKey, Membership, Role, User, Workspace
from studio.accounts.passwords import hash_password, needs_rehash, verify_password
from studio.db.base import utcnow
from studio.errors import Conflict, Forbidden, InvalidInput, NotFound

# ---------------------------------------------------------------- users


def create_user(
    session: Session,
    *,
    email: str,
    display_name: str | None = None,
    password: str | None = None,
    is_admin: bool = False,
) -> User:
    address = validation.email(email)
    shown = validation.name(display_name or address.split("@")[0], "Display name")
    secret = validation.password(password) if password is not None else None
    if get_user_by_email(session, address) is not None:
        raise Conflict(f"An account with {address} already exists.", code="email_taken")
    user = User(
        email=address,
        display_name=shown,
        password_hash=hash_password(secret) if secret else None,
        is_admin=is_admin,
        session_version=1,
    )
    session.add(user)
    session.flush()
    audit.record(session, "user.created", actor_user_id=user.id, target=f"user:{user.id}")
    return user


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def check_password(session: Session, *, email: str, password: str) -> User | None:
    """The user whose password this is, or None. Says nothing about which part was wrong."""
    try:
        address = validation.email(email)
    except InvalidInput:
        address = ""
    user = get_user_by_email(session, address) if address else None
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok:
        return None
    assert user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def set_password(session: Session, user: User, new_password: str) -> None:
    user.password_hash = hash_password(validation.password(new_password))
    end_sessions(session, user)
    audit.record(session, "user.password_set", actor_user_id=user.id, target=f"user:{user.id}")


def change_password(session: Session, actor: Actor, *, current: str, new: str) -> None:
    if actor.via_api_key:
        raise Forbidden(
            "An API key cannot change a password: sign in and use the Account page.",
            code="session_required",
        )
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound("Your account no longer exists.")
    if user.password_hash and not verify_password(user.password_hash, current):
        raise InvalidInput("Your current password is not right.", code="wrong_password")
    set_password(session, user, new)


def end_sessions(session: Session, user: User) -> None:
    """Invalidate every session cookie of this user (all devices, all copies)."""
    session.execute(
        update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
    )
    session.refresh(user)


def user_for_session(session: Session, user_id: object, version: object) -> User | None:
    if not isinstance(user_id, int) or not isinstance(version, int):
        return None
    user = session.get(User, user_id)
    if user is None or user.session_version != version:
        return None
    return user


# ---------------------------------------------------------------- workspaces


@dataclass(frozen=True)
class MyWorkspace:
    workspace: Workspace
    role: Role


def create_workspace(
    session: Session, actor: Actor, *, name: str, slug: str | None = None
) -> Workspace:
    if actor.via_api_key:
        raise Forbidden("API keys act inside one workspace; create workspaces in the studio.")
    title = validation.name(name, "Workspace name")
    if slug:
        chosen = validation.slug(slug)
        if session.scalar(select(Workspace.id).where(Workspace.slug == chosen)) is not None:
            raise Conflict(f"The slug '{chosen}' is taken.", code="slug_taken")
    else:
        chosen = _free_slug(session, validation.slugify(title))
    workspace = Workspace(slug=chosen, name=title)
    session.add(workspace)
    session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=actor.user_id, role=Role.OWNER))
    audit.record(
        session,
        "workspace.created",
        actor_user_id=actor.user_id,
        workspace_id=workspace.id,
        target=f"workspace:{workspace.slug}",
    )
    session.flush()
    return workspace


def _free_slug(session: Session, base: str) -> str:
    taken = set(
        session.scalars(
            select(Workspace.slug).where(
                (Workspace.slug == base) | Workspace.slug.like(f"{base}-%")
            )
        )
    )
    if base not in taken:
        return base
    for n in range(2, 10_000):
        candidate = f"{base[:34]}-{n}"
        if candidate not in taken:
            return candidate
    return f"{base[:30]}-{secrets.token_hex(4)}"


def list_my_workspaces(session: Session, actor: Actor) -> list[MyWorkspace]:
    query = (
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == actor.user_id)
        .order_by(func.lower(Workspace.name), Workspace.id)
    )
    if actor.workspace_scope is not None:
        query = query.where(Workspace.id == actor.workspace_scope)
    return [MyWorkspace(ws, role) for ws, role in session.execute(query).tuples()]


def get_workspace(session: Session, actor: Actor, workspace_id: int) -> MyWorkspace:
    membership = require_role(session, actor, workspace_id)
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None  # the membership row references it
    return MyWorkspace(workspace, membership.role)


def get_workspace_by_slug(session: Session, actor: Actor, slug: str) -> MyWorkspace:
    """A workspace by its address (`?ws=<slug>`); not a member: the same 404 as a missing one."""
    workspace, membership = access.workspace_by_slug(session, actor, (slug or "").strip().lower())
    return MyWorkspace(workspace, membership.role)


# ---------------------------------------------------------------- members


@dataclass(frozen=True)
class Member:
    user_id: int
    email: str
    display_name: str
    role: Role


def list_members(session: Session, actor: Actor, workspace_id: int) -> list[Member]:
    require_role(session, actor, workspace_id)
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(func.lower(User.email))
    ).tuples()
    return [Member(u.id, u.email, u.display_name, role) for u, role in rows]


def add_member(
    session: Session, actor: Actor, workspace_id: int, *, email: str, role: str | Role
) -> Member:
    mine = require_role(session, actor, workspace_id, Role.ADMIN)
    address = validation.email(email)
    new_role = validation.role(role)
    _check_may_grant(mine.role, new_role)
    user = get_user_by_email(session, address)
    if user is None:
        raise NotFound(
            f"No Studio account uses {address}. Ask them to sign in once, then add them.",
            code="user_not_found",
        )
    exists = session.scalar(
        select(Membership.id).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user.id
        )
    )
    if exists is not None:
        raise Conflict(f"{address} is already a member.", code="already_member")
    session.add(Membership(workspace_id=workspace_id, user_id=user.id, role=new_role))
    audit.record(
        session,
        "member.added",
        actor_user_id=actor.user_id,
        workspace_id=workspace_id,
        target=f"user:{user.id}",
        role=new_role.value,
    )
    session.flush()
    return Member(user.id, user.email, user.display_name, new_role)


def change_role(
    session: Session, actor: Actor, workspace_id: int, *, user_id: int, role: str | Role
) -> Member:
    mine = require_role(session, actor, workspace_id, Role.ADMIN)
    new_role = validation.role(role)
    target = _membership(session, workspace_id, user_id)
    _check_may_grant(mine.role, new_role)
    _check_may_manage(mine.role, target.role)
    if target.role is Role.OWNER and new_role is not Role.OWNER:
        _keep_an_owner(session, workspace_id)
    old = target.role
    target.role = new_role
    audit.record(
        session,
        "member.role_changed",
        actor_user_id=actor.user_id,
        workspace_id=workspace_id,
        target=f"user:{user_id}",
        old=old.value,
        new=new_role.value,
    )
    session.flush()
    user = session.get(User, user_id)
    assert user is not None
    return Member(user.id, user.email, user.display_name, new_role)


def remove_member(session: Session, actor: Actor, workspace_id: int, *, user_id: int) -> None:
    """Remove someone (or leave, when user_id is the actor's own)."""
    leaving = user_id == actor.user_id
    mine = require_role(session, actor, workspace_id, Role.VIEWER if leaving else Role.ADMIN)
    target = mine if leaving else _membership(session, workspace_id, user_id)
    if not leaving:
        _check_may_manage(mine.role, target.role)
    if target.role is Role.OWNER:
        _keep_an_owner(session, workspace_id)
    session.delete(target)
    # Their keys for this workspace die with the membership, and so do their
    # session cookies: a copied cookie must not keep a removed member's access.
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.workspace_id == workspace_id,
            ApiKey.user_id == user_id,
            ApiKey.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    removed = session.get(User, user_id)
    assert removed is not None
    end_sessions(session, removed)
    audit.record(
        session,
        "member.left" if leaving else "member.removed",
        actor_user_id=actor.user_id,
        workspace_id=workspace_id,
        target=f"user:{user_id}",
    )
    session.flush()


def _membership(session: Session, workspace_id: int, user_id: int) -> Membership:
    membership = session.scalar(
        select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user_id
        )
    )
    if membership is None:
        raise NotFound("That person is not a member of this workspace.", code="member_not_found")
    return membership


def _check_may_grant(my_role: Role, new_role: Role) -> None:
    if new_role is Role.OWNER and my_role is not Role.OWNER:
        raise Forbidden("Only an owner can make someone an owner.")


def _check_may_manage(my_role: Role, their_role: Role) -> None:
    if their_role is Role.OWNER and my_role is not Role.OWNER:
        raise Forbidden("Only an owner can change or remove an owner.")


def _keep_an_owner(session: Session, workspace_id: int) -> None:
    owners = session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.workspace_id == workspace_id, Membership.role == Role.OWNER)
    )
    if (owners or 0) <= 1:
        raise Conflict(
            "A workspace needs at least one owner: make someone else an owner first.",
            code="last_owner",
        )
