"""The Results tab: the published ranking and awards, the gallery, and the
audience vote (its form only while voting is open; one name per award
everywhere: results.award_name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.jams import results, votes
from studio.ui.actions import ui_action
from studio.ui.inline_errors import error_line, in_place
from studio.ui.jams import render
from studio.ui.jams.scripts import JAMS_JS
from studio.ui.jams.state import Context, JamUI, required_slug
from studio.ui.notify import notify
from studio.ui.templating import Markup
from studio.ui.widgets import optional_id

NO_JAM = "Pick a jam in the Jams tab (or from the list above)."


@dataclass
class ResultsTab:
    board: gr.HTML
    gallery: gr.HTML
    ballot: gr.HTML
    vote_box: gr.Row
    vote_pick: gr.Dropdown
    vote: gr.Button
    error: gr.HTML


def build() -> ResultsTab:
    board = gr.HTML(elem_id="jam-results", js_on_load=JAMS_JS)
    gr.Markdown("#### Gallery")
    gallery = gr.HTML(elem_id="jam-gallery", js_on_load=JAMS_JS)
    gr.Markdown("#### Audience vote")
    ballot = gr.HTML(elem_id="jam-ballot", js_on_load=JAMS_JS)
    with gr.Row(equal_height=True, visible=False, elem_id="jam-vote-box") as vote_box:
        vote_pick = gr.Dropdown(
            label="Your favourite film",
            choices=[],
            allow_custom_value=True,
            scale=3,
            elem_id="jam-vote-pick",
        )
        vote = gr.Button("Vote", scale=1, elem_id="jam-vote")
    error = error_line("jam-vote-error")
    return ResultsTab(board, gallery, ballot, vote_box, vote_pick, vote, error)


def values(
    ui: JamUI, tab: ResultsTab, session: Session, actor: Actor, ctx: Context
) -> dict[Any, Any]:
    view = ctx.view
    if view is None:
        return {
            tab.board: render.empty(NO_JAM),
            tab.gallery: "",
            tab.ballot: "",
            tab.vote_box: gr.update(visible=False),
            tab.vote_pick: gr.update(choices=[], value=None),
        }
    if view.results_published:
        published = results.get_results(session, actor, view.slug)
        board = render.results_page(view, published)
        films = render.gallery(
            view,
            results.gallery(session, actor, view.slug),
            published.awards,
            ui.url,
            picked=ctx.entry_id,
        )
    else:
        board = render.results_pending(view)
        films = Markup("")
    ballot = votes.get_ballot(session, actor, view.slug) if view.audience_vote else None
    choices = [
        (f"{e.title} — {e.team_name}", e.entry_id)
        for e in (ballot.entries if ballot and ballot.open else [])
        if not e.own_team
    ]
    return {
        tab.board: board,
        tab.gallery: films,
        tab.ballot: render.ballot(ballot, view),
        # The form only while a vote can be cast.
        tab.vote_box: gr.update(visible=bool(choices)),
        tab.vote_pick: gr.update(choices=choices, value=ballot.my_vote if ballot else None),
    }


def add_sections(ui: JamUI, tab: ResultsTab) -> None:
    ui.add(
        "results",
        [tab.board, tab.gallery, tab.ballot, tab.vote_box, tab.vote_pick],
        lambda session, actor, ctx: values(ui, tab, session, actor, ctx),
    )


def wire(ui: JamUI, tab: ResultsTab) -> None:
    @in_place(tab.error)
    def vote(picked: Any, entry: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        entry_id = optional_id(entry, "film")
        if entry_id is None:
            raise gr.Error("Choose a film to vote for.")
        with ui_action(ui.db, request) as (session, actor):
            votes.cast_vote(session, actor, slug, entry_id)
            out = ui.values(session, actor, ui.context(session, actor, slug), "results")
        notify("Vote recorded. You can move it until voting closes.")
        return out

    tab.vote.click(
        vote,
        [ui.picker, tab.vote_pick],
        [tab.error, *ui.outputs("results")],
        api_name="cast_vote",
        show_progress_on=[tab.ballot],
    )
