"""The Projects page's addresses (see ui/addresses.py):

`/projects?[ws=<slug>][&project=<id>][&shot=<id>][&take=<id>][&cut=<id>][&tab=<tab>]`

A take names its shot, a shot its project, a project its workspace, so the
shortest link to a take is `/projects?take=<id>`; the parts an address
also gives must agree. Whatever this person cannot open (another workspace's
shot, a deleted shot, a made-up id) opens nothing of it: the page's default
view and one note that names nothing ("not found or no access").
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts import service as accounts
from studio.accounts.access import Actor
from studio.db.session import Database
from studio.errors import NotFound
from studio.projects import roughcut, takes
from studio.projects import service as projects
from studio.ui.actions import ui_action
from studio.ui.navigation import NAVIGATION

TABS = ("board", "list", "shot", "compare", "activity", "cut")
NO_ACCESS = (
    "Not found or no access: that link opens nothing you can see. Here is your project list."
)
MAX_ID = 2**31 - 1  # the columns' range; a larger number names nothing


@dataclass(frozen=True)
class Target:
    """What an address opens for this person (all None: the default view)."""

    workspace_id: int | None = None
    project_id: int | None = None
    shot_id: int | None = None
    take_id: int | None = None
    archived: bool = False  # the project is archived: list archived projects too
    tab: str = "board"
    message: str = ""


def _id(query: dict[str, str], key: str) -> int | None:
    text = str(query.get(key) or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise NotFound(NO_ACCESS)
    return int(text)


def _agree(given: int | None, found: int) -> int:
    if given is not None and given != found:
        raise NotFound(NO_ACCESS)  # e.g. a take id with another shot's id
    return found


def resolve(session: Session, actor: Actor, query: dict[str, str]) -> Target:
    """The workspace, project, shot and take an address names, each checked through
    the services for `actor`. Never raises NotFound: a part that cannot be opened
    gives the default target with NO_ACCESS."""
    try:
        take_id, shot_id = _id(query, "take"), _id(query, "shot")
        project_id, cut_id = _id(query, "project"), _id(query, "cut")
        if take_id is not None:
            shot_id = _agree(shot_id, takes.get_take(session, actor, take_id).shot_id)
        if shot_id is not None:
            project_id = _agree(project_id, projects.get_shot(session, actor, shot_id).project_id)
        if cut_id is not None:
            project_id = _agree(
                project_id, roughcut.get_rough_cut(session, actor, cut_id).project_id
            )
        slug = str(query.get("ws") or "").strip()
        workspace_id = (
            accounts.get_workspace_by_slug(session, actor, slug).workspace.id if slug else None
        )
        archived = False
        if project_id is not None:
            project = projects.get_project(session, actor, project_id)
            workspace_id = _agree(workspace_id, project.workspace_id)
            archived = project.archived_at is not None
    except NotFound:
        return Target(message=NO_ACCESS)
    wanted = str(query.get("tab") or "")
    tab = wanted if wanted in TABS else "cut" if cut_id else "shot" if shot_id else "board"
    return Target(workspace_id, project_id, shot_id, take_id, archived, tab)


def notice(text: str) -> str:
    return f'<div class="page-notice" role="status">{html.escape(text)}</div>' if text else ""


def make_route(
    db: Database,
    frame: Callable[..., tuple[Any, ...]],
    frame_outputs: Sequence[Any],
    tabs: gr.Tabs,
    note: gr.HTML,
    archived: gr.Checkbox,
    view: gr.Number,
) -> Callable[[dict[str, str], gr.Request], dict[Any, Any]]:
    """`route(query, request)`: the page's view of an address, as {component: value}.
    `frame(ws, project, shot, take, show_archived, request)` is the page's own
    refresh, whose values fill `frame_outputs` in order. `view` gets the number of
    the navigation (ui/navigation.py): the events this view sets off read it."""

    def route(query: dict[str, str], request: gr.Request) -> dict[Any, Any]:
        number = NAVIGATION.newest(request)  # the shell sends nothing older than it
        try:
            with ui_action(db, request) as (session, actor):
                target = resolve(session, actor, query if isinstance(query, dict) else {})
            values = frame(
                target.workspace_id,
                target.project_id,
                target.shot_id,
                target.take_id,
                target.archived,
                request,
            )
        except gr.Error as exc:
            return {note: notice(str(exc.message))}
        return {
            **dict(zip(frame_outputs, values, strict=True)),
            tabs: gr.Tabs(selected=target.tab),
            note: notice(target.message),
            archived: target.archived,
            view: number,
        }

    return route
