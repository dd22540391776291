"""Workspaces: my workspaces, create one, and manage members (owners/admins)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.accounts import audit
from studio.accounts import service as accounts
from studio.accounts.models import Role
from studio.db.session import Database
from studio.ui.actions import ui_action
from studio.ui.widgets import id_dropdown, optional_id, required_id

ROLE_CHOICES = [r.value for r in Role]
MANAGERS = {Role.OWNER, Role.ADMIN}
EMPTY = (
    "### No workspace yet\nA workspace holds a team's projects, shots and takes. "
    "Create one below, then add your team by email."
)


@dataclass
class WorkspacesPage:
    column: gr.Column
    picker: gr.Dropdown
    outputs: list[Any]
    refresh: Callable[..., tuple[Any, ...]]  # (workspace_id, request) -> outputs


def _workspace_choices(db: Database, request: gr.Request) -> list[tuple[str, int]]:
    with ui_action(db, request) as (session, actor):
        mine = accounts.list_my_workspaces(session, actor)
        return [(f"{m.workspace.name} · {m.role.value}", m.workspace.id) for m in mine]


def build(db: Database) -> WorkspacesPage:
    with gr.Column(visible=True, elem_id="page-workspaces") as column:
        gr.Markdown("## Workspaces")
        empty = gr.Markdown(EMPTY, visible=False, elem_classes=["empty-state"])
        with gr.Row():
            picker = id_dropdown("Workspace", scale=3, elem_id="ws-picker")
            summary = gr.Markdown(elem_id="ws-summary")
        members = gr.Dataframe(
            headers=["Email", "Name", "Role"],
            label="Members",
            interactive=False,
            wrap=True,
            elem_id="ws-members",
        )
        with gr.Group(visible=False) as manage:
            gr.Markdown("### Manage members")
            with gr.Row():
                add_email = gr.Textbox(label="Email", placeholder="name@studio.example", scale=3)
                add_role = gr.Dropdown(ROLE_CHOICES, value="editor", label="Role", scale=1)
                add_btn = gr.Button("Add member", variant="primary", scale=1)
            with gr.Row():
                who = id_dropdown("Member", scale=3)
                new_role = gr.Dropdown(ROLE_CHOICES, value=None, label="New role", scale=1)
                role_btn = gr.Button("Change role", scale=1)
                remove_btn = gr.Button("Remove…", variant="stop", scale=1)
            with gr.Row(visible=False) as confirm_row:
                confirm_text = gr.Markdown()
                confirm_btn = gr.Button("Yes, remove", variant="stop")
                cancel_btn = gr.Button("Cancel")
        activity = gr.Dataframe(
            headers=["When (UTC)", "What", "Target"], label="Recent activity", interactive=False
        )
        with gr.Accordion("Create a workspace", open=False) as create_box, gr.Row():
            new_name = gr.Textbox(label="Name", placeholder="Night Shift Films", scale=3)
            create_btn = gr.Button("Create workspace", variant="primary", scale=1)

    def show(picked: Any, request: gr.Request) -> tuple[Any, ...]:
        workspace_id = optional_id(picked, "workspace")
        choices = _workspace_choices(db, request)
        if workspace_id is None and choices:
            workspace_id = choices[0][1]
        if workspace_id is None:
            return (
                gr.update(choices=[], value=None, visible=False),
                gr.update(visible=True),
                "",
                [],
                gr.update(visible=False),
                gr.update(choices=[], value=None),
                [],
                gr.update(open=True),
            )
        with ui_action(db, request) as (session, actor):
            mine = accounts.get_workspace(session, actor, workspace_id)
            people = accounts.list_members(session, actor, workspace_id)
            events = audit.list_for_workspace(session, workspace_id, limit=20)
        ws = mine.workspace
        return (
            gr.update(choices=choices, value=workspace_id, visible=True),
            gr.update(visible=False),
            f"**{ws.name}** · `{ws.slug}` · you are **{mine.role.value}** · "
            f"{len(people)} member{'s' if len(people) != 1 else ''}",
            [[p.email, p.display_name, p.role.value] for p in people],
            gr.update(visible=mine.role in MANAGERS),
            gr.update(
                choices=[(f"{p.email} ({p.role.value})", p.user_id) for p in people], value=None
            ),
            [[e.at.strftime("%Y-%m-%d %H:%M"), e.action, e.target] for e in events],
            gr.update(open=False),
        )

    outputs = [picker, empty, summary, members, manage, who, activity, create_box]

    def create(name: str, request: gr.Request) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            workspace = accounts.create_workspace(session, actor, name=name)
            workspace_id = workspace.id
        gr.Info("Workspace created. You are its owner.")
        return ("", *show(workspace_id, request))

    def add(workspace_id: Any, email: str, role: str, request: gr.Request) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            member = accounts.add_member(
                session, actor, required_id(workspace_id, "workspace"), email=email, role=role
            )
        gr.Info(f"Added {member.email} as {member.role.value}.")
        return ("", *show(workspace_id, request))

    def set_role(
        workspace_id: Any, user_id: Any, role: str, request: gr.Request
    ) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            member = accounts.change_role(
                session,
                actor,
                required_id(workspace_id, "workspace"),
                user_id=required_id(user_id, "member"),
                role=role,
            )
        gr.Info(f"{member.email} is now {member.role.value}.")
        return show(workspace_id, request)

    def ask_remove(user_id: Any) -> tuple[Any, ...]:
        required_id(user_id, "member")
        return gr.update(visible=True), "Remove this member? They lose access at once."

    def remove(workspace_id: Any, user_id: Any, request: gr.Request) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            accounts.remove_member(
                session,
                actor,
                required_id(workspace_id, "workspace"),
                user_id=required_id(user_id, "member"),
            )
        gr.Info("Member removed.")
        return (gr.update(visible=False), *show(workspace_id, request))

    create_btn.click(create, [new_name], [new_name, *outputs], api_name="create_workspace")
    new_name.submit(create, [new_name], [new_name, *outputs], api_visibility="private")
    picker.input(show, [picker], outputs, api_name="show_workspace")
    add_btn.click(add, [picker, add_email, add_role], [add_email, *outputs], api_name="add_member")
    role_btn.click(set_role, [picker, who, new_role], outputs, api_name="change_role")
    remove_btn.click(ask_remove, [who], [confirm_row, confirm_text], api_visibility="private")
    cancel_btn.click(lambda: gr.update(visible=False), None, confirm_row, api_visibility="private")
    confirm_btn.click(remove, [picker, who], [confirm_row, *outputs], api_name="remove_member")

    return WorkspacesPage(column=column, picker=picker, outputs=outputs, refresh=show)
