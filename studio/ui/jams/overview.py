"""The Jam tab: the jam page (elements first after kickoff, countdown, brief,
schedule) and my team: register, invite by email, cancel an invitation,
accept or decline mine, leave. Errors show beside the action; the services
check who may do what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.jams import teams
from studio.ui.actions import ui_action
from studio.ui.inline_errors import error_line, in_place
from studio.ui.jams import render
from studio.ui.jams.scripts import JAMS_JS, confirm_js
from studio.ui.jams.state import Context, JamUI, required_slug
from studio.ui.notify import notify
from studio.ui.widgets import required_id

LEAVE_QUESTION = (
    "Leave this team? You lose access to its workspace and entry; the captain can "
    "invite you again while registration is open."
)
NO_JAM = "Pick a jam in the Jams tab (or from the list above)."


@dataclass
class JamTab:
    page: gr.HTML
    team: gr.HTML
    register_box: gr.Row
    team_name: gr.Textbox
    register: gr.Button
    register_error: gr.HTML
    invite_box: gr.Row
    invite_email: gr.Textbox
    invite: gr.Button
    leave: gr.Button
    pending_box: gr.Row
    pending_pick: gr.Dropdown
    cancel: gr.Button
    team_error: gr.HTML
    invites: gr.HTML
    invites_box: gr.Row
    my_invite_pick: gr.Dropdown
    accept: gr.Button
    decline: gr.Button
    invites_error: gr.HTML


def build() -> JamTab:
    page = gr.HTML(render.empty(NO_JAM), elem_id="jam-overview", js_on_load=JAMS_JS)
    gr.Markdown("#### My team")
    team = gr.HTML(elem_id="jam-team", js_on_load=JAMS_JS)
    with gr.Row(visible=False, equal_height=True, elem_id="jam-register-box") as register_box:
        team_name = gr.Textbox(
            label="Team name", placeholder="The Night Owls", scale=3, elem_id="jam-team-name"
        )
        register = gr.Button("Register team", variant="primary", scale=1, elem_id="jam-register")
    register_error = error_line("jam-register-error")
    with gr.Row(visible=False, equal_height=True, elem_id="jam-invite-box") as invite_box:
        invite_email = gr.Textbox(
            label="Invite a member by email",
            placeholder="they must have signed in to Studio once",
            scale=3,
            elem_id="jam-invite-email",
        )
        invite = gr.Button("Invite", scale=1, elem_id="jam-invite")
        leave = gr.Button("Leave team", variant="stop", size="sm", scale=0, elem_id="jam-leave")
    with gr.Row(visible=False, equal_height=True, elem_id="jam-pending-box") as pending_box:
        pending_pick = gr.Dropdown(
            label="Pending invitation",
            choices=[],
            allow_custom_value=True,
            scale=3,
            elem_id="jam-pending-pick",
        )
        cancel = gr.Button("Cancel invitation", scale=1, elem_id="jam-cancel-invite")
    team_error = error_line("jam-team-error")
    invites = gr.HTML(elem_id="jam-invites", js_on_load=JAMS_JS)
    with gr.Row(visible=False, equal_height=True, elem_id="jam-invites-box") as invites_box:
        my_invite_pick = gr.Dropdown(
            label="Invitation",
            choices=[],
            allow_custom_value=True,
            scale=3,
            elem_id="jam-invite-pick",
        )
        accept = gr.Button("Accept", variant="primary", scale=1, elem_id="jam-accept-invite")
        decline = gr.Button("Decline", scale=1, elem_id="jam-decline-invite")
    invites_error = error_line("jam-invites-error")
    return JamTab(
        page=page,
        team=team,
        register_box=register_box,
        team_name=team_name,
        register=register,
        register_error=register_error,
        invite_box=invite_box,
        invite_email=invite_email,
        invite=invite,
        leave=leave,
        pending_box=pending_box,
        pending_pick=pending_pick,
        cancel=cancel,
        team_error=team_error,
        invites=invites,
        invites_box=invites_box,
        my_invite_pick=my_invite_pick,
        accept=accept,
        decline=decline,
        invites_error=invites_error,
    )


def page_values(tab: JamTab, ctx: Context) -> dict[Any, Any]:
    """The jam page and my team (what the timer also refreshes)."""
    view, team = ctx.view, ctx.team
    return {
        tab.page: render.overview(view, team) if view else render.empty(NO_JAM),
        tab.team: render.team_panel(view, team) if view else "",
    }


def team_values(tab: JamTab, ctx: Context) -> dict[Any, Any]:
    """The jam page, my team and the invitations (mine, and my team's pending ones)."""
    view, team = ctx.view, ctx.team
    open_ = bool(view and view.registration_open)
    mine = ctx.invites if view else []
    pending = team.invites if team is not None else []
    return {
        **page_values(tab, ctx),
        tab.register_box: gr.update(visible=open_ and team is None),
        tab.invite_box: gr.update(visible=open_ and team is not None),
        tab.invites: render.my_invites(view, team, mine) if view else "",
        tab.invites_box: gr.update(visible=bool(mine)),
        tab.my_invite_pick: gr.update(
            choices=[(f"{i.team_name} (from {i.invited_by})", i.id) for i in mine],
            value=mine[0].id if mine else None,
        ),
        tab.pending_box: gr.update(visible=bool(pending) and open_),
        tab.pending_pick: gr.update(
            choices=[(i.email, i.id) for i in pending],
            value=pending[0].id if pending else None,
        ),
    }


def add_sections(ui: JamUI, tab: JamTab) -> None:
    ui.add(
        "team",
        [
            tab.page,
            tab.team,
            tab.register_box,
            tab.invite_box,
            tab.invites,
            tab.invites_box,
            tab.my_invite_pick,
            tab.pending_box,
            tab.pending_pick,
        ],
        lambda _session, _actor, ctx: team_values(tab, ctx),
    )


def wire(ui: JamUI, tab: JamTab) -> None:
    # Joining or leaving a team changes what every tab shows (Submit, the list...).
    everything = ui.outputs

    @in_place(tab.register_error)
    def register(picked: Any, name: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            made = teams.register_team(session, actor, slug, name=str(name or ""))
            team_name = made.name
            out = ui.values(session, actor, ui.context(session, actor, slug))
        notify(f"Team “{team_name}” registered: its workspace is ready in Projects.")
        return {tab.team_name: "", **out}

    @in_place(tab.team_error)
    def invite(picked: Any, email: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        address = str(email or "")
        with ui_action(ui.db, request) as (session, actor):
            teams.invite_member(session, actor, slug, email=address)
            out = ui.values(session, actor, ui.context(session, actor, slug), "team")
        notify(teams.invited_message(address))
        return {tab.invite_email: "", **out}

    @in_place(tab.team_error)
    def cancel_invite(picked: Any, invite: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        invite_id = required_id(invite, "pending invitation")
        with ui_action(ui.db, request) as (session, actor):
            teams.cancel_invite(session, actor, slug, invite_id)
            out = ui.values(session, actor, ui.context(session, actor, slug), "team")
        notify("Invitation cancelled.")
        return out

    @in_place(tab.invites_error)
    def accept_invite(picked: Any, invite: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        invite_id = required_id(invite, "invitation")
        with ui_action(ui.db, request) as (session, actor):
            joined = teams.accept_invite(session, actor, slug, invite_id).name
            out = ui.values(session, actor, ui.context(session, actor, slug))
        notify(f"You joined “{joined}”: its workspace is in Projects.")
        return out

    @in_place(tab.invites_error)
    def decline_invite(picked: Any, invite: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        invite_id = required_id(invite, "invitation")
        with ui_action(ui.db, request) as (session, actor):
            teams.decline_invite(session, actor, slug, invite_id)
            out = ui.values(session, actor, ui.context(session, actor, slug), "team")
        notify("Invitation declined.")
        return out

    @in_place(tab.team_error)
    def leave(picked: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            teams.leave_team(session, actor, slug)
            out = ui.values(session, actor, ui.context(session, actor, slug))
        notify("You left the team. You can join or register another while registration is open.")
        return out

    quiet: dict[str, Any] = {"show_progress": "minimal"}
    tab.register.click(
        register,
        [ui.picker, tab.team_name],
        [tab.team_name, tab.register_error, *everything()],
        api_name="register_team",
        **quiet,
    )
    team_outputs = ui.outputs("team")
    tab.invite.click(
        invite,
        [ui.picker, tab.invite_email],
        [tab.invite_email, tab.team_error, *team_outputs],
        api_name="invite_member",
        **quiet,
    )
    tab.cancel.click(
        cancel_invite,
        [ui.picker, tab.pending_pick],
        [tab.team_error, *team_outputs],
        api_name="cancel_invite",
        **quiet,
    )
    tab.accept.click(
        accept_invite,
        [ui.picker, tab.my_invite_pick],
        [tab.invites_error, *everything()],
        api_name="accept_invite",
        **quiet,
    )
    tab.decline.click(
        decline_invite,
        [ui.picker, tab.my_invite_pick],
        [tab.invites_error, *team_outputs],
        api_name="decline_invite",
        **quiet,
    )
    tab.leave.click(
        leave,
        [ui.picker],
        [tab.team_error, *everything()],
        api_name="leave_team",
        js=confirm_js(LEAVE_QUESTION),
        show_progress="hidden",  # a cancelled confirm() would mark the outputs "Error"
    )
