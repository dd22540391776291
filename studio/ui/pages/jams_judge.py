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
from typing import TYPE_CHECKING, Any

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.errors import NotFound
from studio.jams import judging, service
from studio.jams.rules import MAX_CRITERIA
from studio.ui.actions import ui_action
from studio.ui.notify import notify
from studio.ui.pages import jams_html as render
from studio.ui.widgets import optional_id, required_id

if TYPE_CHECKING:
    from studio.ui.pages.jams import Context, JamUI

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


def build_controls(js: str) -> JudgeTab:
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            queue = gr.HTML(elem_id="judge-queue", js_on_load=js)
            pick = gr.Dropdown(
                label="Entry", choices=[], allow_custom_value=True, elem_id="judge-pick"
            )
        with gr.Column(scale=3, min_width=480):
            entry = gr.HTML(elem_id="judge-entry")
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
    return JudgeTab(queue, pick, entry, sliders, notes, save, submit)


def _step(criterion: dict[str, Any]) -> float:
    whole = all(float(criterion[k]).is_integer() for k in ("min", "max"))
    return 1 if whole else 0.1


def slider_updates(a: judging.AssignmentView | None) -> list[Any]:
    out: list[Any] = []
    rubric = a.rubric if a else []
    for i in range(MAX_CRITERIA):
        if a is None or i >= len(rubric):
            out.append(gr.update(visible=False))
            continue
        c = rubric[i]
        middle = c["min"] + (c["max"] - c["min"]) / 2
        step = _step(c)
        default = round(middle) if step == 1 else middle
        out.append(
            gr.update(
                visible=True,
                label=f"{c['name']} · weight {c['weight']:g} · {c['min']:g} to {c['max']:g}",
                minimum=c["min"],
                maximum=c["max"],
                step=step,
                value=a.scores.get(c["key"], default),
                interactive=a.editable,
            )
        )
    return out


def values(
    session: Session, actor: Actor, ctx: Context, entry_id: int | None, url: Any
) -> tuple[Any, ...]:
    """Order: queue, entry picker, entry, sliders..., notes. `entry_id` given: that
    entry or an error (a judge opens only assignments)."""
    view = ctx.view
    if view is not None and entry_id is not None:
        # Asked for by id: the service answers (not a judge, not assigned: refused).
        judging.get_assigned_entry(session, actor, view.slug, entry_id)
    if view is None or not view.is_judge:
        hidden = [gr.update(visible=False)] * MAX_CRITERIA
        return (
            render.empty("You are not a judge of this jam."),
            gr.update(choices=[], value=None),
            "",
            *hidden,
            "",
        )
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
    return (
        render.assignment_list(items, current_id, view.schedule["judging_closes_at"]),
        gr.update(choices=choices, value=current_id),
        render.judged_entry(current, url, view.shared_elements),
        *slider_updates(current),
        current.notes if current else "",
    )


def wire(ui: JamUI, tab: JudgeTab) -> None:
    from studio.ui.pages.jams import required_slug

    ui.judge = [tab.queue, tab.pick, tab.entry, *tab.sliders, tab.notes]
    ui.judge_values = lambda session, actor, ctx, entry_id: values(
        session, actor, ctx, entry_id, ui.url
    )

    def open_entry(picked: Any, entry: Any, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        entry_id = required_id(entry, "entry")
        with ui_action(ui.db, request) as (session, actor):
            ctx = ui.context(session, actor, slug)
            if ctx.view is None:
                raise NotFound("No such jam.")
            return values(session, actor, ctx, entry_id, ui.url)

    def clicked(picked: Any, event: gr.EventData, request: gr.Request) -> tuple[Any, ...]:
        entry = str(event._data.get("entry", "")) if event._data else ""
        return open_entry(picked, entry, request)

    def score(submit: bool) -> Any:
        def handler(
            picked: Any,
            entry: Any,
            s1: float,
            s2: float,
            s3: float,
            s4: float,
            s5: float,
            s6: float,
            s7: float,
            s8: float,
            s9: float,
            s10: float,
            notes: str,
            request: gr.Request,
        ) -> tuple[Any, ...]:
            slug = required_slug(picked)
            entry_id = optional_id(entry, "entry")
            if entry_id is None:
                raise gr.Error("Pick an entry from your list first.")
            given = [s1, s2, s3, s4, s5, s6, s7, s8, s9, s10]
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
                    notes=notes or "",
                    submit=submit,
                )
                ctx = ui.context(session, actor, slug)
                # After a submit, move on to the next entry still to score.
                out = values(session, actor, ctx, None if submit else entry_id, ui.url)
            notify("Scores submitted." if submit else "Scores saved (not submitted yet).")
            return out

        return handler

    tab.pick.input(open_entry, [ui.picker, tab.pick], ui.judge, api_name="open_assignment")
    tab.queue.click(clicked, [ui.picker], ui.judge, api_visibility="private")
    inputs = [ui.picker, tab.pick, *tab.sliders, tab.notes]
    tab.save.click(score(False), inputs, ui.judge, api_name="save_scores")
    tab.submit.click(score(True), inputs, ui.judge, api_name="submit_scores")
