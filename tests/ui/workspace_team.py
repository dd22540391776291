"""A workspace with work in it, for the Workspaces page tests: two projects,
three shots (SH010 with a circled take, SH020 with a finished take nobody
circled, SH030 in review), a comment that mentions the editor. Takes are
generated for real (the animatic engine, through /v1 and the app's runner).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from studio.accounts.models import Role
from studio.db.session import Database
from studio.projects import review, takes
from studio.projects import service as projects
from tests.conftest import LiveServer
from tests.factories import (
    UserInfo,
    WorkspaceInfo,
    add_member,
    bearer,
    make_api_key,
    make_user,
    make_workspace,
    wait_finished,
)
from tests.jams.helpers import actor


@dataclass(frozen=True)
class Team:
    workspace: WorkspaceInfo
    owner: UserInfo
    editor: UserInfo
    project: int
    empty_project: int
    shots: list[int]  # SH010 circled, SH020 finished but not circled, SH030 in review
    takes: list[int]  # the takes of SH010 and SH020


def make_team(db: Database, live_server: LiveServer) -> Team:
    """A workspace with two projects; takes generated for real through /v1."""
    workspace = make_workspace(db, name="Night Shift")
    editor = make_user(db, "editor")
    add_member(db, workspace, editor, Role.EDITOR)
    with db.session_scope() as session:
        owner = actor(session, workspace.owner)
        made = projects.create_project(
            session,
            owner,
            workspace_id=workspace.id,
            title="The Lighthouse <script>",
            logline="A keeper's last night.",
        )
        empty = projects.create_project(
            session, owner, workspace_id=workspace.id, title="Breakwater"
        )
        shots = [
            projects.add_shot(session, owner, made.id, projects.ShotFields(description=text)).id
            for text in ("Wide: the rock at dusk", "Close: hands and a match", "Wide: the beam")
        ]
        project_id, empty_id = made.id, empty.id
    key = bearer(make_api_key(db, workspace.owner, workspace))
    take_ids = []
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        for shot in shots[:2]:
            started = client.post(
                f"/v1/shots/{shot}/takes", json={"model": "animatic"}, headers=key
            )
            assert started.status_code == 200, started.text
            task = wait_finished(client, key, started.json()["id"])
            assert task["status"] == "SUCCEEDED", task
            take_ids.append(started.json()["take"])
    with db.session_scope() as session:
        owner = actor(session, workspace.owner)
        takes.select_take(session, owner, take_ids[0])
        review.add_comment(session, owner, shots[2], "Ready for a look", status="review")
        review.add_comment(
            session,
            owner,
            shots[0],
            "Does the flare read at the end?",
            take_id=take_ids[0],
            mentions=[editor.email],
        )
    return Team(workspace, workspace.owner, editor, project_id, empty_id, shots, take_ids)
