"""The Judge tab: a focused console, one assigned entry at a time.

Left: my queue (click a row, or j / k); right: the film, its logline and
credits, the elements it had to use (the draw for everyone and the team's
own), one slider per rubric criterion (range and weight from the jam's
rubric), private notes, Save and Submit (Ctrl+Enter). The services decide
what a judge may open (only assignments: 404 otherwise) and when scores
count (submitted sheets, while judging is open).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.jams import judging, service
from studio.jams.rules import MAX_CRITERIA
from studio.ui.actions import ui_action
from studio.ui.inline_errors import error_line, in_place
from studio.ui.jams import render
from studio.ui.jams.scripts import JAMS_JS
from studio.ui.jams.state import Context, JamUI, existing, required_slug
from studio.ui.notify import notify
from studio.ui.widgets import optional_id, required_id

# Sliders are built once, for the largest rubric; Gradio checks API values
# against the bounds they were built with, so those are wide and the
# service checks each criterion's own range.
BUILD_BOUND = 1_000_000


@dataclass
class JudgeTab:
    queue: gr.HTML
    pick: gr.Dropdown
    entry: gr.HTML
    sliders: list[gr.Slider]
    notes: gr.Textbox
    save: gr.Button
    submit: gr.Button
    error: gr.HTML


def build() -> JudgeTab:
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            queue = gr.HTML(elem_id="judge-queue", js_on_load=JAMS_JS)
            pick = gr.Dropdown(
                label="Entry", choices=[], allow_custom_value=True, elem_id="judge-pick"
            )
        with gr.Column(scale=3, min_width=480):
            entry = gr.HTML(elem_id="judge-entry", js_on_load=JAMS_JS)
            sliders = [
                gr.Slider(
                    minimum=-BUILD_BOUND,
                    maximum=BUILD_BOUND,
                    value=0,
                    step=1,
                    label=f"Criterion {i + 1}",
                    visible=False,
                    elem_id=f"judge-score-{i}",
                    elem_classes=["judge-score"],
                )
                for i in range(MAX_CRITERIA)
            ]
            notes = gr.Textbox(
                label="Private notes (only you read them)", lines=3, elem_id="judge-notes"
            )
            with gr.Row():
                save = gr.Button("Save", elem_id="judge-save")
                submit = gr.Button(
                    "Submit scores (Ctrl+Enter)", variant="primary", elem_id="judge-submit"
                )
            error = error_line("judge-error")
    return JudgeTab(queue, pick, entry, sliders, notes, save, submit, error)


def _step(criterion: dict[str, Any]) -> float:
    whole = all(float(criterion[k]).is_integer() for k in ("min", "max"))
    return 1 if whole else 0.1


def slider_updates(tab: JudgeTab, a: judging.AssignmentView | None) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    rubric = a.rubric if a else []
    for i, slider in enumerate(tab.sliders):
        if a is None or i >= len(rubric):
            out[slider] = gr.update(visible=False)
            continue
        c = rubric[i]
        middle = c["min"] + (c["max"] - c["min"]) / 2
        step = _step(c)
        default = round(middle) if step == 1 else middle
        out[slider] = gr.update(
            visible=True,
            label=f"{c['name']} · weight {c['weight']:g} · {c['min']:g} to {c['max']:g}",
            minimum=c["min"],
            maximum=c["max"],
            step=step,
            value=a.scores.get(c["key"], default),
            interactive=a.editable,
        )
    return out


def values(
    ui: JamUI, tab: JudgeTab, session: Session, actor: Actor, ctx: Context, entry_id: int | None
) -> dict[Any, Any]:
    """The console for `entry_id` (an error when it is not mine to judge), else the
    first entry still to score."""
    view = ctx.view
    if view is not None and entry_id is not None:
        # Asked for by id: the service answers (not a judge, not assigned: refused).
        judging.get_assigned_entry(session, actor, view.slug, entry_id)
    if view is None or not view.is_judge:
        return {
            tab.queue: render.empty("You are not a judge of this jam."),
            tab.pick: gr.update(choices=[], value=None),
            tab.entry: "",
            **slider_updates(tab, None),
            tab.notes: "",
        }
    items = judging.list_my_assignments(session, actor, view.slug)
    current: judging.AssignmentView | None
    if entry_id is not None:
        current = judging.get_assigned_entry(session, actor, view.slug, entry_id)
    else:
        current = next((a for a in items if a.submitted_at is None), items[0] if items else None)
    current_id = current.entry.id if current else None
    choices = [
        (f"{i}. {a.entry.title or 'Untitled'}" + (" ✓" if a.submitted_at else ""), a.entry.id)
        for i, a in enumerate(items, start=1)
    ]
    return {
        tab.queue: render.assignment_list(view, items, current_id),
        tab.pick: gr.update(choices=choices, value=current_id),
        tab.entry: render.judged_entry(view, current, ui.url),
        **slider_updates(tab, current),
        tab.notes: current.notes if current else "",
    }


def add_sections(ui: JamUI, tab: JudgeTab) -> None:
    ui.add(
        "judge",
        [tab.queue, tab.pick, tab.entry, *tab.sliders, tab.notes],
        lambda session, actor, ctx: values(ui, tab, session, actor, ctx, ctx.judge_entry_id),
    )


def wire(ui: JamUI, tab: JudgeTab) -> None:
    outputs = [tab.error, *ui.outputs("judge")]

    @in_place(tab.error)
    def open_entry(picked: Any, entry: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        entry_id = required_id(entry, "entry")
        with ui_action(ui.db, request) as (session, actor):
            ctx = ui.context(session, actor, slug)
            existing(ctx)
            return values(ui, tab, session, actor, ctx, entry_id)

    def clicked(picked: Any, event: gr.EventData, request: gr.Request) -> dict[Any, Any]:
        entry = str(event._data.get("entry", "")) if event._data else ""
        return open_entry(picked, entry, request)

    def score(submit: bool) -> Any:
        @in_place(tab.error)
        def handler(
            picked: Any,
            entry: Any,
            s1: Any,
            s2: Any,
            s3: Any,
            s4: Any,
            s5: Any,
            s6: Any,
            s7: Any,
            s8: Any,
            s9: Any,
            s10: Any,
            notes: Any,
            request: gr.Request,
        ) -> dict[Any, Any]:
            given = [s1, s2, s3, s4, s5, s6, s7, s8, s9, s10]
            slug = required_slug(picked)
            entry_id = optional_id(entry, "entry")
            if entry_id is None:
                raise gr.Error("Pick an entry from your list first.")
            with ui_action(ui.db, request) as (session, actor):
                rubric = service.get_jam(session, actor, slug).rubric
                scores = {
                    c["key"]: float(v) for c, v in zip(rubric, given, strict=False) if v is not None
                }
                judging.save_scores(
                    session,
                    actor,
                    slug,
                    entry_id,
                    scores=scores,
                    notes=str(notes or ""),
                    submit=submit,
                )
                ctx = ui.context(session, actor, slug)
                # After a submit, move on to the next entry still to score.
                out = values(ui, tab, session, actor, ctx, None if submit else entry_id)
            notify("Scores submitted." if submit else "Scores saved (not submitted yet).")
            return out

        return handler

    tab.pick.input(
        open_entry,
        [ui.picker, tab.pick],
        outputs,
        api_name="open_assignment",
        show_progress="minimal",
    )
    tab.queue.click(
        clicked, [ui.picker], outputs, api_visibility="private", show_progress="minimal"
    )
    inputs = [ui.picker, tab.pick, *tab.sliders, tab.notes]
    tab.save.click(
        score(False), inputs, outputs, api_name="save_scores", show_progress_on=[tab.entry]
    )
    tab.submit.click(
        score(True), inputs, outputs, api_name="submit_scores", show_progress_on=[tab.entry]
    )
