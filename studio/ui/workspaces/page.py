"""Workspaces: the home a team starts its day on.

Its projects with posters, the newest takes, what needs review (shots in
review, finished takes nobody circled, comments that mention me) and the
activity of every project, each line a link (projects.home). Members and
their roles below, managed by owners and admins. Someone in no workspace
is told the first step: create one, or ask to be added (by their email).

Address: `/?ws=<slug>` (route). Every handler checks access
through the services; errors show beside the action that caused them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts import service as accounts
from studio.accounts.access import Actor
from studio.accounts.models import Role
from studio.db.session import Database
from studio.errors import NotFound
from studio.generation.context import Generation
from studio.projects import home
from studio.ui.actions import ui_action
from studio.ui.inline_errors import error_line, in_place
from studio.ui.media_urls import stable_signer
from studio.ui.notify import notify
from studio.ui.widgets import id_dropdown, required_id
from studio.ui.workspaces import render

STATIC_DIR = Path(__file__).resolve().parents[3] / "static"
# Copy-link buttons: see static/workspaces.js.
WORKSPACES_JS = (STATIC_DIR / "workspaces.js").read_text(encoding="utf-8")
ROLE_CHOICES = [r.value for r in Role]
MANAGERS = {Role.OWNER, Role.ADMIN}
NOT_YOURS = "That workspace does not exist or you are not a member of it: here is your first one."
# Put the shown workspace into the address bar (studio.js when the page has it).
ADDRESS_JS = """(ws, ...rest) => {
  if (ws) {
    const q = { view: "workspaces", ws: ws };
    const now = new URLSearchParams(location.search);
    if (now.get("ws") !== ws || now.get("view") !== "workspaces") {
      if (window.studioNav) { window.studioNav.push(q); }
      else { history.pushState(null, "", "/?" + new URLSearchParams(q)); }
    }
  }
  return [ws, ...rest];
}"""


@dataclass
class WorkspacesPage:
    column: gr.Column
    picker: gr.Dropdown
    outputs: list[Any]  # every component `route` and `refresh` may update
    route: Callable[[dict[str, str], gr.Request], dict[Any, Any]]
    # (workspace slug or None, request) -> the default view as a dict; typed loosely
    # for the current app shell, which still expects the old tuple.
    refresh: Callable[..., Any]


def build(
    db: Database, generation: Generation | None = None, media_secret: str | None = None
) -> WorkspacesPage:
    """`generation` and `media_secret` sign the posters' URLs; without them the
    home shows no posters."""
    url = (
        stable_signer(media_secret, generation.settings.media_url_ttl_seconds)
        if generation is not None and media_secret
        else None
    )
    with gr.Column(elem_id="page-workspaces") as column:
        gr.Markdown("## Workspaces")
        notice = gr.HTML("", elem_id="ws-notice", container=False, padding=False)
        first_step = gr.HTML("", visible=False, elem_id="ws-first-step")
        with gr.Row(equal_height=True):
            picker = gr.Dropdown(
                label="Workspace",
                choices=[],
                allow_custom_value=True,
                scale=2,
                min_width=280,
                elem_id="ws-picker",
            )
            with gr.Column(scale=3, min_width=360):
                summary = gr.HTML(elem_id="ws-summary", js_on_load=WORKSPACES_JS)
        home_html = gr.HTML(elem_id="ws-home")
        with gr.Accordion("Members", open=False, elem_id="ws-members-box") as members_box:
            members = gr.HTML(elem_id="ws-members")
            with gr.Group(visible=False, elem_id="ws-manage") as manage:
                with gr.Row(equal_height=True):
                    add_email = gr.Textbox(
                        label="Email",
                        placeholder="name@studio.example",
                        scale=3,
                        elem_id="ws-add-email",
                    )
                    add_role = gr.Dropdown(
                        ROLE_CHOICES, value="editor", label="Role", scale=1, elem_id="ws-add-role"
                    )
                    add_btn = gr.Button(
                        "Add member", variant="primary", scale=1, elem_id="ws-add-member"
                    )
                add_error = error_line("ws-add-error")
                with gr.Row(equal_height=True):
                    who = id_dropdown("Member", scale=3, elem_id="ws-member-pick")
                    new_role = gr.Dropdown(
                        ROLE_CHOICES, value=None, label="New role", scale=1, elem_id="ws-new-role"
                    )
                    role_btn = gr.Button("Change role", scale=1, elem_id="ws-change-role")
                    remove_btn = gr.Button(
                        "Remove…", variant="stop", scale=1, elem_id="ws-remove-member"
                    )
                with gr.Row(visible=False, elem_id="ws-confirm-remove") as confirm_row:
                    confirm_text = gr.Markdown()
                    confirm_btn = gr.Button("Yes, remove", variant="stop", elem_id="ws-confirm")
                    cancel_btn = gr.Button("Cancel", elem_id="ws-cancel-remove")
                member_error = error_line("ws-member-error")
        with gr.Accordion("Create a workspace", open=False, elem_id="ws-create-box") as create_box:
            with gr.Row(equal_height=True):
                new_name = gr.Textbox(
                    label="Name", placeholder="Night Shift Films", scale=3, elem_id="ws-new-name"
                )
                create_btn = gr.Button(
                    "Create workspace", variant="primary", scale=1, elem_id="ws-create"
                )
            create_error = error_line("ws-create-error")

    outputs = [
        notice,
        first_step,
        picker,
        summary,
        home_html,
        members_box,
        members,
        manage,
        who,
        create_box,
    ]

    def none_yet(actor: Actor, message: str = "") -> dict[Any, Any]:
        return {
            notice: render.notice(message),
            first_step: gr.update(value=render.first_step(actor.user.email), visible=True),
            picker: gr.update(choices=[], value=None, visible=False),
            summary: gr.update(value="", visible=False),
            home_html: gr.update(value="", visible=False),
            members_box: gr.update(visible=False),
            members: "",
            manage: gr.update(visible=False),
            who: gr.update(choices=[], value=None),
            create_box: gr.update(open=True, label="Create a workspace"),
        }

    def shown(
        session: Session, actor: Actor, mine: accounts.MyWorkspace, message: str = ""
    ) -> dict[Any, Any]:
        ws = mine.workspace
        choices = [
            (f"{m.workspace.name} · {m.role.value}", m.workspace.slug)
            for m in accounts.list_my_workspaces(session, actor)
        ]
        people = accounts.list_members(session, actor, ws.id)
        data = home.workspace_home(session, actor, ws.id)
        return {
            notice: render.notice(message),
            first_step: gr.update(value="", visible=False),
            picker: gr.update(choices=choices, value=ws.slug, visible=True),
            summary: gr.update(value=render.summary(mine, len(people)), visible=True),
            home_html: gr.update(value=render.home_page(data, ws.slug, url), visible=True),
            members_box: gr.update(visible=True, label=f"Members ({len(people)})"),
            members: render.members_table(people),
            manage: gr.update(visible=mine.role in MANAGERS),
            who: gr.update(
                choices=[(f"{p.email} ({p.role.value})", p.user_id) for p in people], value=None
            ),
            create_box: gr.update(open=False, label="Create another workspace"),
        }

    def view_for(session: Session, actor: Actor, slug: str | None) -> dict[Any, Any]:
        """The workspace `slug` names, else the first of mine (with a note when `slug`
        named one I cannot open), else the first step."""
        message = ""
        if slug:
            try:
                return shown(session, actor, accounts.get_workspace_by_slug(session, actor, slug))
            except NotFound:
                message = NOT_YOURS
        mine = accounts.list_my_workspaces(session, actor)
        if not mine:
            return none_yet(actor, message)
        return shown(session, actor, mine[0], message)

    def route(query: dict[str, str], request: gr.Request) -> dict[Any, Any]:
        slug = str(query.get("ws") or "").strip() if isinstance(query, dict) else ""
        try:
            with ui_action(db, request) as (session, actor):
                return view_for(session, actor, slug or None)
        except gr.Error as exc:
            return {notice: render.notice(str(exc.message))}

    def refresh(picked: Any, request: gr.Request) -> dict[Any, Any]:
        return route({"ws": str(picked)} if isinstance(picked, str) and picked else {}, request)

    def show(picked: Any, request: gr.Request) -> dict[Any, Any]:
        return refresh(picked, request)

    def workspace_id(session: Session, actor: Actor, picked: Any) -> int:
        if not isinstance(picked, str) or not picked.strip():
            raise gr.Error("Choose a workspace first.")
        return accounts.get_workspace_by_slug(session, actor, picked).workspace.id

    @in_place(create_error)
    def create(name: Any, request: gr.Request) -> dict[Any, Any]:
        with ui_action(db, request) as (session, actor):
            made = accounts.create_workspace(session, actor, name=str(name or ""))
            out = shown(session, actor, accounts.get_workspace(session, actor, made.id))
        notify("Workspace created. You are its owner: add your team under Members.")
        return {new_name: "", **out}

    @in_place(add_error)
    def add(picked: Any, email: Any, role: Any, request: gr.Request) -> dict[Any, Any]:
        with ui_action(db, request) as (session, actor):
            ws_id = workspace_id(session, actor, picked)
            member = accounts.add_member(
                session, actor, ws_id, email=str(email or ""), role=str(role or "")
            )
            added = f"Added {member.email} as {member.role.value}."
            out = shown(session, actor, accounts.get_workspace(session, actor, ws_id))
        notify(added)
        return {add_email: "", **out}

    @in_place(member_error)
    def set_role(picked: Any, user_id: Any, role: Any, request: gr.Request) -> dict[Any, Any]:
        member_id = required_id(user_id, "member")
        with ui_action(db, request) as (session, actor):
            ws_id = workspace_id(session, actor, picked)
            member = accounts.change_role(
                session, actor, ws_id, user_id=member_id, role=str(role or "")
            )
            changed = f"{member.email} is now {member.role.value}."
            out = shown(session, actor, accounts.get_workspace(session, actor, ws_id))
        notify(changed)
        return out

    @in_place(member_error)
    def ask_remove(user_id: Any) -> dict[Any, Any]:
        required_id(user_id, "member")
        return {
            confirm_row: gr.update(visible=True),
            confirm_text: "Remove this member? They lose access at once.",
        }

    @in_place(member_error)
    def remove(picked: Any, user_id: Any, request: gr.Request) -> dict[Any, Any]:
        member_id = required_id(user_id, "member")
        with ui_action(db, request) as (session, actor):
            ws_id = workspace_id(session, actor, picked)
            accounts.remove_member(session, actor, ws_id, user_id=member_id)
            out = shown(session, actor, accounts.get_workspace(session, actor, ws_id))
        notify("Member removed.")
        return {confirm_row: gr.update(visible=False), **out}

    quiet: dict[str, Any] = {"show_progress": "minimal"}
    create_btn.click(
        create,
        [new_name],
        [new_name, create_error, *outputs],
        api_name="create_workspace",
        **quiet,
    ).then(None, [picker], None, js=ADDRESS_JS)
    new_name.submit(
        create, [new_name], [new_name, create_error, *outputs], api_visibility="private", **quiet
    )
    picker.input(
        show, [picker], outputs, api_name="show_workspace", show_progress="hidden", js=ADDRESS_JS
    )
    add_btn.click(
        add,
        [picker, add_email, add_role],
        [add_email, add_error, *outputs],
        api_name="add_member",
        **quiet,
    )
    role_btn.click(
        set_role, [picker, who, new_role], [member_error, *outputs], api_name="change_role", **quiet
    )
    remove_btn.click(
        ask_remove,
        [who],
        [confirm_row, confirm_text, member_error],
        api_visibility="private",
        show_progress="hidden",
    )
    cancel_btn.click(
        lambda: gr.update(visible=False),
        None,
        confirm_row,
        api_visibility="private",
        show_progress="hidden",
    )
    confirm_btn.click(
        remove,
        [picker, who],
        [confirm_row, member_error, *outputs],
        api_name="remove_member",
        **quiet,
    )

    return WorkspacesPage(
        column=column, picker=picker, outputs=outputs, route=route, refresh=refresh
    )
