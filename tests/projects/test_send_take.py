"""Sending a Generate take to a shot: only a finished generation of the shot's
own workspace goes; the refusals name why and write nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from studio.accounts.models import Workspace
from studio.config import Settings
from studio.db.session import Database
from studio.errors import InvalidInput
from studio.generation import service as jobs
from studio.generation.context import build_generation
from studio.projects import send_take
from studio.projects import service as projects
from studio.projects.models import Take
from tests.factories import make_user, make_workspace
from tests.jams.helpers import actor


def test_only_a_finished_take_of_the_same_workspace_goes(db: Database, settings: Settings) -> None:
    owner = make_user(db, "owner")
    home, other = make_workspace(db, owner), make_workspace(db, owner)
    gen = build_generation(db, settings)  # its runner is not started
    with db.session_scope() as session:
        me = actor(session, owner)
        for ws in (home, other):  # jobs wait: nothing finishes them
            found = session.get(Workspace, ws.id)
            assert found is not None
            found.concurrent_jobs_cap = 0
        project = projects.create_project(session, me, workspace_id=home.id, title="Harbour")
        shot = projects.add_shot(session, me, project.id, projects.ShotFields(description="Boats"))

        def queued(workspace_id: int) -> str:
            job, _ = jobs.submit_job(
                session,
                me,
                workspace_id=workspace_id,
                request=jobs.Submission(mode="text_to_video", prompt="boats", model="animatic"),
                registry=gen.registry,
                storage=gen.storage,
                dispatcher=gen.dispatcher,
            )
            return job.public_id

        elsewhere, waiting = queued(other.id), queued(home.id)
        with pytest.raises(InvalidInput, match="made in another workspace"):
            send_take.send_to_shot(session, me, task_id=elsewhere, shot_id=shot.id)
        with pytest.raises(InvalidInput, match="has not finished yet"):
            send_take.send_to_shot(session, me, task_id=waiting, shot_id=shot.id)
        assert session.scalar(select(func.count(Take.id)).where(Take.shot_id == shot.id)) == 0
