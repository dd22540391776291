"""Projects and their shot lists. Access is checked here, once per call.

Viewers read; editors and above change. A project or shot of another
workspace is reported as not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts.access import Actor, require_role
from studio.accounts.models import Membership, Role, User
from studio.accounts.validation import name as valid_name
from studio.db.base import utcnow
from studio.errors import Conflict, InvalidInput, NotFound
from studio.projects import activity
from studio.projects.access import get_project
from studio.projects.models import Project, Scene, Shot, ShotStatus

SHOT_NOT_FOUND = "No such shot in your workspaces."
TEXT_MAX = 4000
RATIO_CHOICES = ("1280:720", "720:1280", "960:960", "1920:1080", "1080:1920")
SHOT_STEP = 10  # SH010, SH020...: room to insert by hand in a paper script
# What a duplicate keeps (its status starts again at todo).
COPIED = {
    "description",
    "dialogue",
    "camera_notes",
    "prompt",
    "negative_prompt",
    "target_duration",
    "ratio",
}


# ---------------------------------------------------------------- projects


def create_project(
    session: Session,
    actor: Actor,
    *,
    workspace_id: int,
    title: str,
    logline: str = "",
    default_ratio: str = "1280:720",
    default_fps: int = 24,
) -> Project:
    require_role(session, actor, workspace_id, Role.EDITOR)
    project = Project(
        workspace_id=workspace_id,
        title=valid_name(title, "Project title")[:120],
        logline=_text(logline, "Logline"),
        default_ratio=_ratio(default_ratio),
        default_fps=_fps(default_fps),
        created_by=actor.user_id,
    )
    session.add(project)
    session.flush()
    audit.record(
        session,
        "project.created",
        actor_user_id=actor.user_id,
        workspace_id=workspace_id,
        target=f"project:{project.id}",
    )
    return project


def list_projects(
    session: Session, actor: Actor, workspace_id: int, *, archived: bool = False
) -> list[Project]:
    require_role(session, actor, workspace_id)
    archived_filter = (
        Project.archived_at.is_not(None) if archived else Project.archived_at.is_(None)
    )
    return list(
        session.scalars(
            select(Project)
            .where(Project.workspace_id == workspace_id, archived_filter)
            .order_by(Project.created_at.desc(), Project.id.desc())
        )
    )


def update_project(session: Session, actor: Actor, project_id: int, **changes: Any) -> Project:
    project = get_project(session, actor, project_id, Role.EDITOR)
    if "title" in changes and changes["title"] is not None:
        project.title = valid_name(changes["title"], "Project title")[:120]
    if changes.get("logline") is not None:
        project.logline = _text(changes["logline"], "Logline")
    if changes.get("default_ratio") is not None:
        project.default_ratio = _ratio(changes["default_ratio"])
    if changes.get("default_fps") is not None:
        project.default_fps = _fps(changes["default_fps"])
    session.flush()
    return project


def set_archived(session: Session, actor: Actor, project_id: int, archived: bool) -> Project:
    project = get_project(session, actor, project_id, Role.EDITOR)
    project.archived_at = utcnow() if archived else None
    audit.record(
        session,
        "project.archived" if archived else "project.restored",
        actor_user_id=actor.user_id,
        workspace_id=project.workspace_id,
        target=f"project:{project.id}",
    )
    session.flush()
    return project


# ---------------------------------------------------------------- shots


@dataclass
class ShotFields:
    """Editable fields of a shot; None means 'leave as it is'."""

    description: str | None = None
    dialogue: str | None = None
    camera_notes: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    target_duration: float | None = None
    ratio: str | None = None
    status: str | None = None
    assignee_email: str | None = None  # "" clears the assignee


def scene_for(session: Session, project: Project, number: int | None, title: str = "") -> Scene:
    """The scene with this number (made if missing), or the last scene (SC01 when none)."""
    if number is None:
        number = (
            session.scalar(select(func.max(Scene.number)).where(Scene.project_id == project.id))
            or 1
        )
    if not 1 <= number <= 99:
        raise InvalidInput("Scene numbers go from 1 to 99.", code="invalid_scene")
    scene = session.scalar(
        select(Scene).where(Scene.project_id == project.id, Scene.number == number)
    )
    if scene is None:
        scene = Scene(project_id=project.id, number=number, title=title[:120])
        session.add(scene)
        session.flush()
    return scene


def add_shot(
    session: Session,
    actor: Actor,
    project_id: int,
    values: ShotFields,
    *,
    scene_number: int | None = None,
    code: str | None = None,
    announce: bool = True,
) -> Shot:
    """A new shot at the end of the list. `announce=False` leaves the activity line
    to the caller (a duplicate says "duplicated X as Y" instead)."""
    project = get_project(session, actor, project_id, Role.EDITOR)
    scene = scene_for(session, project, scene_number)
    shot = Shot(
        project_id=project.id,
        scene_id=scene.id,
        code=code or _next_code(session, project.id, scene),
        position=_next_position(session, project.id),
        status=ShotStatus.TODO,
        version=1,
        updated_by=actor.user_id,
        updated_at=utcnow(),
    )
    _apply(session, project, shot, values)
    session.add(shot)
    session.flush()
    audit.record(
        session,
        "shot.created",
        actor_user_id=actor.user_id,
        workspace_id=project.workspace_id,
        target=f"shot:{shot.id}",
        code=shot.code,
    )
    if announce:
        activity.record(
            session, actor, project.id, "shot.created", f"added {shot.code}", shot_id=shot.id
        )
    return shot


def get_shot(session: Session, actor: Actor, shot_id: int, minimum: Role = Role.VIEWER) -> Shot:
    shot = session.get(Shot, shot_id)
    if shot is None:
        raise NotFound(SHOT_NOT_FOUND, code="shot_not_found")
    try:
        get_project(session, actor, shot.project_id, minimum)
    except NotFound:
        raise NotFound(SHOT_NOT_FOUND, code="shot_not_found") from None
    if shot.deleted_at is not None and minimum is not Role.EDITOR:
        raise NotFound(SHOT_NOT_FOUND, code="shot_not_found")
    return shot


def list_shots(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    deleted: bool = False,
    status: str | None = None,
) -> list[Shot]:
    project = get_project(session, actor, project_id)
    query = select(Shot).where(
        Shot.project_id == project.id,
        Shot.deleted_at.is_not(None) if deleted else Shot.deleted_at.is_(None),
    )
    if status:
        query = query.where(Shot.status == _status(status))
    return list(session.scalars(query.order_by(Shot.position, Shot.id)))


def update_shot(
    session: Session, actor: Actor, shot_id: int, values: ShotFields, *, expected_version: int
) -> Shot:
    """Edit a shot if nobody changed it since `expected_version`; else Conflict naming who did."""
    shot = _editable(session, actor, shot_id, expected_version)
    project = session.get(Project, shot.project_id)
    assert project is not None
    status_before = shot.status
    _apply(session, project, shot, values)
    shot.version += 1
    shot.updated_by = actor.user_id
    shot.updated_at = utcnow()
    change = (
        f"moved {shot.code} to {shot.status.value.replace('_', ' ')}"
        if shot.status != status_before
        else f"edited {shot.code}"
    )
    activity.record(session, actor, project.id, "shot.edited", change, shot_id=shot.id)
    session.flush()
    return shot


def set_reference(
    session: Session, actor: Actor, shot_id: int, asset_id: int | None, *, expected_version: int
) -> Shot:
    """Point the shot at a stored reference image (None clears it), with the version check.

    The image itself is decoded and stored by `projects.references`.
    """
    shot = _editable(session, actor, shot_id, expected_version)
    shot.reference_asset_id = asset_id
    shot.version += 1
    shot.updated_by = actor.user_id
    shot.updated_at = utcnow()
    change = "set the reference image of" if asset_id else "removed the reference image of"
    activity.record(
        session, actor, shot.project_id, "shot.edited", f"{change} {shot.code}", shot_id=shot.id
    )
    session.flush()
    return shot


def _editable(session: Session, actor: Actor, shot_id: int, expected_version: int) -> Shot:
    """The shot, for an editor, if nobody changed it since `expected_version`."""
    shot = get_shot(session, actor, shot_id, Role.EDITOR)
    if shot.deleted_at is not None:
        raise NotFound(SHOT_NOT_FOUND, code="shot_not_found")
    if shot.version != expected_version:
        who = session.get(User, shot.updated_by) if shot.updated_by else None
        raise Conflict(
            f"{shot.code} was changed by {who.display_name if who else 'someone else'} "
            "since you opened it. Reload to see their changes, then edit again.",
            code="version_conflict",
        )
    return shot


def reorder_shots(session: Session, actor: Actor, project_id: int, order: list[int]) -> list[Shot]:
    """Set the shot list's order. Codes stay as they are."""
    project = get_project(session, actor, project_id, Role.EDITOR)
    shots = {s.id: s for s in list_shots(session, actor, project.id)}
    if sorted(order) != sorted(shots) or len(set(order)) != len(order):
        raise InvalidInput(
            "The new order must list every shot of the project exactly once.", code="invalid_order"
        )
    for position, shot_id in enumerate(order, start=1):
        shots[shot_id].position = position
    audit.record(
        session,
        "shots.reordered",
        actor_user_id=actor.user_id,
        workspace_id=project.workspace_id,
        target=f"project:{project.id}",
    )
    activity.record(session, actor, project.id, "shots.reordered", "reordered the shot list")
    session.flush()
    return [shots[i] for i in order]


def duplicate_shot(session: Session, actor: Actor, shot_id: int) -> Shot:
    source = get_shot(session, actor, shot_id, Role.EDITOR)
    scene = session.get(Scene, source.scene_id)
    assert scene is not None
    copy = add_shot(
        session,
        actor,
        source.project_id,
        ShotFields(**{name: getattr(source, name) for name in COPIED}),
        scene_number=scene.number,
        announce=False,
    )
    copy.reference_asset_id = source.reference_asset_id
    copy.assignee_user_id = source.assignee_user_id
    activity.record(
        session,
        actor,
        source.project_id,
        "shot.duplicated",
        f"duplicated {source.code} as {copy.code}",
        shot_id=copy.id,
    )
    session.flush()
    return copy


def delete_shot(session: Session, actor: Actor, shot_id: int) -> Shot:
    """Recoverable: the shot leaves the list and can be restored with its code."""
    shot = get_shot(session, actor, shot_id, Role.EDITOR)
    shot.deleted_at = utcnow()
    shot.version += 1
    activity.record(
        session, actor, shot.project_id, "shot.deleted", f"deleted {shot.code}", shot_id=shot.id
    )
    session.flush()
    return shot


def restore_shot(session: Session, actor: Actor, shot_id: int) -> Shot:
    shot = get_shot(session, actor, shot_id, Role.EDITOR)
    shot.deleted_at = None
    shot.version += 1
    shot.position = _next_position(session, shot.project_id)
    activity.record(
        session, actor, shot.project_id, "shot.restored", f"restored {shot.code}", shot_id=shot.id
    )
    session.flush()
    return shot


def scene_number_of(session: Session, shot: Shot) -> int:
    scene = session.get(Scene, shot.scene_id)
    assert scene is not None
    return scene.number


# ---------------------------------------------------------------- helpers


def _next_code(session: Session, project_id: int, scene: Scene) -> str:
    prefix = f"SC{scene.number:02d}-SH"
    codes = session.scalars(
        select(Shot.code).where(Shot.project_id == project_id, Shot.code.like(prefix + "%"))
    ).all()
    numbers = [int(c[len(prefix) :]) for c in codes if c[len(prefix) :].isdigit()]
    return f"{prefix}{(max(numbers, default=0) // SHOT_STEP + 1) * SHOT_STEP:03d}"


def _next_position(session: Session, project_id: int) -> int:
    return (
        int(
            session.scalar(select(func.max(Shot.position)).where(Shot.project_id == project_id))
            or 0
        )
        + 1
    )


def _apply(session: Session, project: Project, shot: Shot, values: ShotFields) -> None:
    for field in ("description", "dialogue", "camera_notes", "prompt", "negative_prompt"):
        value = getattr(values, field)
        if value is not None:
            setattr(shot, field, _text(value, field.replace("_", " ").capitalize()))
    if values.target_duration is not None:
        if not 0 < values.target_duration <= 600:
            raise InvalidInput("A shot lasts between 0 and 600 seconds.", code="invalid_duration")
        shot.target_duration = float(values.target_duration)
    if values.ratio is not None:
        shot.ratio = _ratio(values.ratio) if values.ratio else None
    if values.status is not None:
        shot.status = _status(values.status)
    if values.assignee_email is not None:
        shot.assignee_user_id = _assignee(session, project, values.assignee_email)


def _assignee(session: Session, project: Project, email: str) -> int | None:
    address = email.strip().lower()
    if not address:
        return None
    user_id = session.scalar(
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(User.email == address, Membership.workspace_id == project.workspace_id)
    )
    if user_id is None:
        raise InvalidInput(f"{address} is not a member of this workspace.", code="invalid_assignee")
    return int(user_id)


def _text(value: str, what: str) -> str:
    text = (value or "").strip()
    if len(text) > TEXT_MAX:
        raise InvalidInput(f"{what} is limited to {TEXT_MAX} characters.", code="text_too_long")
    return text


def _ratio(value: str) -> str:
    if value not in RATIO_CHOICES:
        raise InvalidInput(
            f"Ratio must be one of {', '.join(RATIO_CHOICES)}.", code="invalid_ratio"
        )
    return value


def _fps(value: int) -> int:
    if value not in (12, 16, 24, 25, 30, 48, 50, 60):
        raise InvalidInput(
            "Frame rate must be 12, 16, 24, 25, 30, 48, 50 or 60.", code="invalid_fps"
        )
    return value


def _status(value: str) -> ShotStatus:
    try:
        return ShotStatus(value.strip().lower().replace(" ", "_"))
    except ValueError:
        allowed = ", ".join(s.value for s in ShotStatus)
        raise InvalidInput(f"Status must be one of: {allowed}.", code="invalid_status") from None
