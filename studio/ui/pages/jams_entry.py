"""The Submit tab: the team's entry.

A line that says exactly what submitting does now ("on time", "late:
audience award only", "closed"), from the server's clock; the entry's
current state and player; title, logline, credits, poster; the film as an
upload or a take / rough cut of the team's workspace; Save draft and Submit;
Withdraw (after a confirm()), then what the team can still do: put_entry
takes a withdrawn entry back until the grace period ends (on time before the
deadline, late within grace). The database clock in put_entry has the last
word: the line is a forecast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.errors import NotFound
from studio.generation import service as jobs
from studio.jams import entries
from studio.jams.models import FilmSource
from studio.projects import roughcut, takes
from studio.projects import service as projects
from studio.ui.actions import ui_action
from studio.ui.notify import notify
from studio.ui.pages import jams_html as render
from studio.ui.widgets import uploaded_file

if TYPE_CHECKING:
    from studio.ui.pages.jams import Context, JamUI

MAX_FILM_CHOICES = 60
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
    withdraw: gr.Button


def build_controls() -> EntryTab:
    from studio.ui.pages.jams import JAMS_JS

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
        with gr.Column(scale=2, min_width=320):
            card = gr.HTML(elem_id="jam-entry", js_on_load=JAMS_JS)
            withdraw = gr.Button(
                "Withdraw entry", variant="stop", size="sm", visible=False, elem_id="entry-withdraw"
            )
    return EntryTab(
        line, card, title, logline, credits, poster, film, workspace_film, save, submit, withdraw
    )


def film_choices(session: Session, actor: Actor, workspace_id: int) -> list[tuple[str, str]]:
    """Finished rough cuts and takes of the team's workspace, newest first."""
    out: list[tuple[str, str]] = []
    for project in projects.list_projects(session, actor, workspace_id):
        for cv in roughcut.list_rough_cuts(session, actor, project.id):
            job = jobs.get_job(session, actor, cv.public_id)
            if job.output_asset_id is not None and job.status.value == "succeeded":
                out.append((f"{project.title} · rough cut v{cv.cut.number}", f"cut:{cv.cut.id}"))
        for shot in projects.list_shots(session, actor, project.id):
            for tv in takes.list_takes(session, actor, shot.id):
                if tv.output_asset_id is not None:
                    out.append(
                        (
                            f"{project.title} · {tv.shot_code} take {tv.take.number}",
                            f"take:{tv.take.id}",
                        )
                    )
        if len(out) >= MAX_FILM_CHOICES:
            break
    return out[:MAX_FILM_CHOICES]


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


def live_values(ui: JamUI, session: Session, actor: Actor, ctx: Context) -> tuple[Any, ...]:
    """Order: what-happens line, entry card, Withdraw button. Only for the person's own team."""
    view, team = ctx.view, ctx.team
    if view is None or team is None:
        return (
            render.empty("Join or register a team to submit a film."),
            "",
            gr.update(visible=False),
        )
    entry = _my_entry(session, actor, view.slug)
    return (
        render.what_happens(view, entry),
        render.entry_card(view, entry, ui.url),
        gr.update(visible=render.can_withdraw(view, entry)),
    )


def form_values(session: Session, actor: Actor, ctx: Context) -> tuple[Any, ...]:
    """Order: title, logline, credits, workspace film picker."""
    view, team = ctx.view, ctx.team
    if view is None or team is None:
        return ("", "", "", gr.update(choices=[], value=None))
    entry = _my_entry(session, actor, view.slug)
    choices = film_choices(session, actor, team.workspace_id)
    return (
        entry.title if entry else "",
        entry.logline if entry else "",
        entry.credits if entry else "",
        gr.update(choices=choices, value=_source_value(entry)),
    )


def wire(ui: JamUI, tab: EntryTab) -> None:
    from studio.ui.pages.jams import required_slug

    settings = ui.generation.settings
    ui.entry_live = [tab.line, tab.card, tab.withdraw]
    ui.entry_form = [tab.title, tab.logline, tab.credits, tab.workspace_film]
    ui.entry_live_values = lambda session, actor, ctx: live_values(ui, session, actor, ctx)
    ui.entry_form_values = form_values

    def save(submit: bool) -> Any:
        def handler(
            picked: Any,
            title: str,
            logline: str,
            credits: str,
            poster: Any,
            film: Any,
            source: Any,
            request: gr.Request,
        ) -> tuple[Any, ...]:
            slug = required_slug(picked)
            take_id, cut_id = parse_source(source)
            if film and (take_id or cut_id):
                raise gr.Error(
                    "Choose one film: clear the upload or the workspace pick, then try again."
                )
            with ui_action(ui.db, request) as (session, actor):
                ctx = ui.context(session, actor, slug)
                if ctx.view is None:
                    raise NotFound("No such jam.")
                film_id = None
                if film:
                    path = uploaded_file(film, "film")
                    if path.stat().st_size > ctx.view.film_max_bytes:
                        raise gr.Error(
                            f"Films are limited to {ctx.view.film_max_bytes / 1024**2:.0f} MB "
                            "in this jam."
                        )
                    film_id = entries.upload_film(
                        session, actor, slug, path.read_bytes(), storage=ui.generation.storage
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
                        title=title,
                        logline=logline,
                        credits=credits,
                        film_asset_id=film_id,
                        film_take_id=take_id,
                        film_rough_cut_id=cut_id,
                        poster_asset_id=poster_id,
                        submit=submit,
                    ),
                    storage=ui.generation.storage,
                )
                status = saved.status.value
                out = (*live_values(ui, session, actor, ctx), *form_values(session, actor, ctx))
            notify(STATUS_WORDS.get(status, f"Entry {status}."))
            return (None, None, *out)

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
    outputs = [tab.poster, tab.film, *ui.entry_live, *ui.entry_form]
    tab.save.click(save(False), inputs, outputs, api_name="save_entry")
    tab.submit.click(save(True), inputs, outputs, api_name="submit_entry")

    def withdraw(picked: Any, request: gr.Request) -> tuple[Any, ...]:
        slug = required_slug(picked)
        with ui_action(ui.db, request) as (session, actor):
            entries.withdraw_entry(session, actor, slug)
            ctx = ui.context(session, actor, slug)
            if ctx.view is None:
                raise NotFound("No such jam.")
            still = render.after_withdrawal(ctx.view, plain=True)
            out = live_values(ui, session, actor, ctx)
        notify(still)
        return out

    tab.withdraw.click(
        withdraw,
        [ui.picker],
        ui.entry_live,
        api_name="withdraw_entry",
        js=render.confirm_js(WITHDRAW_QUESTION),
        show_progress="hidden",  # a cancelled confirm() would mark the outputs "Error"
    )
