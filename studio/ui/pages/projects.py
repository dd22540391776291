"""Projects: a project's shot list and storyboard, a take per shot, a rough cut.

The first slice of issue 4's pages: create a project, add shots, generate
an animatic (or the default model's) take for a shot, circle takes, see
the storyboard, render the rough cut. Richer shot and review pages follow.
"""

import html
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.accounts import service as accounts
from studio.db.session import Database
from studio.generation import service as jobs
from studio.generation.context import Generation
from studio.media import signing
from studio.projects import roughcut, storyboard, takes
from studio.projects import service as projects
from studio.ui.actions import ui_action
from studio.ui.widgets import id_dropdown, optional_id, required_id

STATUS_CLASS = {
    "todo": "todo",
    "in_progress": "progress",
    "review": "review",
    "approved": "approved",
    "omitted": "omitted",
}


@dataclass
class ProjectsPage:
    column: gr.Column
    outputs: list[Any]
    refresh: Callable[..., tuple[Any, ...]]


def build(db: Database, generation: Generation, media_secret: str) -> ProjectsPage:
    ttl = generation.settings.media_url_ttl_seconds

    def url(asset_id: int) -> str:
        return signing.signed_path(asset_id, media_secret, now=time.time(), ttl_seconds=ttl)

    with gr.Column(visible=False, elem_id="page-projects") as column:
        gr.Markdown("## Projects")
        with gr.Row():
            workspace = id_dropdown("Workspace", scale=2, elem_id="proj-workspace")
            project = id_dropdown("Project", scale=3, elem_id="proj-project")
            new_title = gr.Textbox(label="New project", placeholder="The Lighthouse", scale=2)
            create_btn = gr.Button("Create project", variant="primary", scale=1)
        empty = gr.Markdown(
            "### No project yet\nCreate one, add shots, and generate a take for each.",
            visible=False,
            elem_classes=["empty-state"],
        )
        board = gr.HTML(elem_id="proj-storyboard")
        with gr.Row():
            shot_text = gr.Textbox(
                label="Add a shot", placeholder="Wide: the keeper climbs the stairs", scale=4
            )
            add_btn = gr.Button("Add shot", scale=1, elem_id="proj-add-shot")
        with gr.Row():
            shot_pick = id_dropdown("Shot", scale=3, elem_id="proj-shot")
            take_btn = gr.Button("Generate take", variant="primary", scale=1, elem_id="proj-take")
            circle_btn = gr.Button("Circle newest take", scale=1, elem_id="proj-circle")
        with gr.Row():
            cut_btn = gr.Button("Render rough cut", variant="primary", elem_id="proj-cut")
            cut_html = gr.HTML(elem_id="proj-cut-player")
        timer = gr.Timer(2.0)

    def refresh(picked_ws: Any, picked_project: Any, request: gr.Request) -> tuple[Any, ...]:
        workspace_id = optional_id(picked_ws, "workspace")
        project_id = optional_id(picked_project, "project")
        with ui_action(db, request) as (session, actor):
            mine = accounts.list_my_workspaces(session, actor)
            ws_choices = [(m.workspace.name, m.workspace.id) for m in mine]
            if workspace_id is None and ws_choices:
                workspace_id = ws_choices[0][1]
            listed = projects.list_projects(session, actor, workspace_id) if workspace_id else []
            choices = [(p.title, p.id) for p in listed]
            if project_id not in [p.id for p in listed]:
                project_id = choices[0][1] if choices else None
            cards = storyboard.storyboard(session, actor, project_id) if project_id else []
            cuts = roughcut.list_rough_cuts(session, actor, project_id) if project_id else []
            cut_view = jobs.get_job(session, actor, cuts[0].public_id) if cuts else None
        return (
            gr.update(choices=ws_choices, value=workspace_id),
            gr.update(choices=choices, value=project_id),
            gr.update(visible=project_id is None),
            _board_html(cards, url),
            gr.update(choices=[(f"{c.code} · {c.description[:40]}", c.shot_id) for c in cards]),
            _cut_html(cuts[0].cut.number if cuts else None, cut_view, url),
        )

    outputs = [workspace, project, empty, board, shot_pick, cut_html]

    def create(picked_ws: Any, title: str, request: gr.Request) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            made = projects.create_project(
                session, actor, workspace_id=required_id(picked_ws, "workspace"), title=title
            )
            project_id = made.id
        return ("", *refresh(picked_ws, project_id, request))

    def add(picked_ws: Any, picked_project: Any, text: str, request: gr.Request) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            projects.add_shot(
                session,
                actor,
                required_id(picked_project, "project"),
                projects.ShotFields(description=text),
            )
        return ("", *refresh(picked_ws, picked_project, request))

    def generate(
        picked_ws: Any, picked_project: Any, picked_shot: Any, request: gr.Request
    ) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            take = takes.generate_take(session, actor, required_id(picked_shot, "shot"), generation)
            number = take.number
        gr.Info(f"Take {number} queued.")
        return refresh(picked_ws, picked_project, request)

    def circle(
        picked_ws: Any, picked_project: Any, picked_shot: Any, request: gr.Request
    ) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            views = takes.list_takes(session, actor, required_id(picked_shot, "shot"))
            if not views:
                raise gr.Error("This shot has no take yet: generate one first.")
            takes.select_take(session, actor, views[0].take.id)
        return refresh(picked_ws, picked_project, request)

    def render(picked_ws: Any, picked_project: Any, request: gr.Request) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            cut = roughcut.request_rough_cut(
                session, actor, required_id(picked_project, "project"), generation
            )
            number = cut.number
        gr.Info(f"Rough cut v{number} queued.")
        return refresh(picked_ws, picked_project, request)

    create_btn.click(
        create, [workspace, new_title], [new_title, *outputs], api_name="create_project"
    )
    add_btn.click(add, [workspace, project, shot_text], [shot_text, *outputs], api_name="add_shot")
    take_btn.click(
        generate, [workspace, project, shot_pick], outputs, api_name="generate_shot_take"
    )
    circle_btn.click(
        circle, [workspace, project, shot_pick], outputs, api_name="circle_newest_take"
    )
    cut_btn.click(render, [workspace, project], outputs, api_name="render_rough_cut")
    workspace.input(refresh, [workspace, project], outputs, api_visibility="private")
    project.input(refresh, [workspace, project], outputs, api_visibility="private")
    timer.tick(
        refresh, [workspace, project], outputs, api_name="refresh_project", show_progress="hidden"
    )
    return ProjectsPage(column=column, outputs=outputs, refresh=refresh)


def _board_html(cards: list[storyboard.Card], url: Callable[[int], str]) -> str:
    if not cards:
        return '<div class="empty-state">No shots yet. Add the first shot below.</div>'
    items = []
    for card in cards:
        if card.poster_asset_id:
            picture = f'<img src="{url(card.poster_asset_id)}" alt="{card.code}">'
        elif card.reference_asset_id:
            picture = f'<img src="{url(card.reference_asset_id)}" alt="{card.code} reference">'
        else:
            waiting = card.latest_status in ("queued", "running")
            note = "generating…" if waiting else "no circled take yet"
            picture = f'<div class="no-media">{note}</div>'
        length = f"{card.target_duration:g} s" if card.target_duration else "—"
        take = f"take {card.selected_number}" if card.selected_number else f"{card.takes} takes"
        items.append(
            f'<figure class="take shot-card" data-shot="{card.shot_id}">{picture}<figcaption>'
            f'<span class="status {STATUS_CLASS.get(card.status, "todo")}">'
            f"{card.status.replace('_', ' ')}</span> <b>{card.code}</b> · {length} · {take}"
            f"<br><small>{html.escape(card.description[:100])}</small></figcaption></figure>"
        )
    return '<div class="takes storyboard">' + "".join(items) + "</div>"


def _cut_html(number: int | None, view: jobs.JobView | None, url: Callable[[int], str]) -> str:
    if number is None or view is None:
        return '<div class="empty-state">No rough cut yet: circle takes, then render.</div>'
    if view.output_asset_id:
        return (
            f'<div class="rough-cut"><b>Rough cut v{number}</b><br>'
            f'<video id="rough-cut-video" src="{url(view.output_asset_id)}" controls '
            'preload="metadata" style="max-width:100%"></video></div>'
        )
    state = view.error_message or f"{view.status.value} · {round(view.progress * 100)}%"
    return f'<div class="rough-cut"><b>Rough cut v{number}</b>: {html.escape(state)}</div>'
