"""Projects: from a shot list to a rough cut.

The page is a project header (workspace, project, new/archive) over six
tabs: Storyboard, Shot list, Shot, Compare, Activity and Rough cut. This
module holds the shell, the shared selection (workspace, project, shot,
take) and the live refresh; each tab's controls live in its own module
(shot_list, shot, compare) and register their handlers against the shared
`ProjectUI`.

Every handler re-checks who is asking through `ui_action` and the services:
any signed-in user can call any handler by its api_name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.accounts import service as accounts
from studio.db.session import Database
from studio.generation.context import Generation
from studio.projects import roughcut, sounds
from studio.projects import service as projects
from studio.projects.service import RATIO_CHOICES
from studio.ui import addresses
from studio.ui.actions import ui_action
from studio.ui.media_urls import stable_signer
from studio.ui.notify import notify
from studio.ui.pages import project_address, project_live
from studio.ui.pages.project_live import (
    OPEN_SHOT_JS,
    POLL_CONCURRENCY,
    ProjectUI,
    live_values,
    md,
    take_choices,
)
from studio.ui.widgets import id_dropdown, optional_id, required_id, uploaded_file

__all__ = [
    "OPEN_SHOT_JS",
    "ProjectUI",
    "ProjectsPage",
    "build",
    "live_values",
    "md",
    "take_choices",
]

FPS_CHOICES = [12, 16, 24, 25, 30, 48, 50, 60]


@dataclass
class ProjectsPage:
    column: gr.Column
    outputs: list[Any]  # every component `route` may update
    route: Callable[[dict[str, str], gr.Request], dict[Any, Any]]  # see project_address


def build(db: Database, generation: Generation, media_secret: str) -> ProjectsPage:
    from studio.ui.pages import compare, shot, shot_list  # tab modules import this one

    url = stable_signer(media_secret, generation.settings.media_url_ttl_seconds)
    with gr.Column(elem_id="page-projects") as column:
        note = gr.HTML("", elem_id="proj-notice", container=False, padding=False)
        with gr.Row(equal_height=True):
            workspace = id_dropdown("Workspace", scale=2, elem_id="proj-workspace")
            project = id_dropdown("Project", scale=3, elem_id="proj-project")
            archived = gr.Checkbox(
                label="Show archived", value=False, scale=1, min_width=120, elem_id="proj-archived"
            )
        with gr.Row(equal_height=True):
            info = gr.HTML(elem_id="proj-info", container=False, padding=False)
            archive_btn = gr.Button(
                "Archive project", size="sm", scale=0, min_width=140, elem_id="proj-archive"
            )
            restore_btn = gr.Button(
                "Restore project",
                size="sm",
                scale=0,
                min_width=140,
                visible=False,
                elem_id="proj-restore",
            )
        with gr.Accordion("New project", open=False, elem_id="proj-new") as new_box:
            with gr.Row():
                new_title = gr.Textbox(label="Title", placeholder="The Lighthouse", scale=2)
                new_logline = gr.Textbox(
                    label="Logline", placeholder="A keeper's last night on the rock", scale=3
                )
                new_ratio = gr.Dropdown(
                    label="Ratio", choices=list(RATIO_CHOICES), value="1280:720", scale=1
                )
                new_fps = gr.Dropdown(label="FPS", choices=FPS_CHOICES, value=24, scale=1)
            create_btn = gr.Button("Create project", variant="primary", elem_id="proj-create")
        empty = gr.Markdown(
            "### No project yet\nOpen **New project** above: give it a title, then add "
            "shots and generate a take for each.",
            visible=False,
            elem_classes=["empty-state"],
        )
        with gr.Tabs(elem_id="proj-tabs") as tabs:
            with gr.Tab("Storyboard", id="board", elem_id="tab-board"):
                board = gr.HTML(elem_id="proj-storyboard", js_on_load=OPEN_SHOT_JS)
            with gr.Tab("Shot list", id="list", elem_id="tab-list"):
                list_tab = shot_list.build_controls()
            with gr.Tab("Shot", id="shot", elem_id="tab-shot"):
                shot_tab = shot.build_controls(generation)
            with gr.Tab("Compare", id="compare", elem_id="tab-compare") as compare_tab_button:
                compare_tab = compare.build_controls()
            with gr.Tab("Activity", id="activity", elem_id="tab-activity"):
                feed = gr.HTML(elem_id="proj-activity")
            with gr.Tab("Rough cut", id="cut", elem_id="tab-cut"):
                with gr.Row():
                    title_card = gr.Checkbox(label="Title card", value=False)
                    overlay = gr.Checkbox(label="Shot codes burned in", value=False)
                    missing = gr.Radio(
                        label="Shots without a circled take",
                        choices=[("Refuse and name them", "refuse"), ("Slate card", "slate")],
                        value="refuse",
                        elem_id="proj-cut-missing",
                    )
                    cut_btn = gr.Button("Render rough cut", variant="primary", elem_id="proj-cut")
                with gr.Row():
                    music_in = gr.File(
                        label="Music or voice under the whole cut (optional)",
                        file_types=["audio"],
                        type="filepath",
                        elem_id="proj-cut-music",
                    )
                    music_level = gr.Slider(
                        0, 100, value=25, step=1, label="Its level (%)", elem_id="proj-cut-level"
                    )
                gr.Markdown(
                    "The circled take of each shot, in shot-list order. Matching takes are "
                    "joined without re-encoding; mixed sizes or frame rates are normalized "
                    "to the first take's.",
                    elem_classes=["hint"],
                )
                cut_html = gr.HTML(elem_id="proj-cut-player")
        # The number of the navigation that opened this view (see ProjectUI.view).
        view = gr.Number(visible=False, elem_id="proj-view")
        # The poll (project_live): asks the server every 2 s, renders on a change.
        poll = gr.HTML(
            "",
            elem_id="proj-poll",
            js_on_load=project_live.POLL_JS,
            container=False,
            padding=False,
        )

    ui = ProjectUI(
        db=db,
        generation=generation,
        url=url,
        workspace=workspace,
        project=project,
        shot=shot_tab.shot,
        take=shot_tab.take,
        tabs=tabs,
        view=view,
    )
    ui.live = [
        info,
        board,
        list_tab.table,
        shot_tab.grid,
        shot_tab.take,
        shot_tab.comments,
        feed,
        cut_html,
        shot_tab.tools,
        poll,
    ]

    def frame(
        picked_ws: Any,
        picked_project: Any,
        picked_shot: Any,
        picked_take: Any,
        show_archived: bool,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        """Everything: the pickers' choices, the project header, and the live parts."""
        workspace_id = optional_id(picked_ws, "workspace")
        project_id = optional_id(picked_project, "project")
        shot_id = optional_id(picked_shot, "shot")
        with ui_action(db, request) as (session, actor):
            mine = accounts.list_my_workspaces(session, actor)
            ws_choices = [(m.workspace.name, m.workspace.id) for m in mine]
            if workspace_id not in [c[1] for c in ws_choices]:
                workspace_id = ws_choices[0][1] if ws_choices else None
            listed = projects.list_projects(session, actor, workspace_id) if workspace_id else []
            if show_archived and workspace_id:
                listed += projects.list_projects(session, actor, workspace_id, archived=True)
            choices = [(p.title + (" (archived)" if p.archived_at else ""), p.id) for p in listed]
            if project_id not in [p.id for p in listed]:
                project_id = choices[0][1] if choices else None
            current = next((p for p in listed if p.id == project_id), None)
            shots = projects.list_shots(session, actor, project_id) if project_id else []
            if shot_id not in [s.id for s in shots]:
                shot_id = None
            deleted = (
                projects.list_shots(session, actor, project_id, deleted=True) if project_id else []
            )
            members = accounts.list_members(session, actor, workspace_id) if workspace_id else []
            live = live_values(
                ui, session, actor, project_id, shot_id, optional_id(picked_take, "take")
            )
        shot_choices = [(f"{s.code} · {(s.description or s.prompt)[:40]}", s.id) for s in shots]
        emails = [(f"{m.display_name} <{m.email}>", m.email) for m in members]
        return (
            gr.update(choices=ws_choices, value=workspace_id),
            gr.update(choices=choices, value=project_id),
            gr.update(visible=project_id is None),
            gr.update(choices=shot_choices, value=shot_id),
            gr.update(choices=[(f"{s.code} · {s.description[:40]}", s.id) for s in deleted]),
            gr.update(choices=emails),
            gr.update(choices=emails),
            gr.update(visible=current is not None and current.archived_at is None),
            gr.update(visible=current is not None and current.archived_at is not None),
            *live,
        )

    ui.frame = [
        workspace,
        project,
        empty,
        shot_tab.shot,
        list_tab.deleted,
        shot_tab.assignee,
        shot_tab.mentions,
        archive_btn,
        restore_btn,
        *ui.live,
    ]
    frame_inputs = [workspace, project, shot_tab.shot, shot_tab.take, archived]

    def refresh_live(
        picked_project: Any, picked_shot: Any, picked_take: Any, request: gr.Request
    ) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            return live_values(
                ui,
                session,
                actor,
                optional_id(picked_project, "project"),
                optional_id(picked_shot, "shot"),
                optional_id(picked_take, "take"),
            )

    def create(
        picked_ws: Any,
        title: str,
        logline: str,
        ratio: str,
        fps: Any,
        show_archived: bool,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            made = projects.create_project(
                session,
                actor,
                workspace_id=required_id(picked_ws, "workspace"),
                title=title,
                logline=logline or "",
                default_ratio=ratio or "1280:720",
                default_fps=int(fps or 24),
            )
            project_id = made.id
        notify(f"Project “{title.strip()}” created. Add its first shot in the Shot list tab.")
        return (
            "",
            "",
            gr.Accordion(open=False),
            *frame(picked_ws, project_id, None, None, show_archived, request),
        )

    def set_archived(archive: bool) -> Callable[..., tuple[Any, ...]]:
        def handler(
            picked_ws: Any, picked_project: Any, show_archived: bool, request: gr.Request
        ) -> tuple[Any, ...]:
            with ui_action(db, request) as (session, actor):
                changed = projects.set_archived(
                    session, actor, required_id(picked_project, "project"), archive
                )
                title = changed.title
            notify(f"“{title}” {'archived' if archive else 'restored'}.")
            keep = None if archive and not show_archived else picked_project
            return frame(picked_ws, keep, None, None, show_archived, request)

        return handler

    def render_cut(
        picked_project: Any,
        picked_shot: Any,
        picked_take: Any,
        with_title: bool,
        with_codes: bool,
        missing: str,
        music: Any,
        level: Any,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        project_id = required_id(picked_project, "project")
        data = uploaded_file(music, "sound file").read_bytes() if music else None
        with ui_action(db, request) as (session, actor):
            bed = (
                sounds.upload_sound(session, actor, project_id, generation, data) if data else None
            )
            cut = roughcut.request_rough_cut(
                session,
                actor,
                project_id,
                generation,
                title_card=bool(with_title),
                overlay_codes=bool(with_codes),
                missing=str(missing or "refuse"),
                music_asset_id=bed.id if bed else None,
                music_level_percent=float(level if level is not None else 25) if bed else None,
            )
            number = cut.number
        notify(f"Rough cut v{number} queued: it appears below with its progress.")
        return refresh_live(picked_project, picked_shot, picked_take, request)

    def opened(event: gr.EventData, request: gr.Request) -> tuple[Any, ...]:
        """A storyboard card or shot-list row was clicked: open that shot."""
        shot_id = optional_id(str(event._data.get("shot", "")) if event._data else "", "shot")
        if shot_id is None:
            return (gr.update(), gr.update())
        with ui_action(db, request) as (session, actor):
            projects.get_shot(session, actor, shot_id)  # refuses others' shots by name
        # Setting the picker fires its change event, which loads the form.
        return (gr.Tabs(selected="shot"), gr.update(value=shot_id))

    create_btn.click(
        create,
        [workspace, new_title, new_logline, new_ratio, new_fps, archived],
        [new_title, new_logline, new_box, *ui.frame],
        api_name="create_project",
    )
    archive_btn.click(
        set_archived(True),
        [workspace, project, archived],
        ui.frame,
        api_name="archive_project",
        js="(ws, p, a) => { if (!confirm('Archive this project? It stays readable and can be "
        "restored from \"Show archived\".')) { throw new Error('cancelled'); } "
        "return [ws, p, a]; }",
    )
    restore_btn.click(
        set_archived(False), [workspace, project, archived], ui.frame, api_name="restore_project"
    )
    cut_btn.click(
        render_cut,
        [
            project,
            shot_tab.shot,
            shot_tab.take,
            title_card,
            overlay,
            missing,
            music_in,
            music_level,
        ],
        ui.live,
        api_name="render_rough_cut",
    )
    for picker in (workspace, project, archived):
        picker.input(frame, frame_inputs, ui.frame, api_visibility="private").then(
            None, [project], None, js=addresses.project_push_js(1)
        )
    gr.on(
        [board.click, list_tab.table.click],
        opened,
        None,
        [tabs, shot_tab.shot],
        api_visibility="private",
    ).then(None, [project, shot_tab.shot], None, js=addresses.project_push_js(2))
    # The Gradio render the poll asks for (project_live): the take picker and tools.
    quiet: dict[str, Any] = {"show_progress": "hidden", "concurrency_limit": POLL_CONCURRENCY}
    poll.click(
        project_live.poll_handler(ui),
        [project, shot_tab.shot, shot_tab.take, view],
        [shot_tab.take, shot_tab.tools],
        api_name="refresh_project",
        trigger_mode="always_last",
        **quiet,
    )
    shot_list.wire(ui, list_tab, frame, frame_inputs)
    shot.wire(ui, shot_tab)
    compare.wire(ui, compare_tab, shot_tab, compare_tab_button)

    route = project_address.make_route(db, frame, ui.frame, tabs, note, archived, view)
    # The shot picker last: its change event (the shot form's load) reads the take
    # picker and the project, so those must hold the address's values by then.
    frame_first = [part for part in ui.frame if part is not ui.shot]
    outputs = [*frame_first, tabs, note, archived, view, ui.shot]
    return ProjectsPage(column=column, outputs=outputs, route=route)
