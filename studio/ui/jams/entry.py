"""The Submit tab: the team's entry.

A line that says exactly what submitting does now ("on time", "late:
audience award only", "closed"), from the server's clock; the entry's
current state and player; title, logline, credits, poster; the film as an
upload or a take / rough cut of the team's workspace; Save draft and Submit;
Withdraw (after a confirm()), then what the team can still do. The database
clock in put_entry has the last word: the line is a forecast. An error shows
under the buttons and leaves every field as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.errors import NotFound
from studio.jams import entries
from studio.jams.models import FilmSource
from studio.projects import home
from studio.ui import direct_upload
from studio.ui.actions import ui_action
from studio.ui.inline_errors import error_line, in_place
from studio.ui.jams import render
from studio.ui.jams.scripts import JAMS_JS, confirm_js
from studio.ui.jams.state import Context, JamUI, existing, required_slug
from studio.ui.notify import notify
from studio.ui.widgets import uploaded_file

STATUS_WORDS = {
    "draft": "Draft saved: it is not in the running until you submit.",
    "submitted": "Submitted on time: your film is in the jury ranking and the audience vote.",
    "late": "Submitted late: your film is eligible for the audience award only.",
}
WITHDRAW_QUESTION = (
    "Withdraw your team's entry? It leaves the jury ranking and the audience vote. "
    "You can submit it again only until the deadline (late within the grace period)."
)


@dataclass
class EntryTab:
    line: gr.HTML
    card: gr.HTML
    title: gr.Textbox
    logline: gr.Textbox
    credits: gr.Textbox
    poster: gr.Image
    film: gr.File
    workspace_film: gr.Dropdown
    save: gr.Button
    submit: gr.Button
    error: gr.HTML
    withdraw: gr.Button
    withdraw_error: gr.HTML
    direct_submit: gr.Button


def build() -> EntryTab:
    line = gr.HTML(elem_id="jam-submit-line", js_on_load=JAMS_JS)
    with gr.Row():
        with gr.Column(scale=3, min_width=360):
            title = gr.Textbox(label="Title", max_length=120, elem_id="entry-title")
            logline = gr.Textbox(label="Logline", lines=2, elem_id="entry-logline")
            credits = gr.Textbox(
                label="Credits", lines=3, placeholder="Directed by …", elem_id="entry-credits"
            )
            with gr.Row():
                film = gr.File(
                    label="Film: upload (MP4, MOV, WebM)",
                    file_types=["video"],
                    type="filepath",
                    elem_id="entry-film",
                )
                poster = gr.Image(
                    label="Poster (optional)",
                    type="filepath",
                    image_mode=None,  # the upload itself (see widgets.uploaded_file)
                    height=150,
                    elem_id="entry-poster",
                )
            workspace_film = gr.Dropdown(
                label="…or a take or rough cut from your team's workspace",
                choices=[],
                allow_custom_value=True,
                elem_id="entry-workspace-film",
            )
            with gr.Row():
                save = gr.Button("Save draft", elem_id="entry-save")
                submit = gr.Button("Submit", variant="primary", elem_id="entry-submit")
            error = error_line("entry-error")
            # A large film goes straight to the media store (static/upload.js) and the entry
            # is saved with it, dated when the finished upload is attached.
            with gr.Accordion("Large film: upload straight to storage and submit", open=False):
                direct_upload.widget("entry-direct-upload", "Film (MP4, MOV, WebM)")
                direct_submit = gr.Button("Upload and submit", elem_id="entry-direct-submit")
        with gr.Column(scale=2, min_width=320):
            card = gr.HTML(elem_id="jam-entry", js_on_load=JAMS_JS)
            withdraw = gr.Button(
                "Withdraw entry", variant="stop", size="sm", visible=False, elem_id="entry-withdraw"
            )
            withdraw_error = error_line("entry-withdraw-error")
    return EntryTab(
        line=line,
        card=card,
        title=title,
        logline=logline,
        credits=credits,
        poster=poster,
        film=film,
        workspace_film=workspace_film,
        save=save,
        submit=submit,
        error=error,
        withdraw=withdraw,
        withdraw_error=withdraw_error,
        direct_submit=direct_submit,
    )


def parse_source(value: Any) -> tuple[int | None, int | None]:
    """'take:12' or 'cut:3' -> (take id, rough cut id); the service checks they are the team's."""
    if value in (None, "", []):
        return None, None
    kind, _, ident = str(value).partition(":")
    if kind not in ("take", "cut") or not ident.isdigit():
        raise gr.Error("Choose a take or a rough cut from the list.")
    return (int(ident), None) if kind == "take" else (None, int(ident))


def _source_value(entry: entries.EntryView | None) -> str | None:
    if entry is None or entry.film_source_id is None:
        return None
    prefix = "take" if entry.film_source is FilmSource.TAKE else "cut"
    return f"{prefix}:{entry.film_source_id}"


def _my_entry(session: Session, actor: Actor, slug: str) -> entries.EntryView | None:
    try:
        return entries.get_my_entry(session, actor, slug)
    except NotFound:
        return None


def live_values(
    ui: JamUI, tab: EntryTab, session: Session, actor: Actor, ctx: Context
) -> dict[Any, Any]:
    """What-happens line, entry card, Withdraw: only for the person's own team."""
    view, team = ctx.view, ctx.team
    if view is None or team is None:
        return {
            tab.line: render.empty("Join or register a team to submit a film."),
            tab.card: "",
            tab.withdraw: gr.update(visible=False),
        }
    entry = _my_entry(session, actor, view.slug)
    return {
        tab.line: render.what_happens(view, entry),
        tab.card: render.entry_card(view, entry, ui.url),
        tab.withdraw: gr.update(visible=render.withdrawable(view, entry)),
    }


def form_values(tab: EntryTab, session: Session, actor: Actor, ctx: Context) -> dict[Any, Any]:
    """The form: title, logline, credits and the workspace films to pick from."""
    view, team = ctx.view, ctx.team
    if view is None or team is None:
        return {
            tab.title: "",
            tab.logline: "",
            tab.credits: "",
            tab.workspace_film: gr.update(choices=[], value=None),
        }
    entry = _my_entry(session, actor, view.slug)
    films = home.finished_films(session, actor, team.workspace_id)
    return {
        tab.title: entry.title if entry else "",
        tab.logline: entry.logline if entry else "",
        tab.credits: entry.credits if entry else "",
        tab.workspace_film: gr.update(
            choices=[(f.label, f"{f.kind}:{f.id}") for f in films], value=_source_value(entry)
        ),
    }


def add_sections(ui: JamUI, tab: EntryTab) -> None:
    ui.add(
        "entry_live",
        [tab.line, tab.card, tab.withdraw],
        lambda session, actor, ctx: live_values(ui, tab, session, actor, ctx),
    )
    ui.add(
        "entry_form",
        [tab.title, tab.logline, tab.credits, tab.workspace_film],
        lambda session, actor, ctx: form_values(tab, session, actor, ctx),
    )


def wire(ui: JamUI, tab: EntryTab) -> None:
    settings = ui.generation.settings

    def save(submit: bool) -> Any:
        @in_place(tab.error)
        def handler(
            picked: Any,
            title: Any,
            logline: Any,
            credits: Any,
            poster: Any,
            film: Any,
            source: Any,
            request: gr.Request,
        ) -> dict[Any, Any]:
            slug = required_slug(picked)
            take_id, cut_id = parse_source(source)
            if film and (take_id or cut_id):
                raise gr.Error(
                    "Choose one film: clear the upload or the workspace pick, then try again."
                )
            with ui_action(ui.db, request) as (session, actor):
                view = existing(ui.context(session, actor, slug))
                film_id = None
                if film:
                    path = uploaded_file(film, "film")
                    if path.stat().st_size > view.film_max_bytes:
                        raise gr.Error(
                            f"Films are limited to {view.film_max_bytes / 1024**2:.0f} MB "
                            "in this jam."
                        )
                    film_id = entries.upload_film(
                        session, actor, slug, path, storage=ui.generation.storage
                    ).asset_id
                poster_id = None
                if poster:
                    poster_id = entries.upload_poster(
                        session,
                        actor,
                        slug,
                        uploaded_file(poster, "poster").read_bytes(),
                        storage=ui.generation.storage,
                        max_bytes=settings.max_upload_bytes,
                        max_pixels=settings.max_image_pixels,
                    )
                saved = entries.put_entry(
                    session,
                    actor,
                    slug,
                    entries.EntryInput(
                        title=str(title or ""),
                        logline=str(logline or ""),
                        credits=str(credits or ""),
                        film_asset_id=film_id,
                        film_take_id=take_id,
                        film_rough_cut_id=cut_id,
                        poster_asset_id=poster_id,
                        submit=submit,
                    ),
                    storage=ui.generation.storage,
                )
                status = saved.status.value
                ctx = ui.context(session, actor, slug)
                out = ui.values(session, actor, ctx, "entry_live", "entry_form")
            notify(STATUS_WORDS.get(status, f"Entry {status}."))
            return {tab.poster: None, tab.film: None, **out}

        return handler

    inputs = [
        ui.picker,
        tab.title,
        tab.logline,
        tab.credits,
        tab.poster,
        tab.film,
        tab.workspace_film,
    ]
    outputs = [tab.poster, tab.film, tab.error, *ui.outputs("entry_live", "entry_form")]
    tab.save.click(save(False), inputs, outputs, api_name="save_entry", show_progress_on=[tab.card])
    tab.submit.click(
        save(True), inputs, outputs, api_name="submit_entry", show_progress_on=[tab.card]
    )
    tab.direct_submit.click(
        None,
        [ui.picker, tab.title, tab.logline, tab.credits],
        None,
        js=direct_upload.film_js("entry-direct-upload", submit=True),
    )

    @in_place(tab.withdraw_error)
    def withdraw(picked: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            entries.withdraw_entry(session, actor, slug)
            ctx = ui.context(session, actor, slug)
            still = render.after_withdrawal_words(existing(ctx))
            out = ui.values(session, actor, ctx, "entry_live")
        notify(still)
        return out

    tab.withdraw.click(
        withdraw,
        [ui.picker],
        [tab.withdraw_error, *ui.outputs("entry_live")],
        api_name="withdraw_entry",
        js=confirm_js(WITHDRAW_QUESTION),
        show_progress="hidden",  # a cancelled confirm() would mark the outputs "Error"
    )
