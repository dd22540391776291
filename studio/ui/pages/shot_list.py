"""The Shot list tab: the table, adding shots, moving, duplicating, deleting
(recoverable) and restoring them, and CSV import/export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from studio.accounts.models import Role
from studio.projects import csvio
from studio.projects import service as projects
from studio.ui.actions import ui_action
from studio.ui.notify import notify
from studio.ui.upload_guard import owned_download
from studio.ui.widgets import id_dropdown, required_id, uploaded_file

if TYPE_CHECKING:
    from studio.ui.pages.project_live import ProjectUI

CSV_MAX_BYTES = 2_000_000


@dataclass
class ShotListTab:
    table: gr.HTML
    description: gr.Textbox
    prompt: gr.Textbox
    scene: gr.Number
    add: gr.Button
    move_up: gr.Button
    move_down: gr.Button
    duplicate: gr.Button
    delete: gr.Button
    deleted: gr.Dropdown
    restore: gr.Button
    csv_in: gr.File
    import_btn: gr.Button
    export_btn: gr.Button
    csv_out: gr.File


def build_controls() -> ShotListTab:
    gr.Markdown(
        "Click a row to open the shot. Codes (SC01-SH010) are given once and never change "
        "when shots move.",
        elem_classes=["hint"],
    )
    from studio.ui.pages.project_live import OPEN_SHOT_JS

    table = gr.HTML(elem_id="shot-table", js_on_load=OPEN_SHOT_JS)
    with gr.Row(equal_height=True):
        description = gr.Textbox(
            label="New shot", placeholder="Wide: the keeper climbs the stairs", scale=4
        )
        prompt = gr.Textbox(
            label="Prompt (optional)", placeholder="defaults to the description", scale=4
        )
        scene = gr.Number(label="Scene (empty: the last)", value=None, precision=0, scale=1)
        add = gr.Button("Add shot", variant="primary", scale=1, elem_id="proj-add-shot")
    with gr.Row():
        gr.Markdown("**Selected shot** (pick it in the Shot tab or click a row):")
        move_up = gr.Button("Move up", size="sm", elem_id="shot-up")
        move_down = gr.Button("Move down", size="sm", elem_id="shot-down")
        duplicate = gr.Button("Duplicate", size="sm", elem_id="shot-duplicate")
        delete = gr.Button("Delete", size="sm", variant="stop", elem_id="shot-delete")
    with gr.Row(equal_height=True):
        deleted = id_dropdown("Deleted shots", scale=3, elem_id="shot-deleted")
        restore = gr.Button("Restore", scale=1, elem_id="shot-restore")
    with gr.Accordion("Import / export CSV", open=False):
        gr.Markdown(
            f"Columns: `{', '.join(csvio.COLUMNS)}`. A row with a known `code` updates that "
            "shot; others are added. If any row is wrong, nothing is imported and every "
            "bad row is named.",
            elem_classes=["hint"],
        )
        with gr.Row():
            csv_in = gr.File(label="CSV to import", file_types=[".csv"], type="filepath")
            with gr.Column():
                import_btn = gr.Button("Import", elem_id="csv-import")
                export_btn = gr.Button("Export CSV", elem_id="csv-export")
                csv_out = gr.File(label="Exported shot list", interactive=False)
    return ShotListTab(
        table,
        description,
        prompt,
        scene,
        add,
        move_up,
        move_down,
        duplicate,
        delete,
        deleted,
        restore,
        csv_in,
        import_btn,
        export_btn,
        csv_out,
    )


def wire(
    ui: ProjectUI, tab: ShotListTab, frame: Callable[..., tuple[Any, ...]], inputs: list[Any]
) -> None:
    db = ui.db

    def add(
        picked_ws: Any,
        picked_project: Any,
        picked_shot: Any,
        picked_take: Any,
        show_archived: bool,
        text: str,
        prompt: str,
        scene: Any,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            made = projects.add_shot(
                session,
                actor,
                required_id(picked_project, "project"),
                projects.ShotFields(description=text, prompt=prompt or None),
                scene_number=int(scene) if scene not in (None, "", 0) else None,
            )
            code = made.code
        notify(f"{code} added.")
        return (
            "",
            "",
            *frame(picked_ws, picked_project, picked_shot, picked_take, show_archived, request),
        )

    def move(step: int) -> Callable[..., tuple[Any, ...]]:
        def handler(
            picked_ws: Any,
            picked_project: Any,
            picked_shot: Any,
            picked_take: Any,
            show_archived: bool,
            request: gr.Request,
        ) -> tuple[Any, ...]:
            shot_id = required_id(picked_shot, "shot")
            with ui_action(db, request) as (session, actor):
                project_id = required_id(picked_project, "project")
                projects.get_project(session, actor, project_id, Role.EDITOR)  # even at an edge
                order = [s.id for s in projects.list_shots(session, actor, project_id)]
                if shot_id not in order:
                    raise gr.Error("That shot is not in this project's list.")
                index = order.index(shot_id)
                target = index + step
                if 0 <= target < len(order):
                    order[index], order[target] = order[target], order[index]
                    projects.reorder_shots(session, actor, project_id, order)
            return frame(
                picked_ws, picked_project, picked_shot, picked_take, show_archived, request
            )

        return handler

    def duplicate(
        picked_ws: Any,
        picked_project: Any,
        picked_shot: Any,
        picked_take: Any,
        show_archived: bool,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            copy = projects.duplicate_shot(session, actor, required_id(picked_shot, "shot"))
            copy_id, code = copy.id, copy.code
        notify(f"Duplicated as {code}.")
        return frame(picked_ws, picked_project, copy_id, None, show_archived, request)

    def delete(
        picked_ws: Any,
        picked_project: Any,
        picked_shot: Any,
        picked_take: Any,
        show_archived: bool,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            gone = projects.delete_shot(session, actor, required_id(picked_shot, "shot"))
            code = gone.code
        notify(f"{code} deleted. Restore it from “Deleted shots” if that was a mistake.")
        return frame(picked_ws, picked_project, None, None, show_archived, request)

    def restore(
        picked_ws: Any,
        picked_project: Any,
        picked_shot: Any,
        picked_take: Any,
        show_archived: bool,
        picked_deleted: Any,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            back = projects.restore_shot(
                session, actor, required_id(picked_deleted, "deleted shot")
            )
            back_id, code = back.id, back.code
        notify(f"{code} is back, at the end of the list.")
        return frame(picked_ws, picked_project, back_id, None, show_archived, request)

    def import_csv(
        picked_ws: Any,
        picked_project: Any,
        picked_shot: Any,
        picked_take: Any,
        show_archived: bool,
        path: Any,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        file = uploaded_file(path, "CSV file")
        if file.stat().st_size > CSV_MAX_BYTES:
            raise gr.Error(f"The CSV is larger than {CSV_MAX_BYTES // 1_000_000} MB.")
        with ui_action(db, request) as (session, actor):
            result = csvio.import_csv(
                session, actor, required_id(picked_project, "project"), file.read_bytes()
            )
        notify(f"Imported: {result.created} shots added, {result.updated} updated.")
        return (
            None,
            *frame(picked_ws, picked_project, picked_shot, picked_take, show_archived, request),
        )

    def export_csv(picked_project: Any, request: gr.Request) -> str:
        project_id = required_id(picked_project, "project")
        with ui_action(db, request) as (session, actor):
            text = csvio.export_csv(session, actor, project_id)
            title = projects.get_project(session, actor, project_id).title
        # A fresh file we name ourselves (never a path the user chose), readable
        # by the caller alone and swept with the uploads.
        safe = "".join(c if c.isalnum() else "-" for c in title).strip("-")[:40] or "shots"
        return owned_download(f"{safe}-shots.csv", text)

    tab.add.click(
        add,
        [*inputs, tab.description, tab.prompt, tab.scene],
        [tab.description, tab.prompt, *ui.frame],
        api_name="add_shot",
    )
    tab.move_up.click(move(-1), inputs, ui.frame, api_name="move_shot_up")
    tab.move_down.click(move(1), inputs, ui.frame, api_name="move_shot_down")
    tab.duplicate.click(duplicate, inputs, ui.frame, api_name="duplicate_shot")
    tab.delete.click(
        delete,
        inputs,
        ui.frame,
        api_name="delete_shot",
        js="(...a) => { if (!confirm('Delete this shot? Its takes are kept and you can "
        "restore it from Deleted shots.')) { throw new Error('cancelled'); } return a; }",
    )
    tab.restore.click(restore, [*inputs, tab.deleted], ui.frame, api_name="restore_shot")
    tab.import_btn.click(
        import_csv, [*inputs, tab.csv_in], [tab.csv_in, *ui.frame], api_name="import_shots_csv"
    )
    tab.export_btn.click(export_csv, [ui.project], tab.csv_out, api_name="export_shots_csv")
