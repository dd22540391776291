"""The Organize tab: the dashboard (teams, entries by state, judging progress,
votes cast) and the organizers' actions.

The kickoff draw, judge assignment and publication show a button only when
they apply now (jams.organizing.organizer_actions); otherwise the line says
why not and from when, before anyone clicks. Appointing judges, recording
conflicts, disqualifying and the CSV exports have their own forms, each with
its errors beside it. The jam settings and organizers are in setup.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.jams import entries, judging, organizing, results, service
from studio.ui.actions import ui_action
from studio.ui.inline_errors import error_line, in_place
from studio.ui.jams import render
from studio.ui.jams.scripts import JAMS_JS, confirm_js
from studio.ui.jams.state import Context, JamUI, required_slug
from studio.ui.notify import notify
from studio.ui.upload_guard import owned_download
from studio.ui.widgets import required_id

PUBLISH_QUESTION = (
    "Publish the results? Rankings, awards, votes and the gallery become public, "
    "and the jam can no longer change."
)


@dataclass
class OrganizeTab:
    dashboard: gr.HTML
    actions: gr.HTML
    draw: gr.Button
    assign: gr.Button
    publish: gr.Button
    actions_error: gr.HTML
    judge_email: gr.Textbox
    add_judge: gr.Button
    judge_error: gr.HTML
    judge_pick: gr.Dropdown
    team_pick: gr.Dropdown
    conflict_reason: gr.Textbox
    add_conflict: gr.Button
    conflict_error: gr.HTML
    entry_pick: gr.Dropdown
    dq_reason: gr.Textbox
    disqualify: gr.Button
    dq_error: gr.HTML
    export_kind: gr.Radio
    export: gr.Button
    export_file: gr.File
    export_error: gr.HTML


def build() -> OrganizeTab:
    gr.Markdown("#### What to do now")
    actions = gr.HTML(elem_id="org-actions", js_on_load=JAMS_JS)
    with gr.Row():
        draw = gr.Button(
            "Run the kickoff draw", size="sm", visible=False, elem_id="org-draw", scale=0
        )
        assign = gr.Button("Assign judges", size="sm", visible=False, elem_id="org-assign", scale=0)
        publish = gr.Button(
            "Publish results",
            size="sm",
            variant="primary",
            visible=False,
            elem_id="org-publish",
            scale=0,
        )
    actions_error = error_line("org-actions-error")
    dashboard = gr.HTML(elem_id="jam-dashboard")
    with gr.Accordion("Judges and conflicts", open=False, elem_id="org-judges"):
        with gr.Row(equal_height=True):
            judge_email = gr.Textbox(
                label="Appoint a judge (email)", scale=3, elem_id="org-judge-email"
            )
            add_judge = gr.Button("Appoint", scale=1, elem_id="org-add-judge")
        judge_error = error_line("org-judge-error")
        with gr.Row(equal_height=True):
            judge_pick = gr.Dropdown(
                label="Judge", choices=[], allow_custom_value=True, elem_id="org-judge-pick"
            )
            team_pick = gr.Dropdown(
                label="Team", choices=[], allow_custom_value=True, elem_id="org-team-pick"
            )
            conflict_reason = gr.Textbox(
                label="Conflict reason",
                placeholder="works with them",
                elem_id="org-conflict-reason",
            )
            add_conflict = gr.Button("Record conflict", elem_id="org-conflict")
        conflict_error = error_line("org-conflict-error")
    with gr.Accordion("Disqualify an entry", open=False):
        with gr.Row(equal_height=True):
            entry_pick = gr.Dropdown(
                label="Entry",
                choices=[],
                allow_custom_value=True,
                scale=2,
                elem_id="org-entry-pick",
            )
            dq_reason = gr.Textbox(
                label="Reason (the team sees it)", scale=3, elem_id="org-dq-reason"
            )
            disqualify = gr.Button("Disqualify", variant="stop", scale=1, elem_id="org-dq")
        dq_error = error_line("org-dq-error")
    with gr.Accordion("CSV exports", open=False):
        with gr.Row(equal_height=True):
            export_kind = gr.Radio(
                ["teams", "scores", "results"],
                value="results",
                label="Export",
                scale=2,
                elem_id="org-export-kind",
            )
            export = gr.Button("Export CSV", scale=1, elem_id="org-export")
            export_file = gr.File(
                label="CSV", interactive=False, scale=2, elem_id="org-export-file"
            )
        export_error = error_line("org-export-error")
    return OrganizeTab(
        dashboard=dashboard,
        actions=actions,
        draw=draw,
        assign=assign,
        publish=publish,
        actions_error=actions_error,
        judge_email=judge_email,
        add_judge=add_judge,
        judge_error=judge_error,
        judge_pick=judge_pick,
        team_pick=team_pick,
        conflict_reason=conflict_reason,
        add_conflict=add_conflict,
        conflict_error=conflict_error,
        entry_pick=entry_pick,
        dq_reason=dq_reason,
        disqualify=disqualify,
        dq_error=dq_error,
        export_kind=export_kind,
        export=export,
        export_file=export_file,
        export_error=export_error,
    )


def values(tab: OrganizeTab, session: Session, actor: Actor, ctx: Context) -> dict[Any, Any]:
    view = ctx.view
    none = gr.update(choices=[], value=None)
    hidden = gr.update(visible=False)
    if view is None or not view.is_organizer:
        return {
            tab.actions: render.empty("Only this jam's organizers see its dashboard."),
            tab.draw: hidden,
            tab.assign: hidden,
            tab.publish: hidden,
            tab.dashboard: "",
            tab.judge_pick: none,
            tab.team_pick: none,
            tab.entry_pick: none,
        }
    board = service.organizer_dashboard(session, actor, view.slug)
    actions = organizing.organizer_actions(session, actor, view.slug)
    available = {a.key for a in actions if a.available}
    judges = judging.list_judges(session, actor, view.slug)
    listed = entries.list_entries(session, actor, view.slug)
    return {
        tab.actions: render.organizer_actions(view, actions),
        tab.draw: gr.update(visible=organizing.DRAW in available),
        tab.assign: gr.update(visible=organizing.ASSIGN in available),
        tab.publish: gr.update(visible=organizing.PUBLISH in available),
        tab.dashboard: render.dashboard(board),
        tab.judge_pick: gr.update(
            choices=[(f"{j.display_name} <{j.email}>", j.judge_id) for j in judges]
        ),
        tab.team_pick: gr.update(choices=[(t.name, t.team_id) for t in board.teams]),
        tab.entry_pick: gr.update(
            choices=[(f"{e.title} — {e.team_name} ({e.status.value})", e.id) for e in listed],
            value=ctx.entry_id if ctx.entry_id in {e.id for e in listed} else None,
        ),
    }


def add_sections(ui: JamUI, tab: OrganizeTab) -> None:
    ui.add(
        "organize",
        [
            tab.actions,
            tab.draw,
            tab.assign,
            tab.publish,
            tab.dashboard,
            tab.judge_pick,
            tab.team_pick,
            tab.entry_pick,
        ],
        lambda session, actor, ctx: values(tab, session, actor, ctx),
    )


def wire(ui: JamUI, tab: OrganizeTab) -> None:
    # An organizer action moves what the jam page, the list and the results show.
    shown = ["organize", "team", "listing", "results"]
    after = ui.outputs(*shown)

    def refreshed(session: Session, actor: Actor, slug: str) -> dict[Any, Any]:
        return ui.values(session, actor, ui.context(session, actor, slug), *shown)

    @in_place(tab.actions_error)
    def draw(picked: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            service.draw_elements(session, actor, slug)
            out = refreshed(session, actor, slug)
        notify("Elements drawn: every team sees its draw now.")
        return out

    @in_place(tab.actions_error)
    def assign(picked: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            report = judging.assign_judges(session, actor, slug)
            out = refreshed(session, actor, slug)
        short = f"; {len(report.short)} entries lack judges" if report.short else ""
        notify(f"{report.created} assignments made{short}.")
        return out

    @in_place(tab.actions_error)
    def publish(picked: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            results.publish_results(session, actor, slug)
            out = refreshed(session, actor, slug)
        notify("Results published: the ranking, awards and gallery are public.")
        return out

    @in_place(tab.judge_error)
    def add_judge(picked: Any, email: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            judge = judging.add_judge(session, actor, slug, email=str(email or ""))
            name = judge.display_name
            out = refreshed(session, actor, slug)
        notify(f"{name} is a judge of this jam.")
        return {tab.judge_email: "", **out}

    @in_place(tab.conflict_error)
    def add_conflict(
        picked: Any, judge: Any, team: Any, reason: Any, request: gr.Request
    ) -> dict[Any, Any]:
        slug = required_slug(picked)
        judge_id, team_id = required_id(judge, "judge"), required_id(team, "team")
        with ui_action(ui.db, request) as (session, actor):
            judging.add_conflict(
                session, actor, slug, judge_id=judge_id, team_id=team_id, reason=str(reason or "")
            )
            out = refreshed(session, actor, slug)
        notify("Conflict recorded: that judge never sees this team's entry.")
        return {tab.conflict_reason: "", **out}

    @in_place(tab.dq_error)
    def disqualify(picked: Any, entry: Any, reason: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        entry_id = required_id(entry, "entry")
        with ui_action(ui.db, request) as (session, actor):
            entries.disqualify_entry(session, actor, slug, entry_id, reason=str(reason or ""))
            out = refreshed(session, actor, slug)
        notify("Entry disqualified; the team sees the reason.")
        return {tab.dq_reason: "", **out}

    @in_place(tab.export_error)
    def export(picked: Any, kind: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            text = results.export_csv(session, actor, slug, str(kind or ""))
        # A file the server names itself, readable by the caller alone.
        return {tab.export_file: owned_download(f"{slug}-{kind}.csv", text)}

    quiet: dict[str, Any] = {"show_progress_on": [tab.actions]}
    tab.draw.click(draw, [ui.picker], [tab.actions_error, *after], api_name="jam_draw", **quiet)
    tab.assign.click(
        assign, [ui.picker], [tab.actions_error, *after], api_name="jam_assign_judges", **quiet
    )
    tab.publish.click(
        publish,
        [ui.picker],
        [tab.actions_error, *after],
        api_name="jam_publish_results",
        show_progress="hidden",  # a cancelled confirm() would mark the outputs "Error"
        js=confirm_js(PUBLISH_QUESTION),
    )
    tab.add_judge.click(
        add_judge,
        [ui.picker, tab.judge_email],
        [tab.judge_email, tab.judge_error, *after],
        api_name="jam_add_judge",
        **quiet,
    )
    tab.add_conflict.click(
        add_conflict,
        [ui.picker, tab.judge_pick, tab.team_pick, tab.conflict_reason],
        [tab.conflict_reason, tab.conflict_error, *after],
        api_name="jam_add_conflict",
        **quiet,
    )
    tab.disqualify.click(
        disqualify,
        [ui.picker, tab.entry_pick, tab.dq_reason],
        [tab.dq_reason, tab.dq_error, *after],
        api_name="jam_disqualify",
        show_progress="hidden",
        js=confirm_js("Disqualify this entry? The team sees the reason."),
    )
    tab.export.click(
        export,
        [ui.picker, tab.export_kind],
        [tab.export_file, tab.export_error],
        api_name="jam_export_csv",
        show_progress_on=[tab.export_file],
    )
