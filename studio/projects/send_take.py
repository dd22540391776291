"""Send a finished generation (from the Generate page) to a shot as its next take.

A take is a thin row over its job, and a job is a take of one shot at most
(`takes.job_id` is unique): a generation already on a shot says where it is.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts.access import Actor
from studio.accounts.models import Role
from studio.errors import Conflict, InvalidInput, NotFound
from studio.generation import registry as reg
from studio.generation import service as jobs
from studio.generation.models import Job, JobStatus
from studio.projects import activity
from studio.projects import service as projects
from studio.projects.models import Project, Shot, Take


def send_to_shot(session: Session, actor: Actor, *, task_id: str, shot_id: int) -> Take:
    """The job `task_id` as the shot's new take; the caller edits the shot (editor role)
    and the job belongs to the shot's workspace."""
    shot = projects.get_shot(session, actor, shot_id, Role.EDITOR)
    if shot.deleted_at is not None:
        raise NotFound(projects.SHOT_NOT_FOUND, code="shot_not_found")
    project = session.get(Project, shot.project_id)
    assert project is not None
    view = jobs.get_job(session, actor, task_id)  # NotFound unless the caller may see it
    if view.workspace_id != project.workspace_id:
        raise InvalidInput(
            "That take was made in another workspace: send it to a shot of its own workspace.",
            code="take_other_workspace",
        )
    if view.mode not in reg.MODES:
        raise InvalidInput("Only generated takes can go to a shot.", code="take_not_generated")
    if view.status != JobStatus.SUCCEEDED:
        raise InvalidInput(
            "That take has not finished yet: send it once it has succeeded.",
            code="take_not_finished",
        )
    job = session.scalar(select(Job).where(Job.public_id == task_id))
    assert job is not None
    existing = session.scalar(select(Take).where(Take.job_id == job.id))
    if existing is not None:
        on = session.get(Shot, existing.shot_id)
        where = f"{on.code}, take {existing.number}" if on else "another shot"
        raise Conflict(f"That take is already on a shot ({where}).", code="take_on_a_shot")
    take = Take(
        shot_id=shot.id,
        number=int(
            session.scalar(select(func.max(Take.number)).where(Take.shot_id == shot.id)) or 0
        )
        + 1,
        job_id=job.id,
        created_by=actor.user_id,
    )
    session.add(take)
    session.flush()
    activity.record(
        session,
        actor,
        project.id,
        "take.sent",
        f"sent a take from Generate to {shot.code} (take {take.number})",
        shot_id=shot.id,
        take_id=take.id,
    )
    audit.record(
        session,
        "take.sent",
        actor_user_id=actor.user_id,
        workspace_id=project.workspace_id,
        target=f"take:{take.id}",
        shot_id=shot.id,
        job=task_id,
    )
    return take
