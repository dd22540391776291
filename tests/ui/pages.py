"""The Workspaces, Jams, Account and Projects pages built in-process, to call their
`route(query, request)` the way the app shell does on load and on Back /
Forward, with the request of a given person (its `username`, as the auth
dependency sets it). Outputs are read by the components' elem_id.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import gradio as gr

from studio.config import Settings
from studio.db.session import Database
from studio.generation.context import Generation, build_generation
from studio.ui import account, jams, workspaces
from studio.ui.pages import projects
from tests.factories import UserInfo


@dataclass
class Pages:
    workspaces: workspaces.WorkspacesPage
    jams: jams.JamsPage
    account: account.AccountPage
    projects: projects.ProjectsPage
    generation: Generation


def build_pages(db: Database, settings: Settings) -> Pages:
    generation = build_generation(db, settings)  # its runner is never started here
    secret = settings.resolved_secret_key()
    with gr.Blocks():
        ws = workspaces.build(db, generation, secret)
        jam = jams.build(db, generation, secret)
        acct = account.build(db)
        proj = projects.build(db, generation, secret)
    return Pages(ws, jam, acct, proj, generation)


def request_of(user: UserInfo) -> Any:
    """What ui_action reads of a gr.Request: the auth dependency's username."""
    return SimpleNamespace(username=f"user:{user.id}")


def named(out: dict[Any, Any]) -> dict[str, Any]:
    """{component: value} -> {elem_id: value}; every output the pages bind has one."""
    result = {}
    for component, got in out.items():
        assert component.elem_id, f"an output without an elem_id: {component}"
        result[component.elem_id] = got
    return result


def shown(got: Any) -> Any:
    """A value, whether plain or inside gr.update(value=...)."""
    return got.get("value") if isinstance(got, dict) else got
