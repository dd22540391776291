"""Generate: pick a model and mode, queue takes, watch the queue, reuse a take's
settings or send it to a shot.

The controls follow the chosen model and mode (controls.py): each is shown
only when the model supports it, with that model's values. Outputs are bound
by name; errors show beside the action that caused them, the form untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.db.session import Database
from studio.generation.context import Generation
from studio.ui.generate.handlers import Handlers
from studio.ui.generate.layout import Layout, build_layout
from studio.ui.inline_errors import in_place


@dataclass
class GeneratePage:
    column: gr.Column
    outputs: list[Any]  # every component `refresh` updates (the app shell loads it)
    # (workspace id or None, request) -> {component: value}; typed loosely for the
    # app shell, which still names a tuple.
    refresh: Callable[..., Any]
    layout: Layout


def build(db: Database, generation: Generation, media_secret: str) -> GeneratePage:
    ui = build_layout(generation.registry)
    on = Handlers(db, generation, media_secret, ui)
    fields = list(ui.fields().values())
    lists = [ui.queue, ui.cancel_pick, ui.history, ui.take_pick, ui.poll]
    outputs = [ui.workspace, *lists, ui.project_pick, ui.shot_pick]
    quiet: dict[str, Any] = {"show_progress": "minimal"}

    # The form's first state, for the default model (gr.on without triggers: on load).
    gr.on(None, on.initial_form, None, fields, api_visibility="private", show_progress="hidden")
    follow = [ui.model, ui.mode, ui.ratio, ui.duration, ui.camera]
    pick = in_place(ui.error)(on.pick_model)
    ui.model.input(pick, follow, [*fields, ui.error], api_name="pick_model", **quiet)
    ui.mode.input(pick, follow, [*fields, ui.error], api_name="pick_mode", **quiet)

    form = [
        ui.workspace,
        ui.model,
        ui.mode,
        ui.prompt,
        ui.negative,
        ui.reference,
        ui.ratio,
        ui.duration,
        ui.camera,
        ui.motion,
        ui.random_seed,
        ui.seed,
    ]
    ui.submit.click(
        in_place(ui.error)(on.generate), form, [*lists, ui.error], api_name="generate", **quiet
    )
    ui.workspace.input(
        in_place(ui.error)(on.refresh),
        [ui.workspace],
        [*outputs, ui.error],
        api_name="show_generate",
        **quiet,
    )
    # The poll (generate/live.py) asks for this render when the job pickers moved.
    ui.poll.click(
        on.poll,
        [ui.workspace],
        [ui.cancel_pick, ui.take_pick],
        api_name="refresh_generate_pickers",
        show_progress="hidden",
        trigger_mode="always_last",
    )
    ui.cancel.click(
        in_place(ui.cancel_error)(on.cancel),
        [ui.workspace, ui.cancel_pick],
        [*lists, ui.cancel_error],
        api_name="cancel_job",
        **quiet,
    )
    # "Use these settings again" fills every form field but the workspace.
    ui.reuse.click(
        in_place(ui.take_error)(on.reuse),
        [ui.take_pick],
        [ui.model, *fields, ui.take_error],
        api_name="reuse_settings",
        **quiet,
    )
    ui.project_pick.input(
        in_place(ui.take_error)(on.pick_project),
        [ui.project_pick],
        [ui.shot_pick, ui.take_error],
        api_name="pick_send_project",
        **quiet,
    )
    ui.send.click(
        in_place(ui.take_error)(on.send),
        [ui.take_pick, ui.shot_pick],
        [ui.take_error],
        api_name="send_take_to_shot",
        **quiet,
    )
    return GeneratePage(column=ui.column, outputs=outputs, refresh=on.refresh, layout=ui)
