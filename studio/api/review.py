"""/v1/shots/{id}/comments, /v1/comments/{id}, /v1/projects/{id}/activity and
/v1/takes/compare: the review side of a project."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.api.deps import TransactionRoute, api_actor, db_session
from studio.api.schemas import BODY_ERRORS, COMMON_ERRORS, ID_MAX, Id, IdPath, IdQuery, Strict
from studio.projects import activity, review
from studio.projects.models import ShotStatus

router = APIRouter(route_class=TransactionRoute, tags=["review"], responses=COMMON_ERRORS)
ActorDep = Annotated[Actor, Depends(api_actor)]
SessionDep = Annotated[Session, Depends(db_session, scope="function")]


class CommentIn(Strict):
    body: str = Field(max_length=review.COMMENT_MAX)
    take_id: Id | None = None
    timecode: float | None = Field(default=None, description="Seconds into the take")
    status: str | None = Field(
        default=None,
        max_length=20,
        description="Move the shot to this status: " + ", ".join(s.value for s in ShotStatus),
    )
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
def list_comments(shot_id: IdPath, actor: ActorDep, session: SessionDep) -> list[CommentOut]:
    return [_comment_out(c) for c in review.list_comments(session, actor, shot_id)]


@router.post(
    "/shots/{shot_id}/comments", response_model=CommentOut, status_code=201, responses=BODY_ERRORS
)
def add_comment(
    shot_id: IdPath, body: CommentIn, actor: ActorDep, session: SessionDep
) -> CommentOut:
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
def delete_comment(comment_id: IdPath, actor: ActorDep, session: SessionDep) -> Response:
    review.delete_comment(session, actor, comment_id)
    return Response(status_code=204)


@router.get("/projects/{project_id}/activity", response_model=list[ActivityOut])
def project_activity(
    project_id: IdPath,
    actor: ActorDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=activity.FEED_LIMIT_MAX)] = 50,
    after: Annotated[int, Query(ge=0, le=ID_MAX, description="Only lines newer than this id")] = 0,
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


class ComparedTakeOut(BaseModel):
    take: int
    number: int


class SettingOut(BaseModel):
    name: str
    left: str | int | float | bool | None
    right: str | int | float | bool | None
    differs: bool


class CompareOut(BaseModel):
    left: ComparedTakeOut
    right: ComparedTakeOut
    settings: list[SettingOut]


@router.get("/takes/compare", response_model=CompareOut, summary="Two takes' settings side by side")
def compare(left: IdQuery, right: IdQuery, actor: ActorDep, session: SessionDep) -> CompareOut:
    result = review.compare_takes(session, actor, left, right)
    return CompareOut(
        left=ComparedTakeOut(take=result.left.take.id, number=result.left.take.number),
        right=ComparedTakeOut(take=result.right.take.id, number=result.right.take.number),
        settings=[
            SettingOut(name=r.name, left=r.left, right=r.right, differs=r.differs)
            for r in result.rows
        ],
    )
