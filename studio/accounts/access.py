"""Who may do what in a workspace: the one place membership is checked.

Every read and write of workspace data goes through require_role(). A
workspace the actor cannot see is reported as not found (404), never as
forbidden, so ids of other teams' workspaces leak nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.accounts.models import Membership, Role, User, Workspace
from studio.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Actor:
    """The person behind a request; an API key narrows it to one workspace."""

    user: User
    workspace_scope: int | None = None
    api_key_id: int | None = None

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def via_api_key(self) -> bool:
        return self.api_key_id is not None


WORKSPACE_NOT_FOUND = "Workspace not found, or you are not a member of it."


def require_role(
    session: Session, actor: Actor, workspace_id: int, minimum: Role = Role.VIEWER
) -> Membership:
    if actor.workspace_scope is not None and actor.workspace_scope != workspace_id:
        raise NotFound(WORKSPACE_NOT_FOUND)
    membership = session.scalar(
        select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.user_id == actor.user_id
        )
    )
    if membership is None:
        raise NotFound(WORKSPACE_NOT_FOUND)
    if not membership.role.at_least(minimum):
        raise Forbidden(f"This needs the {minimum.value} role or higher in this workspace.")
    return membership


def workspace_by_slug(session: Session, actor: Actor, slug: str) -> tuple[Workspace, Membership]:
    workspace = session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        raise NotFound(WORKSPACE_NOT_FOUND)
    return workspace, require_role(session, actor, workspace.id)
