"""A workspace's home: what a team opens first in the morning.

Its projects with a poster each, the newest takes, what waits for someone
(shots in review, shots whose finished takes nobody has circled yet,
comments that mention me) and the readable activity of every project.
Also the finished films of a workspace (takes and rough cuts), which a jam
team picks its entry from.

Every list is one bounded query (a page opens this on every visit), and
access is checked once, on the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from studio.accounts.access import Actor, require_role
from studio.accounts.models import User
from studio.generation.models import Job, JobStatus
from studio.media.models import Asset
from studio.projects.models import Activity, Comment, Project, RoughCut, Shot, ShotStatus, Take

PROJECTS_MAX = 12
RECENT_TAKES = 8
REVIEW_MAX = 12
MENTIONS_MAX = 8
MENTION_SCAN = 300  # newest comments looked at for my mentions
ACTIVITY_MAX = 20
FILMS_MAX = 60


@dataclass(frozen=True)
class ProjectCard:
    id: int
    title: str
    logline: str
    shots: int
    approved: int
    in_review: int
    poster_asset_id: int | None  # the first circled take's poster, else the newest one


@dataclass(frozen=True)
class RecentTake:
    take_id: int
    number: int
    shot_id: int
    shot_code: str
    project_id: int
    project_title: str
    status: str  # the job's status; "succeeded" for an uploaded clip
    model_key: str | None  # None for an uploaded clip
    seed: int | None
    duration: float | None
    poster_asset_id: int | None
    output_asset_id: int | None
    created_at: datetime
    author: str


@dataclass(frozen=True)
class ShotToReview:
    shot_id: int
    shot_code: str
    description: str
    project_id: int
    project_title: str
    finished_takes: int


@dataclass(frozen=True)
class Mention:
    comment_id: int
    shot_id: int
    shot_code: str
    take_id: int | None
    project_id: int
    project_title: str
    author: str
    body: str
    at: datetime


@dataclass(frozen=True)
class ActivityLine:
    id: int
    at: datetime
    actor_name: str
    summary: str  # readable: "circled take 3 of SC01-SH020"
    project_id: int
    project_title: str
    shot_id: int | None
    take_id: int | None


@dataclass(frozen=True)
class WorkspaceHome:
    projects: list[ProjectCard]
    recent_takes: list[RecentTake]
    in_review: list[ShotToReview]  # shots whose status is "review"
    awaiting_circle: list[ShotToReview]  # finished takes, none circled
    mentions: list[Mention]  # comments that mention me, newest first
    activity: list[ActivityLine]


@dataclass(frozen=True)
class FinishedFilm:
    """A finished take or rough cut of a workspace (what a jam entry can use)."""

    kind: str  # "take" | "cut"
    id: int
    label: str
    created_at: datetime


def workspace_home(session: Session, actor: Actor, workspace_id: int) -> WorkspaceHome:
    require_role(session, actor, workspace_id)
    return WorkspaceHome(
        projects=_projects(session, workspace_id),
        recent_takes=_recent_takes(session, workspace_id),
        in_review=_in_review(session, workspace_id),
        awaiting_circle=_awaiting_circle(session, workspace_id),
        mentions=_mentions(session, workspace_id, actor.user_id),
        activity=_activity(session, workspace_id),
    )


def finished_films(
    session: Session, actor: Actor, workspace_id: int, *, limit: int = FILMS_MAX
) -> list[FinishedFilm]:
    """Finished takes and rough cuts of live projects, newest first, at most `limit`."""
    require_role(session, actor, workspace_id)
    take_rows = session.execute(
        select(Take.id, Take.number, Take.created_at, Shot.code, Project.title)
        .join(Shot, Shot.id == Take.shot_id)
        .join(Project, Project.id == Shot.project_id)
        .outerjoin(Job, Job.id == Take.job_id)
        .where(
            Project.workspace_id == workspace_id,
            Project.archived_at.is_(None),
            Shot.deleted_at.is_(None),
            _finished_take(),
        )
        .order_by(Take.id.desc())
        .limit(limit)
    ).tuples()
    cut_rows = session.execute(
        select(RoughCut.id, RoughCut.number, RoughCut.created_at, Project.title)
        .join(Project, Project.id == RoughCut.project_id)
        .join(Job, Job.id == RoughCut.job_id)
        .where(
            Project.workspace_id == workspace_id,
            Project.archived_at.is_(None),
            Job.status == JobStatus.SUCCEEDED,
            Job.output_asset_id.is_not(None),
            Job.deleted_at.is_(None),
        )
        .order_by(RoughCut.id.desc())
        .limit(limit)
    ).tuples()
    films = [
        FinishedFilm("take", tid, f"{title} · {code} take {number}", at)
        for tid, number, at, code, title in take_rows
    ] + [
        FinishedFilm("cut", cid, f"{title} · rough cut v{number}", at)
        for cid, number, at, title in cut_rows
    ]
    films.sort(key=lambda f: f.created_at, reverse=True)
    return films[:limit]


# ---------------------------------------------------------------- parts


def _finished_take() -> ColumnElement[bool]:
    """A take with something to watch: an uploaded clip, or a succeeded job's output."""
    return or_(
        Take.upload_asset_id.is_not(None),
        and_(
            Job.status == JobStatus.SUCCEEDED,
            Job.output_asset_id.is_not(None),
            Job.deleted_at.is_(None),
        ),
    )


def _projects(session: Session, workspace_id: int) -> list[ProjectCard]:
    projects = list(
        session.scalars(
            select(Project)
            .where(Project.workspace_id == workspace_id, Project.archived_at.is_(None))
            .order_by(Project.created_at.desc(), Project.id.desc())
            .limit(PROJECTS_MAX)
        )
    )
    ids = [p.id for p in projects]
    if not ids:
        return []
    counts: dict[int, dict[ShotStatus, int]] = {}
    for project_id, status, n in session.execute(
        select(Shot.project_id, Shot.status, func.count())
        .where(Shot.project_id.in_(ids), Shot.deleted_at.is_(None))
        .group_by(Shot.project_id, Shot.status)
    ).tuples():
        counts.setdefault(project_id, {})[status] = int(n)
    posters = _posters(session, ids)
    return [
        ProjectCard(
            id=p.id,
            title=p.title,
            logline=p.logline,
            shots=sum(counts.get(p.id, {}).values()),
            approved=counts.get(p.id, {}).get(ShotStatus.APPROVED, 0),
            in_review=counts.get(p.id, {}).get(ShotStatus.REVIEW, 0),
            poster_asset_id=posters.get(p.id),
        )
        for p in projects
    ]


def _take_poster() -> Any:
    """A take's poster in SQL: its succeeded job's, else its upload's (outer-joined
    `Job` and `Asset`, see _with_poster)."""
    return func.coalesce(Job.poster_asset_id, Asset.poster_asset_id)


def _with_poster(query: Any) -> Any:
    return query.outerjoin(
        Job, and_(Job.id == Take.job_id, Job.status == JobStatus.SUCCEEDED)
    ).outerjoin(Asset, Asset.id == Take.upload_asset_id)


def _posters(session: Session, project_ids: list[int]) -> dict[int, int]:
    """Per project: the poster of its first shot with a circled take, else of its
    newest take with one (generated or uploaded; two bounded queries)."""
    posters: dict[int, int] = {}
    circled = session.execute(
        _with_poster(
            select(Shot.project_id, _take_poster()).join(Take, Take.id == Shot.selected_take_id)
        )
        .where(
            Shot.project_id.in_(project_ids),
            Shot.deleted_at.is_(None),
            _take_poster().is_not(None),
        )
        .order_by(Shot.project_id, Shot.position)
        .limit(50 * len(project_ids))
    ).tuples()
    for project_id, poster in circled:
        if poster is not None:
            posters.setdefault(project_id, poster)
    missing = [p for p in project_ids if p not in posters]
    if missing:
        newest = (
            _with_poster(
                select(Shot.project_id, func.max(Take.id).label("take_id")).join(
                    Take, Take.shot_id == Shot.id
                )
            )
            .where(
                Shot.project_id.in_(missing),
                Shot.deleted_at.is_(None),
                _take_poster().is_not(None),
            )
            .group_by(Shot.project_id)
            .subquery()
        )
        for project_id, poster in session.execute(
            _with_poster(
                select(newest.c.project_id, _take_poster()).join(Take, Take.id == newest.c.take_id)
            )
        ).tuples():
            if poster is not None:
                posters[project_id] = poster
    return posters


def _recent_takes(session: Session, workspace_id: int) -> list[RecentTake]:
    rows = session.execute(
        select(Take, Shot.code, Project.id, Project.title, Job, User.display_name, Asset)
        .join(Shot, Shot.id == Take.shot_id)
        .join(Project, Project.id == Shot.project_id)
        .outerjoin(Job, and_(Job.id == Take.job_id, Job.deleted_at.is_(None)))
        .outerjoin(Asset, Asset.id == Take.upload_asset_id)
        .outerjoin(User, User.id == Take.created_by)
        .where(
            Project.workspace_id == workspace_id,
            Project.archived_at.is_(None),
            Shot.deleted_at.is_(None),
        )
        .order_by(Take.id.desc())
        .limit(RECENT_TAKES)
    ).tuples()
    out = []
    for take, code, project_id, title, job, author, upload in rows:
        params = job.params if job is not None else {}
        out.append(
            RecentTake(
                take_id=take.id,
                number=take.number,
                shot_id=take.shot_id,
                shot_code=code,
                project_id=project_id,
                project_title=title,
                status=job.status.value if job is not None else "succeeded",
                model_key=job.model_key if job is not None else None,
                seed=params.get("seed") if isinstance(params.get("seed"), int) else None,
                duration=_number(params.get("duration")),
                poster_asset_id=upload.poster_asset_id
                if upload is not None
                else (job.poster_asset_id if job is not None else None),
                output_asset_id=take.upload_asset_id
                if take.upload_asset_id is not None
                else (job.output_asset_id if job is not None else None),
                created_at=take.created_at,
                author=author or "Studio",
            )
        )
    return out


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _shot_rows(
    session: Session, workspace_id: int, *conditions: ColumnElement[bool]
) -> list[ShotToReview]:
    finished = (
        select(Take.shot_id, func.count().label("n"))
        .outerjoin(Job, Job.id == Take.job_id)
        .where(_finished_take())
        .group_by(Take.shot_id)
        .subquery()
    )
    rows = session.execute(
        select(Shot, Project.title, finished.c.n)
        .join(Project, Project.id == Shot.project_id)
        .outerjoin(finished, finished.c.shot_id == Shot.id)
        .where(
            Project.workspace_id == workspace_id,
            Project.archived_at.is_(None),
            Shot.deleted_at.is_(None),
            *conditions,
        )
        .order_by(Project.id.desc(), Shot.position)
        .limit(REVIEW_MAX)
    ).tuples()
    return [
        ShotToReview(
            shot.id,
            shot.code,
            shot.description or shot.prompt,
            shot.project_id,
            title,
            int(n or 0),
        )
        for shot, title, n in rows
    ]


def _in_review(session: Session, workspace_id: int) -> list[ShotToReview]:
    return _shot_rows(session, workspace_id, Shot.status == ShotStatus.REVIEW)


def _awaiting_circle(session: Session, workspace_id: int) -> list[ShotToReview]:
    has_finished = (
        select(Take.id)
        .outerjoin(Job, Job.id == Take.job_id)
        .where(Take.shot_id == Shot.id, _finished_take())
        .exists()
    )
    return _shot_rows(
        session,
        workspace_id,
        Shot.selected_take_id.is_(None),
        Shot.status.not_in([ShotStatus.APPROVED, ShotStatus.OMITTED]),
        has_finished,
    )


def _mentions(session: Session, workspace_id: int, user_id: int) -> list[Mention]:
    """Mentions are a JSON list of user ids: the newest comments are read (bounded)
    and filtered here, the same way on SQLite and Postgres."""
    rows = session.execute(
        select(Comment, Shot.code, Project.title, User.display_name)
        .join(Shot, Shot.id == Comment.shot_id)
        .join(Project, Project.id == Comment.project_id)
        .outerjoin(User, User.id == Comment.author_id)
        .where(
            Project.workspace_id == workspace_id,
            Project.archived_at.is_(None),
            Comment.deleted_at.is_(None),
            Shot.deleted_at.is_(None),
            Comment.author_id != user_id,
        )
        .order_by(Comment.id.desc())
        .limit(MENTION_SCAN)
    ).tuples()
    out = []
    for comment, code, title, author in rows:
        if user_id not in (comment.mentions or []):
            continue
        out.append(
            Mention(
                comment.id,
                comment.shot_id,
                code,
                comment.take_id,
                comment.project_id,
                title,
                author or "Studio",
                comment.body,
                comment.created_at,
            )
        )
        if len(out) >= MENTIONS_MAX:
            break
    return out


def _activity(session: Session, workspace_id: int) -> list[ActivityLine]:
    rows = session.execute(
        select(Activity, User.display_name, Project.title)
        .join(Project, Project.id == Activity.project_id)
        .outerjoin(User, User.id == Activity.actor_id)
        .where(Project.workspace_id == workspace_id)
        .order_by(Activity.id.desc())
        .limit(ACTIVITY_MAX)
    ).tuples()
    return [
        ActivityLine(
            a.id,
            a.created_at,
            name or "Studio",
            a.summary,
            a.project_id,
            title,
            a.shot_id,
            a.take_id,
        )
        for a, name, title in rows
    ]
