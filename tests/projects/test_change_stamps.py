"""Change stamps (projects/changes.py): what moves a view's stamp and what does not.

A take's progress reports move the stamp of a view of its own shot (its card
shows the progress) and of no other shot's view; its states (queued, running,
finished) move the project's part of every view (the storyboard's
"generating…"). So a team's open pages do not all re-render on every progress
report of every take in the project.
"""

from __future__ import annotations

from studio.accounts.models import Workspace
from studio.config import Settings
from studio.db.session import Database
from studio.generation.context import build_generation
from studio.generation.models import Job, JobStatus
from studio.projects import changes, takes
from studio.projects import service as projects
from tests.factories import make_user, make_workspace
from tests.jams.helpers import actor


def test_a_takes_progress_moves_its_own_shots_stamp_and_no_other(
    db: Database, settings: Settings
) -> None:
    owner = make_user(db, "owner")
    team = make_workspace(db, owner)
    gen = build_generation(db, settings)  # its runner is not started: jobs wait
    with db.session_scope() as session:
        me = actor(session, owner)
        found = session.get(Workspace, team.id)
        assert found is not None
        found.concurrent_jobs_cap = 0
        project = projects.create_project(session, me, workspace_id=team.id, title="Harbour")
        here, there = (
            projects.add_shot(session, me, project.id, projects.ShotFields(description=text)).id
            for text in ("Wide: the pier", "Close: a rope")
        )
        job_id = takes.generate_take(session, me, there, gen, model="animatic").job_id
        project_id = project.id
    assert job_id is not None

    def stamps() -> tuple[changes.ProjectStamp, changes.ProjectStamp]:
        with db.session_scope() as session:
            me = actor(session, owner)
            return (
                changes.project_stamp(session, me, project_id, here),
                changes.project_stamp(session, me, project_id, there),
            )

    def update_job(**values: object) -> None:
        """What the worker's reports write."""
        with db.session_scope() as session:
            job = session.get(Job, job_id)
            assert job is not None
            for name, value in values.items():
                setattr(job, name, value)

    queued_here, queued_there = stamps()
    update_job(status=JobStatus.RUNNING, progress=0.1)
    running_here, running_there = stamps()
    assert running_here.jobs != queued_here.jobs  # the storyboard: generating
    assert running_there.shot_jobs != queued_there.shot_jobs
    assert running_here.shot_jobs == queued_here.shot_jobs  # not this shot's take

    update_job(progress=0.6)
    later_here, later_there = stamps()
    assert later_there.shot_jobs != running_there.shot_jobs  # its card's progress
    assert later_here == running_here  # nothing another shot's view shows moved
    assert later_there.jobs == running_there.jobs  # the storyboard neither

    update_job(status=JobStatus.SUCCEEDED, progress=1.0)
    done_here, done_there = stamps()
    assert done_here.jobs != later_here.jobs and done_there.shot_jobs != later_there.shot_jobs
