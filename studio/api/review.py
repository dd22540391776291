"""/v1/shots/{id}/comments, /v1/comments/{id}, /v1/projects/{id}/activity and
/v1/takes/compare: the review side of a project."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.api.deps import TransactionRoute, api_actor, db_session
from studio.api.schemas import Strict
from studio.projects import activity, review

router = APIRouter(route_class=TransactionRoute)
ActorDep = Annotated[Actor, Depends(api_actor)]
SessionDep = Annotated[Session, Depends(db_session, scope="function")]


class CommentIn(Strict):
    body: str = Field(max_length=review.COMMENT_MAX)
    take_id: int | None = None
    timecode: float | None = Field(default=None, description="Seconds into the take")
    status: str | None = Field(default=None, description="Move the shot to this status")
    mentions: list[str] = Field(default_factory=list, max_length=20, description="Member emails")


class CommentOut(BaseModel):
    id: int
    shot_id: int
    take_id: int | None
    take_number: int | None
    author: str
    body: str
    timecode: float | None
    status_change: str | None
    mentions: list[str]
    created_at: datetime


class ActivityOut(BaseModel):
    id: int
    at: datetime
    actor: str
    verb: str
    summary: str
    shot_id: int | None
    take_id: int | None


def _comment_out(c: review.CommentView) -> CommentOut:
    return CommentOut(
        id=c.id,
        shot_id=c.shot_id,
        take_id=c.take_id,
        take_number=c.take_number,
        author=c.author_name,
        body=c.body,
        timecode=c.timecode,
        status_change=c.status_change,
        mentions=c.mentions,
        created_at=c.at,
    )


@router.get("/shots/{shot_id}/comments", response_model=list[CommentOut])
def list_comments(shot_id: int, actor: ActorDep, session: SessionDep) -> list[CommentOut]:
    return [_comment_out(c) for c in review.list_comments(session, actor, shot_id)]


@router.post("/shots/{shot_id}/comments", response_model=CommentOut, status_code=201)
def add_comment(shot_id: int, body: CommentIn, actor: ActorDep, session: SessionDep) -> CommentOut:
    made = review.add_comment(
        session,
        actor,
        shot_id,
        body.body,
        take_id=body.take_id,
        timecode=body.timecode,
        status=body.status,
        mentions=body.mentions,
    )
    views = review.list_comments(session, actor, shot_id)
    return _comment_out(next(c for c in views if c.id == made.id))


@router.delete("/comments/{comment_id}", status_code=204)
def delete_comment(comment_id: int, actor: ActorDep, session: SessionDep) -> None:
    review.delete_comment(session, actor, comment_id)


@router.get("/projects/{project_id}/activity", response_model=list[ActivityOut])
def project_activity(
    project_id: int,
    actor: ActorDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=activity.FEED_LIMIT_MAX)] = 50,
    after: Annotated[int, Query(ge=0, description="Only lines newer than this id")] = 0,
) -> list[ActivityOut]:
    return [
        ActivityOut(
            id=a.id,
            at=a.at,
            actor=a.actor_name,
            verb=a.verb,
            summary=a.summary,
            shot_id=a.shot_id,
            take_id=a.take_id,
        )
        for a in activity.feed(session, actor, project_id, limit=limit, after_id=after)
    ]


@router.get("/takes/compare", summary="Two takes' settings side by side")
def compare(
    left: Annotated[int, Query()],
    right: Annotated[int, Query()],
    actor: ActorDep,
    session: SessionDep,
) -> dict[str, Any]:
    result = review.compare_takes(session, actor, left, right)
    return {
        "left": {"take": result.left.take.id, "number": result.left.take.number},
        "right": {"take": result.right.take.id, "number": result.right.take.number},
        "settings": [
            {"name": r.name, "left": r.left, "right": r.right, "differs": r.differs}
            for r in result.rows
        ],
    }
