"""The Organize tab: the dashboard (teams, entries by state, judging progress,
votes cast) and the organizers' actions: kickoff draw, appoint judges,
record conflicts, assign judges, disqualify with a reason, publish results,
CSV exports. The settings editor, organizers and jam creation are in
jams_setup. The services check the roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.jams import entries, judging, results, service
from studio.ui.actions import ui_action
from studio.ui.notify import notify
from studio.ui.pages import jams_html as render
from studio.ui.upload_guard import owned_download
from studio.ui.widgets import required_id

if TYPE_CHECKING:
    from studio.ui.pages.jams import Context, JamUI


@dataclass
class OrganizeTab:
    dashboard: gr.HTML
    draw: gr.Button
    assign: gr.Button
    publish: gr.Button
    judge_email: gr.Textbox
    add_judge: gr.Button
    judge_pick: gr.Dropdown
    team_pick: gr.Dropdown
    conflict_reason: gr.Textbox
    add_conflict: gr.Button
    entry_pick: gr.Dropdown
    dq_reason: gr.Textbox
    disqualify: gr.Button
    export_kind: gr.Radio
    export: gr.Button
    export_file: gr.File


def build_controls() -> OrganizeTab:
    dashboard = gr.HTML(elem_id="jam-dashboard")
    with gr.Row():
        draw = gr.Button("Run the kickoff draw", size="sm", elem_id="org-draw")
        assign = gr.Button("Assign judges", size="sm", elem_id="org-assign")
        publish = gr.Button("Publish results", size="sm", variant="primary", elem_id="org-publish")
    with gr.Accordion("Judges and conflicts", open=False, elem_id="org-judges"):
        with gr.Row(equal_height=True):
            judge_email = gr.Textbox(label="Appoint a judge (email)", scale=3)
            add_judge = gr.Button("Appoint", scale=1, elem_id="org-add-judge")
        with gr.Row(equal_height=True):
            judge_pick = gr.Dropdown(label="Judge", choices=[], allow_custom_value=True)
            team_pick = gr.Dropdown(label="Team", choices=[], allow_custom_value=True)
            conflict_reason = gr.Textbox(label="Conflict reason", placeholder="works with them")
            add_conflict = gr.Button("Record conflict", elem_id="org-conflict")
    with gr.Accordion("Disqualify an entry", open=False), gr.Row(equal_height=True):
        entry_pick = gr.Dropdown(label="Entry", choices=[], allow_custom_value=True, scale=2)
        dq_reason = gr.Textbox(label="Reason (the team sees it)", scale=3)
        disqualify = gr.Button("Disqualify", variant="stop", scale=1, elem_id="org-dq")
    with gr.Accordion("CSV exports", open=False), gr.Row(equal_height=True):
        export_kind = gr.Radio(
            ["teams", "scores", "results"], value="results", label="Export", scale=2
        )
        export = gr.Button("Export CSV", scale=1, elem_id="org-export")
        export_file = gr.File(label="CSV", interactive=False, scale=2)
    return OrganizeTab(
        dashboard,
        draw,
        assign,
        publish,
        judge_email,
        add_judge,
        judge_pick,
        team_pick,
        conflict_reason,
        add_conflict,
        entry_pick,
        dq_reason,
        disqualify,
        export_kind,
        export,
        export_file,
    )


def values(session: Session, actor: Actor, ctx: Context) -> tuple[Any, ...]:
    """Order: dashboard, judge picker, team picker, entry picker."""
    view = ctx.view
    none = gr.update(choices=[], value=None)
    if view is None or not view.is_organizer:
        text = (
            "Pick a jam to run it, or create one below."
            if actor.user.is_admin
            else "Only this jam's organizers see its dashboard."
        )
        return (render.empty(text), none, none, none)
    board = service.organizer_dashboard(session, actor, view.slug)
    judges = judging.list_judges(session, actor, view.slug)
    listed = entries.list_entries(session, actor, view.slug)
    return (
        render.dashboard(board),
        gr.update(choices=[(f"{j.display_name} <{j.email}>", j.judge_id) for j in judges]),
        gr.update(choices=[(t.name, t.team_id) for t in board.teams]),
        gr.update(
            choices=[(f"{e.title} — {e.team_name} ({e.status.value})", e.id) for e in listed]
        ),
    )


def wire(ui: JamUI, tab: OrganizeTab) -> None:
    from studio.ui.pages.jams import overview_values, required_slug, results_values

    ui.organize = [tab.dashboard, tab.judge_pick, tab.team_pick, tab.entry_pick]
    ui.organize_values = values
    after = [*ui.organize, *ui.overview[1:4], *ui.results]

    def refreshed(session: Session, actor: Actor, slug: str) -> tuple[Any, ...]:
        ctx = ui.context(session, actor, slug)
        return (
            *values(session, actor, ctx),
            *overview_values(ctx, actor)[1:4],
            *results_values(ui, session, actor, ctx),
        )

    def draw(picked: Any, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            service.draw_elements(session, actor, slug)
            out = refreshed(session, actor, slug)
        notify("Elements drawn: every team sees its draw now.")
        return out

    def assign(picked: Any, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            report = judging.assign_judges(session, actor, slug)
            out = refreshed(session, actor, slug)
        short = f"; {len(report.short)} entries lack judges" if report.short else ""
        notify(f"{report.created} assignments made{short}.")
        return out

    def publish(picked: Any, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            results.publish_results(session, actor, slug)
            out = refreshed(session, actor, slug)
        notify("Results published: the ranking, awards and gallery are public.")
        return out

    def add_judge(picked: Any, email: str, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            judge = judging.add_judge(session, actor, slug, email=email or "")
            name = judge.display_name
            out = refreshed(session, actor, slug)
        notify(f"{name} is a judge of this jam.")
        return ("", *out)

    def add_conflict(
        picked: Any, judge: Any, team: Any, reason: str, request: gr.Request
    ) -> tuple[Any, ...]:
        slug = required_slug(picked)
        judge_id, team_id = required_id(judge, "judge"), required_id(team, "team")
        with ui_action(ui.db, request) as (session, actor):
            judging.add_conflict(
                session, actor, slug, judge_id=judge_id, team_id=team_id, reason=reason or ""
            )
            out = refreshed(session, actor, slug)
        notify("Conflict recorded: that judge never sees this team's entry.")
        return ("", *out)

    def disqualify(picked: Any, entry: Any, reason: str, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        entry_id = required_id(entry, "entry")
        with ui_action(ui.db, request) as (session, actor):
            entries.disqualify_entry(session, actor, slug, entry_id, reason=reason or "")
            out = refreshed(session, actor, slug)
        notify("Entry disqualified; the team sees the reason.")
        return ("", *out)

    def export(picked: Any, kind: str, request: gr.Request) -> str:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            text = results.export_csv(session, actor, slug, kind or "")
        # A file the server names itself, readable by the caller alone.
        return owned_download(f"{slug}-{kind}.csv", text)

    tab.draw.click(draw, [ui.picker], after, api_name="jam_draw")
    tab.assign.click(assign, [ui.picker], after, api_name="jam_assign_judges")
    tab.publish.click(
        publish,
        [ui.picker],
        after,
        api_name="jam_publish_results",
        show_progress="hidden",  # a cancelled confirm() would mark the outputs "Error"
        js=render.confirm_js(
            "Publish the results? Rankings, awards, votes and the gallery "
            "become public, and the jam can no longer change."
        ),
    )
    tab.add_judge.click(
        add_judge, [ui.picker, tab.judge_email], [tab.judge_email, *after], api_name="jam_add_judge"
    )
    tab.add_conflict.click(
        add_conflict,
        [ui.picker, tab.judge_pick, tab.team_pick, tab.conflict_reason],
        [tab.conflict_reason, *after],
        api_name="jam_add_conflict",
    )
    tab.disqualify.click(
        disqualify,
        [ui.picker, tab.entry_pick, tab.dq_reason],
        [tab.dq_reason, *after],
        api_name="jam_disqualify",
        show_progress="hidden",
        js=render.confirm_js("Disqualify this entry? The team sees the reason."),
    )
    tab.export.click(
        export, [ui.picker, tab.export_kind], [tab.export_file], api_name="jam_export_csv"
    )
