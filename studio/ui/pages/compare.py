"""The Compare tab: two takes side by side, players in sync, settings diffed.

Synchronized playback is static/studio.js: playing, pausing or seeking one
player of `#compare-view` does the same to the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from studio.projects import review, takes
from studio.ui.actions import ui_action
from studio.ui.navigation import NAVIGATION
from studio.ui.pages import project_html as render
from studio.ui.widgets import id_dropdown, optional_id

if TYPE_CHECKING:
    from studio.ui.pages.project_live import ProjectUI
    from studio.ui.pages.shot import ShotTab


@dataclass
class CompareTab:
    left: gr.Dropdown
    right: gr.Dropdown
    view: gr.HTML


def build_controls() -> CompareTab:
    with gr.Row():
        left = id_dropdown("Left take", elem_id="compare-left")
        right = id_dropdown("Right take", elem_id="compare-right")
    view = gr.HTML(render.compare(None, str), elem_id="compare-html")
    return CompareTab(left, right, view)


def wire(ui: ProjectUI, tab: CompareTab, shot_tab: ShotTab, opened: gr.Tab) -> None:
    from studio.ui.pages.project_live import PAGE, take_choices

    db = ui.db

    def compare(picked_left: Any, picked_right: Any, request: gr.Request) -> str:
        left = optional_id(picked_left, "take")
        right = optional_id(picked_right, "take")
        if left is None or right is None:
            return render.compare(None, ui.url)
        with ui_action(db, request) as (session, actor):
            return render.compare(review.compare_takes(session, actor, left, right), ui.url)

    def choices_for_shot(picked_shot: Any, view: Any, request: gr.Request) -> tuple[Any, ...]:
        """The newest two takes of the opened shot, ready to compare (nothing when
        Back / Forward routed another view meanwhile, see ui/navigation.py)."""
        out = newest_two(picked_shot, request)
        if NAVIGATION.superseded(request, PAGE, view):
            return (gr.skip(), gr.skip(), gr.skip())
        return out

    def newest_two(picked_shot: Any, request: gr.Request) -> tuple[Any, ...]:
        shot_id = optional_id(picked_shot, "shot")
        if shot_id is None:
            empty = gr.update(choices=[], value=None)
            return (empty, empty, render.compare(None, ui.url))
        with ui_action(db, request) as (session, actor):
            views = takes.list_takes(session, actor, shot_id)
            selected = takes.selected_take_id(session, actor, shot_id)
            choices = take_choices(views, selected)
            left = views[1].take.id if len(views) > 1 else None
            right = views[0].take.id if views else None
            result = (
                review.compare_takes(session, actor, left, right)
                if left is not None and right is not None
                else None
            )
            html = render.compare(result, ui.url)
        return (
            gr.update(choices=choices, value=left),
            gr.update(choices=choices, value=right),
            html,
        )

    gr.on(
        [tab.left.input, tab.right.input],
        compare,
        [tab.left, tab.right],
        tab.view,
        api_name="compare_takes",
    )
    # Opening the tab (or another shot) lines up the shot's two newest takes.
    gr.on(
        [shot_tab.shot.change, opened.select],
        choices_for_shot,
        [shot_tab.shot, ui.view],
        [tab.left, tab.right, tab.view],
        api_name="compare_newest_takes",
    )
