"""Who may see a project: one check shared by the project services and the
activity feed (which the services write to, so it cannot import them)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from studio.accounts.access import Actor, require_role
from studio.accounts.models import Role
from studio.errors import NotFound
from studio.projects.models import Project

PROJECT_NOT_FOUND = "No such project in your workspaces."


def get_project(
    session: Session, actor: Actor, project_id: int, minimum: Role = Role.VIEWER
) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(PROJECT_NOT_FOUND, code="project_not_found")
    try:
        require_role(session, actor, project.workspace_id, minimum)
    except NotFound:
        raise NotFound(PROJECT_NOT_FOUND, code="project_not_found") from None
    return project


def can_edit(session: Session, actor: Actor, project_id: int) -> bool:
    """Whether the actor may change the project's shots and takes (editor or above);
    an outsider gets NotFound, like every other read."""
    project = get_project(session, actor, project_id)
    return require_role(session, actor, project.workspace_id).role.at_least(Role.EDITOR)
