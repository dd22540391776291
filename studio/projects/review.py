"""Review: comments on shots and takes, and comparing two takes.

Viewers may comment (reviewing is their job) but only editors may move a
shot's status with a comment, because that is an edit of the shot.
A comment's timecode is checked against the take's length, so "at 00:03"
always points inside the clip. Mentions must name members of the project's
workspace; everyone mentioned sees the line in the activity feed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.accounts.access import Actor, require_role
from studio.accounts.models import Membership, Role, User
from studio.db.base import utcnow
from studio.errors import Forbidden, InvalidInput, NotFound
from studio.media.models import Asset
from studio.projects import activity, takes
from studio.projects import service as projects
from studio.projects.models import Comment, Project, Shot, ShotStatus, Take

COMMENT_MAX = 4000
COMMENT_NOT_FOUND = "No such comment in your workspaces."
# Settings shown side by side when comparing takes, in this order.
COMPARED = (
    "model",
    "mode",
    "prompt",
    "negative_prompt",
    "seed",
    "ratio",
    "duration",
    "camera_move",
    "motion_strength",
    "steps",
    "guidance",
    "fps",
    "frames",
    "engine_version",
)


@dataclass(frozen=True)
class CommentView:
    id: int
    shot_id: int
    take_id: int | None
    take_number: int | None
    author_id: int
    author_name: str
    body: str
    timecode: float | None
    status_change: str | None
    mentions: list[str]  # display names
    at: datetime


def add_comment(
    session: Session,
    actor: Actor,
    shot_id: int,
    body: str,
    *,
    take_id: int | None = None,
    timecode: float | None = None,
    status: str | None = None,
    mentions: list[str] | None = None,
) -> Comment:
    """A comment on a shot (or one of its takes). `mentions` are member emails."""
    shot = projects.get_shot(session, actor, shot_id)
    project = session.get(Project, shot.project_id)
    assert project is not None
    text = (body or "").strip()
    if not text:
        raise InvalidInput("Write something before posting the comment.", code="empty_comment")
    if len(text) > COMMENT_MAX:
        raise InvalidInput(
            f"Comments are limited to {COMMENT_MAX} characters.", code="text_too_long"
        )
    take = _take_of_shot(session, actor, shot, take_id) if take_id is not None else None
    if timecode is not None:
        _check_timecode(session, actor, take, timecode)
    new_status = None
    if status:
        if not require_role(session, actor, project.workspace_id).role.at_least(Role.EDITOR):
            raise Forbidden("Viewers can comment but cannot change a shot's status.")
        new_status = _status(status)
    mentioned = _members(session, project, mentions or [])

    comment = Comment(
        project_id=project.id,
        shot_id=shot.id,
        take_id=take.id if take else None,
        author_id=actor.user_id,
        body=text,
        timecode=float(timecode) if timecode is not None else None,
        status_change=new_status,
        mentions=[u.id for u in mentioned],
    )
    session.add(comment)
    where = f"take {take.number} of {shot.code}" if take else shot.code
    at = f" at {format_timecode(timecode)}" if timecode is not None else ""
    activity.record(
        session,
        actor,
        project.id,
        "comment.added",
        f"commented on {where}{at}: {_excerpt(text)}",
        shot_id=shot.id,
        take_id=take.id if take else None,
    )
    if new_status is not None and new_status != shot.status:
        shot.status = new_status
        shot.version += 1
        shot.updated_by = actor.user_id
        shot.updated_at = utcnow()
        activity.record(
            session,
            actor,
            project.id,
            "shot.status",
            f"moved {shot.code} to {new_status.value.replace('_', ' ')}",
            shot_id=shot.id,
        )
    for user in mentioned:
        activity.record(
            session,
            actor,
            project.id,
            "comment.mention",
            f"mentioned {user.display_name} on {where}",
            shot_id=shot.id,
            take_id=take.id if take else None,
        )
    session.flush()
    return comment


def list_comments(session: Session, actor: Actor, shot_id: int) -> list[CommentView]:
    """Oldest first, as a conversation reads."""
    shot = projects.get_shot(session, actor, shot_id)
    rows = session.execute(
        select(Comment, User.display_name, Take.number)
        .join(User, User.id == Comment.author_id)
        .outerjoin(Take, Take.id == Comment.take_id)
        .where(Comment.shot_id == shot.id, Comment.deleted_at.is_(None))
        .order_by(Comment.id)
    ).all()
    mentioned_ids = {uid for comment, _, _ in rows for uid in comment.mentions}
    names = (
        {
            row.id: row.display_name
            for row in session.execute(
                select(User.id, User.display_name).where(User.id.in_(mentioned_ids))
            )
        }
        if mentioned_ids
        else {}
    )
    return [
        CommentView(
            id=c.id,
            shot_id=c.shot_id,
            take_id=c.take_id,
            take_number=number,
            author_id=c.author_id,
            author_name=name,
            body=c.body,
            timecode=c.timecode,
            status_change=c.status_change.value if c.status_change else None,
            mentions=[names.get(uid, "?") for uid in c.mentions],
            at=c.created_at,
        )
        for c, name, number in rows
    ]


def delete_comment(session: Session, actor: Actor, comment_id: int) -> None:
    """Authors remove their own comments; workspace admins remove any."""
    comment = session.get(Comment, comment_id)
    if comment is None or comment.deleted_at is not None:
        raise NotFound(COMMENT_NOT_FOUND, code="comment_not_found")
    try:
        shot = projects.get_shot(session, actor, comment.shot_id)
    except NotFound:
        raise NotFound(COMMENT_NOT_FOUND, code="comment_not_found") from None
    project = session.get(Project, shot.project_id)
    assert project is not None
    role = require_role(session, actor, project.workspace_id).role
    if comment.author_id != actor.user_id and not role.at_least(Role.ADMIN):
        raise Forbidden("Only the author or a workspace admin can remove a comment.")
    comment.deleted_at = utcnow()
    session.flush()


# ---------------------------------------------------------------- compare


@dataclass(frozen=True)
class SettingRow:
    name: str
    left: Any
    right: Any

    @property
    def differs(self) -> bool:
        return self.left != self.right


@dataclass(frozen=True)
class Comparison:
    left: takes.TakeView
    right: takes.TakeView
    rows: list[SettingRow]


def compare_takes(session: Session, actor: Actor, left_id: int, right_id: int) -> Comparison:
    """Two takes of the same project, with their settings side by side."""
    left = takes.get_take(session, actor, left_id)
    right = takes.get_take(session, actor, right_id)
    left_shot = session.get(Shot, left.shot_id)
    right_shot = session.get(Shot, right.shot_id)
    assert left_shot is not None and right_shot is not None
    if left_shot.project_id != right_shot.project_id:
        raise InvalidInput("Compare takes of the same project.", code="different_projects")
    left_view = takes.view(session, actor, left, left_shot.code)
    right_view = takes.view(session, actor, right, right_shot.code)
    a, b = settings_of(left_view), settings_of(right_view)
    names = [n for n in COMPARED if n in a or n in b]
    names += sorted((set(a) | set(b)) - set(COMPARED))
    rows = [SettingRow(n, a.get(n), b.get(n)) for n in names]
    return Comparison(left_view, right_view, rows)


def settings_of(view: takes.TakeView) -> dict[str, Any]:
    """The settings a take was made with ({"source": "upload"} for an upload)."""
    if view.job is None:
        return {"source": "upload"}
    params = dict(view.job.params)
    out: dict[str, Any] = {"model": view.job.model_key, "mode": view.job.mode}
    out["prompt"] = params.pop("user_prompt", None) or params.pop("prompt", None)
    params.pop("prompt", None)
    for key, value in params.items():
        if value is not None and not isinstance(value, (dict, list)):
            out[key] = value
    return out


def format_timecode(seconds: float | None) -> str:
    if seconds is None:
        return ""
    tenths = round(seconds * 10)
    whole, tenth = divmod(tenths, 10)
    return f"{whole // 60:02d}:{whole % 60:02d}.{tenth}"


def parse_timecode(text: str | float | None) -> float | None:
    """'1:05', '65', '65.5' or '' (none) -> seconds."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        return float(text)
    value = text.strip()
    if not value:
        return None
    try:
        if ":" in value:
            minutes, seconds = value.split(":", 1)
            return int(minutes) * 60 + float(seconds)
        return float(value)
    except ValueError:
        raise InvalidInput(
            f"'{value}' is not a timecode: write seconds (12.5) or minutes:seconds (1:05).",
            code="invalid_timecode",
        ) from None


# ---------------------------------------------------------------- helpers


def _take_of_shot(session: Session, actor: Actor, shot: Shot, take_id: int) -> Take:
    take = takes.get_take(session, actor, take_id)
    if take.shot_id != shot.id:
        raise InvalidInput("That take belongs to another shot.", code="take_not_of_shot")
    return take


def _check_timecode(session: Session, actor: Actor, take: Take | None, timecode: float) -> None:
    if not math.isfinite(timecode) or timecode < 0:
        raise InvalidInput("A timecode is zero or more seconds.", code="invalid_timecode")
    if take is None:
        raise InvalidInput(
            "A timecode points into a take: pick the take you mean.", code="timecode_needs_take"
        )
    asset_id = takes.view(session, actor, take).output_asset_id
    asset = session.get(Asset, asset_id) if asset_id else None
    duration = asset.duration if asset is not None else None
    if duration is not None and timecode > duration + 1e-6:
        raise InvalidInput(
            f"Take {take.number} lasts {duration:.1f} s; {timecode:g} s is past its end.",
            code="invalid_timecode",
        )


def _members(session: Session, project: Project, emails: list[str]) -> list[User]:
    wanted = {e.strip().lower() for e in emails if e and e.strip()}
    if not wanted:
        return []
    found = list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == project.workspace_id, User.email.in_(wanted))
        )
    )
    missing = wanted - {u.email for u in found}
    if missing:
        raise InvalidInput(
            f"Only members of this workspace can be mentioned: {', '.join(sorted(missing))}.",
            code="invalid_mention",
        )
    return sorted(found, key=lambda u: u.email)


def _status(value: str) -> ShotStatus:
    try:
        return ShotStatus(value)
    except ValueError:
        raise InvalidInput(
            f"Status must be one of {', '.join(s.value for s in ShotStatus)}.",
            code="invalid_status",
        ) from None


def _excerpt(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
