"""Change stamps: has anything a project page shows changed since the last look?

A page polls every couple of seconds; re-reading and re-rendering a whole
project each time does not scale to a team. `project_stamp` answers with one
small query over indexes, and the page re-renders only the parts whose inputs
moved:

- `activity`: the newest line of the project's feed. Every edit a person
  makes to shots, takes, comments and cuts writes one in the same
  transaction (ix_activities_project_id_id, so this is an index lookup).
- `project`: the project row's own fields (title, archive state...), which
  change without a feed line.
- `jobs`: the project's unfinished jobs (takes and rough cuts): how many,
  which, how many run and which are being canceled, read through the status
  index (not their progress: the storyboard shows only "generating…"). A job
  that finishes leaves the set, so that changes the stamp too.
- `shot_jobs` / `cut_jobs`: the same for the open shot's takes and for the
  project's rough cuts, with their progress (the take cards and the rough
  cut list show it). While one of them waits, the queue snapshots' time
  joins in: queue positions move when the farm does, not when this project
  does. Another shot's progress moves neither, so a team's open pages do not
  re-render on every progress report of every take in the project.
- `takes` / `comments`: the open shot's takes (count, ratings, favorites:
  marks write no feed line; and which one is circled) and its visible
  comments (removals write none).

Stamps are compared for equality only; their contents mean nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, case, cast, func, or_, select, true
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.generation.models import ACTIVE, Job, JobStatus, QueueSnapshot
from studio.projects import service as projects
from studio.projects.models import Activity, Comment, RoughCut, Shot, Take


@dataclass(frozen=True)
class ProjectStamp:
    project: tuple[Any, ...]
    activity: int
    jobs: tuple[Any, ...]
    shot_jobs: tuple[Any, ...]
    cut_jobs: tuple[Any, ...]
    takes: tuple[Any, ...]
    comments: tuple[Any, ...]

    @property
    def archived_at(self) -> Any:
        return self.project[-1]


def project_stamp(
    session: Session, actor: Actor, project_id: int, shot_id: int | None = None
) -> ProjectStamp:
    """The stamp of what `project_id`'s page shows (and of `shot_id`'s takes and comments)."""
    project = projects.get_project(session, actor, project_id)
    row = session.execute(
        _stamp_statement(),
        {"project_id": project.id, "workspace_id": project.workspace_id, "shot_id": shot_id or 0},
    ).one()
    feed_id, *job_cols, snapshot_at = row[:12]
    shot_jobs, cut_jobs = tuple(job_cols[4:7]), tuple(job_cols[7:10])
    return ProjectStamp(
        project=(
            project.title,
            project.logline,
            project.default_ratio,
            project.default_fps,
            project.archived_at,
        ),
        activity=int(feed_id or 0),
        jobs=tuple(job_cols[:4]),
        shot_jobs=(*shot_jobs, snapshot_at if shot_jobs[2] else None),
        cut_jobs=(*cut_jobs, snapshot_at if cut_jobs[2] else None),
        takes=(*row[12:16], row[18]),
        comments=tuple(row[16:18]),
    )


@lru_cache(maxsize=1)
def _stamp_statement() -> Select[Any]:
    """The stamp's one statement, built once: a page polls every 2 s, and building
    it (and its cache key) each time cost more than running it."""
    project_id = bindparam("project_id", type_=Integer)
    workspace_id = bindparam("workspace_id", type_=Integer)
    shot_id = bindparam("shot_id", type_=Integer)
    shot_ids = select(Shot.id).where(Shot.project_id == project_id)
    job_ids = select(Take.job_id).where(Take.shot_id.in_(shot_ids), Take.job_id.is_not(None))
    cut_job_ids = select(RoughCut.job_id).where(RoughCut.project_id == project_id)
    active = and_(
        Job.status.in_(ACTIVE),
        Job.workspace_id == workspace_id,
        or_(Job.id.in_(job_ids), Job.id.in_(cut_job_ids)),
    )
    # The open shot, only if it belongs to this project (else its columns stay empty).
    own_shot = select(Shot.id).where(Shot.id == shot_id, Shot.project_id == project_id)
    in_shot = Job.id.in_(
        select(Take.job_id).where(Take.shot_id.in_(own_shot), Take.job_id.is_not(None))
    )
    in_cuts = Job.id.in_(cut_job_ids)
    queued = Job.status == JobStatus.QUEUED

    def count_of(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def progress_of(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, Job.progress), else_=0.0)), 0.0)

    jobs = (
        select(
            func.count(),
            func.coalesce(func.sum(Job.id), 0),
            count_of(Job.status == JobStatus.RUNNING),
            func.coalesce(func.sum(cast(Job.cancel_requested, Integer)), 0),
            count_of(in_shot),
            progress_of(in_shot),
            count_of(and_(in_shot, queued)),
            count_of(in_cuts),
            progress_of(in_cuts),
            count_of(and_(in_cuts, queued)),
        )
        .where(active)
        .subquery()
    )
    latest_feed = (
        select(func.max(Activity.id)).where(Activity.project_id == project_id).scalar_subquery()
    )
    snapshot = select(func.max(QueueSnapshot.taken_at)).scalar_subquery()
    takes = (
        select(
            func.count(),
            func.max(Take.id),
            func.coalesce(func.sum(Take.rating), 0),
            func.coalesce(func.sum(cast(Take.favorite, Integer)), 0),
        )
        .where(Take.shot_id.in_(own_shot))
        .subquery()
    )
    comments = (
        select(func.count(), func.max(Comment.id))
        .where(Comment.shot_id.in_(own_shot), Comment.deleted_at.is_(None))
        .subquery()
    )
    circled = select(Shot.selected_take_id).where(Shot.id.in_(own_shot)).scalar_subquery()
    # One statement: three one-row aggregates side by side, three scalar subqueries.
    one_row = jobs.join(takes, true()).join(comments, true())
    return select(latest_feed, jobs, snapshot, takes, comments, circled).select_from(one_row)
