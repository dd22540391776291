"""Jams: the list, a jam's page (elements, countdown, brief, schedule, my
team), the submission form, the judge console, the organizer dashboard and
the results with the gallery and the audience vote.

This module holds the shell (jam picker, tabs, list, jam page, team,
results) and the shared `JamUI`; the Submit, Judge and Organize tabs live in
jams_entry, jams_judge, jams_organize and jams_setup, and HTML in jams_html.

The 15 s timer stays cheap: its `js=` (LIVE_JS) says whether the Jams page
is on screen, whether the list's next change (data-changes, server clock)
has come and how many jams the list shows. Hidden: nothing is read. Shown:
only the picked jam's live parts (service.get_jam, not the whole list), and
the list only when it is due or a jam appeared, and a fresh sample of the
server's clock (#jam-server-clock) that keeps every countdown on it.
Countdowns tick in the browser between renders (static/jams.js). (Gradio
does not tick a timer inside a hidden column; the gate covers a browser tab
in the background and any change there.)

Every handler re-checks who is asking through `ui_action` and the jam
services (any signed-in user can call any handler by its api_name); what a
tab shows is what the services return for that person, so drafts, other
teams and unassigned entries never reach the page of someone who may not
see them. Time-dependent answers come from the database clock (JamView.server_now).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.db.session import Database
from studio.errors import NotFound
from studio.generation.context import Generation
from studio.jams import results, service, teams, votes
from studio.jams.clock import db_clock
from studio.ui.actions import ui_action
from studio.ui.media_urls import stable_signer
from studio.ui.notify import notify
from studio.ui.pages import jams_html as render
from studio.ui.widgets import optional_id, required_id

STATIC_DIR = Path(__file__).resolve().parents[3] / "static"
# Countdowns, local times, row clicks and judge keys: see static/jams.js.
JAMS_JS = (STATIC_DIR / "jams.js").read_text(encoding="utf-8")
REFRESH_SECONDS = 15.0
LEAVE_QUESTION = (
    "Leave this team? You lose access to its workspace and entry; the captain can "
    "invite you again while registration is open."
)
NO_JAM = render.empty("Pick a jam in the <b>Jams</b> tab (or from the list above).")
# The timer's inputs, from the browser: (picked, shown, list_due, list_rows).
LIVE_JS = """(picked, shown, due, rows) => {
  const page = document.querySelector("#page-jams");
  shown = !document.hidden && !!page && page.offsetParent !== null;
  const holder = document.querySelector("#jam-list");
  const list = holder && holder.querySelector(".jam-list[data-changes]");
  const offset = (window.studioJamClock || {}).offset;
  const now = Date.now() + (Number.isFinite(offset) ? offset : 0);
  due = !!list && Number(list.dataset.changes) <= now;
  rows = holder ? holder.querySelectorAll("tr[data-jam]").length : null;
  return [picked, shown, due, rows];
}"""


@dataclass
class Context:
    """One person's view of the jams, read once per event."""

    views: list[service.JamView]
    view: service.JamView | None
    team: teams.TeamView | None
    invites: list[teams.InviteView] = field(default_factory=list)  # mine, pending


@dataclass
class JamUI:
    db: Database
    generation: Generation
    url: Callable[[int], str]
    picker: gr.Dropdown
    tabs: gr.Tabs
    # Filled in while the tabs are built; each section's outputs, in order.
    overview: list[Any] = field(default_factory=list)
    entry_live: list[Any] = field(default_factory=list)
    entry_form: list[Any] = field(default_factory=list)
    judge: list[Any] = field(default_factory=list)
    organize: list[Any] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    setup: list[Any] = field(default_factory=list)
    invites: list[Any] = field(default_factory=list)  # last, so earlier positions stay
    # (session, actor, ctx) -> values, per section (set by the tab modules).
    entry_live_values: Callable[..., tuple[Any, ...]] | None = None
    entry_form_values: Callable[..., tuple[Any, ...]] | None = None
    judge_values: Callable[..., tuple[Any, ...]] | None = None
    organize_values: Callable[..., tuple[Any, ...]] | None = None
    setup_values: Callable[..., tuple[Any, ...]] | None = None

    def context(self, session: Session, actor: Actor, slug: str | None) -> Context:
        views = service.list_jams(session, actor)
        view = next((v for v in views if v.slug == slug), None) if slug else None
        team = teams.get_my_team(session, actor, view.slug) if view and view.my_team_id else None
        invites = teams.my_invites(session, actor, view.slug) if view else []
        return Context(views, view, team, invites)

    def jam_context(self, session: Session, actor: Actor, slug: str) -> Context:
        """One jam only (the timer): `views` holds just that jam."""
        try:
            view = service.get_jam(session, actor, slug)
        except NotFound:
            return Context([], None, None)
        team = teams.get_my_team(session, actor, view.slug) if view.my_team_id else None
        return Context([view], view, team)

    def everything(self, session: Session, actor: Actor, ctx: Context) -> tuple[Any, ...]:
        assert self.entry_live_values and self.entry_form_values
        assert self.judge_values and self.organize_values and self.setup_values
        return (
            *overview_values(ctx, actor),
            *self.entry_live_values(session, actor, ctx),
            *self.entry_form_values(session, actor, ctx),
            *self.judge_values(session, actor, ctx, None),
            *self.organize_values(session, actor, ctx),
            *results_values(self, session, actor, ctx),
            *self.setup_values(session, actor, ctx),
            *invites_values(ctx),
        )

    @property
    def all_outputs(self) -> list[Any]:
        return [
            *self.overview,
            *self.entry_live,
            *self.entry_form,
            *self.judge,
            *self.organize,
            *self.results,
            *self.setup,
            *self.invites,
        ]


@dataclass
class JamsPage:
    column: gr.Column
    outputs: list[Any]
    refresh: Callable[..., tuple[Any, ...]]


def slug_of(value: Any) -> str | None:
    """The jam picker's value (a slug); the services check it exists."""
    if value is None or value == "" or value == []:
        return None
    if not isinstance(value, str):
        raise gr.Error("Choose a jam from the list.")
    return value.strip().lower() or None


def required_slug(value: Any) -> str:
    slug = slug_of(value)
    if slug is None:
        raise gr.Error("Choose a jam first.")
    return slug


def overview_values(ctx: Context, actor: Actor) -> tuple[Any, ...]:
    """Order matches JamUI.overview."""
    view, team = ctx.view, ctx.team
    choices = [(v.title, v.slug) for v in ctx.views]
    return (
        gr.update(choices=choices, value=view.slug if view else None),
        render.jam_list(ctx.views),
        render.overview(view, team) if view else NO_JAM,
        render.team_panel(view, team) if view else "",
        gr.update(visible=bool(view and view.registration_open and team is None)),
        gr.update(visible=bool(view and view.registration_open and team is not None)),
        gr.update(visible=team is not None),  # Submit tab
        gr.update(visible=bool(view and view.is_judge)),  # Judge tab
        gr.update(visible=bool(actor.user.is_admin or (view and view.is_organizer))),  # Organize
        gr.update(visible=bool(view and (view.audience_vote or view.results_published))),
    )


def invites_values(ctx: Context) -> tuple[Any, ...]:
    """Order matches JamUI.invites: my invitations (html, box, picker), the
    team's pending invitations (box, picker)."""
    view, team, mine = ctx.view, ctx.team, ctx.invites if ctx.view else []
    pending = team.invites if team is not None else []
    return (
        render.my_invites(view, team, mine) if view else "",
        gr.update(visible=bool(mine)),
        gr.update(
            choices=[(f"{i.team_name} (from {i.invited_by})", i.id) for i in mine],
            value=mine[0].id if mine else None,
        ),
        gr.update(visible=bool(pending and view and view.registration_open)),
        gr.update(
            choices=[(i.email, i.id) for i in pending], value=pending[0].id if pending else None
        ),
    )


def results_values(ui: JamUI, session: Session, actor: Actor, ctx: Context) -> tuple[Any, ...]:
    """Order matches JamUI.results: results, gallery, ballot, vote picker."""
    view = ctx.view
    if view is None:
        return (NO_JAM, "", "", gr.update(choices=[], value=None))
    if view.results_published:
        published = results.get_results(session, actor, view.slug)
        board = render.results_page(published, view.rubric, ui.url, view.timezone)
        films = render.gallery(results.gallery(session, actor, view.slug), published.awards, ui.url)
    else:
        planned = render.when(view.schedule["results_at"], view.timezone)
        board = render.empty(f"Results are published after judging closes ({planned} is planned).")
        films = ""
    ballot = None
    if view.audience_vote:
        ballot = votes.get_ballot(session, actor, view.slug)
    choices = [
        (f"{e.title} — {e.team_name}", e.entry_id)
        for e in (ballot.entries if ballot and ballot.open else [])
        if not e.own_team
    ]
    return (
        board,
        films,
        render.ballot(ballot, view),
        gr.update(choices=choices, value=ballot.my_vote if ballot else None),
    )


def build(db: Database, generation: Generation, media_secret: str) -> JamsPage:
    from studio.ui.pages import jams_entry, jams_judge, jams_organize, jams_setup

    url = stable_signer(media_secret, generation.settings.media_url_ttl_seconds)
    with gr.Column(visible=False, elem_id="page-jams") as column:
        with gr.Row(equal_height=True):
            picker = gr.Dropdown(
                label="Jam",
                choices=[],
                allow_custom_value=True,
                scale=4,
                elem_id="jam-pick",
            )
            refresh_btn = gr.Button("Refresh", size="sm", scale=0, min_width=90)
        with gr.Tabs(elem_id="jam-tabs") as tabs:
            with gr.Tab("Jams", id="list", elem_id="tab-jam-list"):
                listing = gr.HTML(elem_id="jam-list", js_on_load=JAMS_JS)
            with gr.Tab("Jam", id="jam", elem_id="tab-jam"):
                page_html = gr.HTML(NO_JAM, elem_id="jam-overview", js_on_load=JAMS_JS)
                gr.Markdown("#### My team")
                team_html = gr.HTML(elem_id="jam-team")
                with gr.Row(visible=False, equal_height=True) as register_box:
                    team_name = gr.Textbox(label="Team name", placeholder="The Night Owls", scale=3)
                    register_btn = gr.Button(
                        "Register team", variant="primary", scale=1, elem_id="jam-register"
                    )
                with gr.Row(visible=False, equal_height=True) as invite_box:
                    invite_email = gr.Textbox(
                        label="Invite a member by email",
                        placeholder="they must have signed in to Studio once",
                        scale=3,
                    )
                    invite_btn = gr.Button("Invite", scale=1, elem_id="jam-invite")
                    leave_btn = gr.Button(
                        "Leave team", variant="stop", size="sm", scale=0, elem_id="jam-leave"
                    )
                with gr.Row(visible=False, equal_height=True) as pending_box:
                    pending_pick = gr.Dropdown(
                        label="Pending invitation",
                        choices=[],
                        allow_custom_value=True,
                        scale=3,
                        elem_id="jam-pending-pick",
                    )
                    cancel_btn = gr.Button(
                        "Cancel invitation", scale=1, elem_id="jam-cancel-invite"
                    )
                invites_html = gr.HTML(elem_id="jam-invites")
                with gr.Row(visible=False, equal_height=True) as invites_box:
                    my_invite_pick = gr.Dropdown(
                        label="Invitation",
                        choices=[],
                        allow_custom_value=True,
                        scale=3,
                        elem_id="jam-invite-pick",
                    )
                    accept_btn = gr.Button(
                        "Accept", variant="primary", scale=1, elem_id="jam-accept-invite"
                    )
                    decline_btn = gr.Button("Decline", scale=1, elem_id="jam-decline-invite")
            with gr.Tab("Submit", id="submit", elem_id="tab-jam-submit", visible=False) as sub_tab:
                entry_tab = jams_entry.build_controls()
            with gr.Tab("Judge", id="judge", elem_id="tab-jam-judge", visible=False) as judge_tab:
                judge_controls = jams_judge.build_controls(JAMS_JS)
            with gr.Tab(
                "Organize", id="organize", elem_id="tab-jam-organize", visible=False
            ) as org_tab:
                org_controls = jams_organize.build_controls()
                setup_controls = jams_setup.build_controls()
            with gr.Tab(
                "Results", id="results", elem_id="tab-jam-results", visible=False
            ) as results_tab:
                results_html = gr.HTML(elem_id="jam-results", js_on_load=JAMS_JS)
                gr.Markdown("#### Gallery")
                gallery_html = gr.HTML(elem_id="jam-gallery")
                gr.Markdown("#### Audience vote")
                ballot_html = gr.HTML(elem_id="jam-ballot", js_on_load=JAMS_JS)
                with gr.Row(equal_height=True):
                    vote_pick = gr.Dropdown(
                        label="Your favourite film",
                        choices=[],
                        allow_custom_value=True,
                        scale=3,
                        elem_id="jam-vote-pick",
                    )
                    vote_btn = gr.Button("Vote", scale=1, elem_id="jam-vote")
        timer = gr.Timer(REFRESH_SECONDS)
        server_clock = gr.HTML(
            "", elem_id="jam-server-clock", js_on_load=JAMS_JS, container=False, padding=False
        )
        # Set by LIVE_JS for each tick (never shown).
        live_shown = gr.Checkbox(value=True, visible=False)
        live_list_due = gr.Checkbox(value=False, visible=False)
        live_list_rows = gr.Number(value=None, visible=False, precision=0)

    ui = JamUI(db=db, generation=generation, url=url, picker=picker, tabs=tabs)
    ui.overview = [
        picker,
        listing,
        page_html,
        team_html,
        register_box,
        invite_box,
        sub_tab,
        judge_tab,
        org_tab,
        results_tab,
    ]
    ui.results = [results_html, gallery_html, ballot_html, vote_pick]
    ui.invites = [invites_html, invites_box, my_invite_pick, pending_box, pending_pick]
    jams_entry.wire(ui, entry_tab)
    jams_judge.wire(ui, judge_controls)
    jams_organize.wire(ui, org_controls)
    jams_setup.wire(ui, setup_controls)

    def frame(picked: Any, request: gr.Request) -> tuple[Any, ...]:
        slug = slug_of(picked)
        with ui_action(db, request) as (session, actor):
            return ui.everything(session, actor, ui.context(session, actor, slug))

    def open_jam(picked: Any, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        with ui_action(db, request) as (session, actor):
            ctx = ui.context(session, actor, slug)
            if ctx.view is None:
                raise NotFound("No such jam.")
            out = ui.everything(session, actor, ctx)
        return (gr.Tabs(selected="jam"), *out)

    def clicked(event: gr.EventData, request: gr.Request) -> tuple[Any, ...]:
        slug = str(event._data.get("jam", "")) if event._data else ""
        return open_jam(slug, request)

    def live(
        picked: Any, shown: Any, list_due: Any, list_rows: Any, request: gr.Request
    ) -> tuple[Any, ...]:
        """The timer: countdown-bearing parts only (never the form someone is typing
        in), and only what is on screen and may have changed (see LIVE_JS)."""
        slug = slug_of(picked)
        skip = gr.skip()
        with ui_action(db, request) as (session, actor):
            if not shown:
                return (skip,) * (4 + len(ui.entry_live))
            clock_sample = render.server_clock(db_clock(session))
            listing = skip
            # How many jams the browser's list shows (None: no list on screen).
            rows = list_rows if type(list_rows) is int else None
            if list_due or (rows is not None and rows != service.count_jams(session)):
                listing = render.jam_list(service.list_jams(session, actor))
            if slug is None:
                return (listing, skip, skip, *[skip] * len(ui.entry_live), clock_sample)
            ctx = ui.jam_context(session, actor, slug)
            assert ui.entry_live_values is not None
            view, team = ctx.view, ctx.team
            return (
                listing,
                render.overview(view, team) if view else NO_JAM,
                render.team_panel(view, team) if view else "",
                *ui.entry_live_values(session, actor, ctx),
                clock_sample,
            )

    def register(picked: Any, name: str, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        with ui_action(db, request) as (session, actor):
            made = teams.register_team(session, actor, slug, name=name or "")
            team_name = made.name
            out = ui.everything(session, actor, ui.context(session, actor, slug))
        notify(f"Team “{team_name}” registered: its workspace is ready in Projects.")
        return ("", *out)

    def team_values(session: Session, actor: Actor, slug: str) -> tuple[Any, ...]:
        """Order matches [*ui.overview, *ui.invites]."""
        ctx = ui.context(session, actor, slug)
        return (*overview_values(ctx, actor), *invites_values(ctx))

    def invite(picked: Any, email: str, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        with ui_action(db, request) as (session, actor):
            teams.invite_member(session, actor, slug, email=email or "")
            out = team_values(session, actor, slug)
        notify(teams.invited_message(email or ""))
        return ("", *out)

    def cancel_invite(picked: Any, invite: Any, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        invite_id = required_id(invite, "pending invitation")
        with ui_action(db, request) as (session, actor):
            teams.cancel_invite(session, actor, slug, invite_id)
            out = team_values(session, actor, slug)
        notify("Invitation cancelled.")
        return out

    def accept_invite(picked: Any, invite: Any, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        invite_id = required_id(invite, "invitation")
        with ui_action(db, request) as (session, actor):
            joined = teams.accept_invite(session, actor, slug, invite_id).name
            out = ui.everything(session, actor, ui.context(session, actor, slug))
        notify(f"You joined “{joined}”: its workspace is in Projects.")
        return out

    def decline_invite(picked: Any, invite: Any, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        invite_id = required_id(invite, "invitation")
        with ui_action(db, request) as (session, actor):
            teams.decline_invite(session, actor, slug, invite_id)
            out = team_values(session, actor, slug)
        notify("Invitation declined.")
        return out

    def leave(picked: Any, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        with ui_action(db, request) as (session, actor):
            teams.leave_team(session, actor, slug)
            out = ui.everything(session, actor, ui.context(session, actor, slug))
        notify("You left the team. You can join or register another while registration is open.")
        return out

    def vote(picked: Any, entry: Any, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        entry_id = optional_id(entry, "film")
        if entry_id is None:
            raise gr.Error("Choose a film to vote for.")
        with ui_action(db, request) as (session, actor):
            votes.cast_vote(session, actor, slug, entry_id)
            out = results_values(ui, session, actor, ui.context(session, actor, slug))
        notify("Vote recorded. You can move it until voting closes.")
        return out

    picker.input(
        open_jam, [picker], [tabs, *ui.all_outputs], api_name="open_jam", show_progress="hidden"
    )
    listing.click(clicked, None, [tabs, *ui.all_outputs], api_visibility="private")
    refresh_btn.click(frame, [picker], ui.all_outputs, api_name="refresh_jams")
    timer.tick(
        live,
        [picker, live_shown, live_list_due, live_list_rows],
        [*ui.overview[1:4], *ui.entry_live, server_clock],
        api_name="tick_jam",
        show_progress="hidden",
        js=LIVE_JS,
    )
    register_btn.click(
        register, [picker, team_name], [team_name, *ui.all_outputs], api_name="register_team"
    )
    team_outputs = [*ui.overview, *ui.invites]
    invite_btn.click(
        invite, [picker, invite_email], [invite_email, *team_outputs], api_name="invite_member"
    )
    cancel_btn.click(cancel_invite, [picker, pending_pick], team_outputs, api_name="cancel_invite")
    accept_btn.click(
        accept_invite, [picker, my_invite_pick], ui.all_outputs, api_name="accept_invite"
    )
    decline_btn.click(
        decline_invite, [picker, my_invite_pick], team_outputs, api_name="decline_invite"
    )
    leave_btn.click(
        leave,
        [picker],
        ui.all_outputs,
        api_name="leave_team",
        js=render.confirm_js(LEAVE_QUESTION),
        show_progress="hidden",  # a cancelled confirm() would mark the outputs "Error"
    )
    vote_btn.click(vote, [picker, vote_pick], ui.results, api_name="cast_vote")

    def first(request: gr.Request) -> tuple[Any, ...]:
        return frame(None, request)

    return JamsPage(column=column, outputs=ui.all_outputs, refresh=first)
