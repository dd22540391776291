"""A project's activity feed: short, readable lines for the team.

Services call `record` in the same transaction as the change, so the feed
never mentions something that did not happen (a rolled-back edit leaves no
line). Reading checks access through the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.accounts.models import User
from studio.projects.access import get_project
from studio.projects.models import Activity

FEED_LIMIT_MAX = 200


@dataclass(frozen=True)
class ActivityView:
    id: int
    at: datetime
    actor_name: str
    verb: str
    summary: str
    shot_id: int | None
    take_id: int | None


def record(
    session: Session,
    actor: Actor | None,
    project_id: int,
    verb: str,
    summary: str,
    *,
    shot_id: int | None = None,
    take_id: int | None = None,
) -> None:
    session.add(
        Activity(
            project_id=project_id,
            actor_id=actor.user_id if actor else None,
            verb=verb,
            summary=summary[:300],
            shot_id=shot_id,
            take_id=take_id,
        )
    )


def feed(
    session: Session, actor: Actor, project_id: int, *, limit: int = 50, after_id: int = 0
) -> list[ActivityView]:
    """Newest first. `after_id` lets a page ask only for what it has not shown yet."""
    get_project(session, actor, project_id)
    limit = max(1, min(limit, FEED_LIMIT_MAX))
    rows = session.execute(
        select(Activity, User.display_name)
        .outerjoin(User, User.id == Activity.actor_id)
        .where(Activity.project_id == project_id, Activity.id > after_id)
        .order_by(Activity.id.desc())
        .limit(limit)
    ).all()
    return [
        ActivityView(
            id=a.id,
            at=a.created_at,
            actor_name=name or "Studio",
            verb=a.verb,
            summary=a.summary,
            shot_id=a.shot_id,
            take_id=a.take_id,
        )
        for a, name in rows
    ]
