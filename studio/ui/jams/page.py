"""The Jams page shell: the jam picker, the tabs (Jams list, Jam, Submit,
Judge, Organize, Results, New jam), the 15 s timer and `route`.

Each tab lives in its own module (overview, entry, judge, organize, setup,
results_tab) and registers its section on the shared JamUI (state.py); the
shell builds them, then wires every event once all sections exist.

Addresses (UI-CONTRACT): `/jams` (the list), `?jam=<slug>` (also an
id), `&tab=<list|jam|submit|judge|organize|results|new>`, `&entry=<id>` (the
view of that entry this person may open: the judge console for its judge,
Submit for its team, the gallery once published, Organize for organizers).
Links in the page's HTML are `<a class="nav-link" href="/jams?...">`.

The 15 s timer stays cheap: its `js=` (scripts.LIVE_JS) says whether the
Jams page is on screen, whether the list's next change (data-changes, server
clock) has come and how many jams the list shows. Hidden: nothing is read.
Shown: only the picked jam's live parts (service.get_jam, not the whole
list), the list only when it is due or a jam appeared, and a fresh sample of
the server's clock (#jam-server-clock) that keeps every countdown on it.

Every handler re-checks who is asking through `ui_action` and the jam
services (any signed-in user can call any handler by its api_name); what a
tab shows is what the services return for that person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.db.session import Database
from studio.errors import NotFound
from studio.generation.context import Generation
from studio.jams import organizing, service
from studio.jams.clock import db_clock
from studio.ui.actions import ui_action
from studio.ui.jams import entry, judge, organize, overview, render, results_tab, setup
from studio.ui.jams.scripts import JAMS_JS, LIVE_JS, address_js
from studio.ui.jams.state import Context, JamUI, slug_of
from studio.ui.media_urls import stable_signer

REFRESH_SECONDS = 15.0
TABS = ("list", "jam", "submit", "judge", "organize", "results", "new")
ENTRY_TABS = {
    organizing.EntryPlace.JUDGE: "judge",
    organizing.EntryPlace.TEAM: "submit",
    organizing.EntryPlace.GALLERY: "results",
    organizing.EntryPlace.ORGANIZER: "organize",
}
NO_ENTRY = "That entry is not one you can open here; this is its jam."
NO_JAM = "No such jam: here is the list of jams."


@dataclass
class JamsPage:
    column: gr.Column
    outputs: list[Any]  # every component `route` and `refresh` may update
    route: Callable[[dict[str, str], gr.Request], dict[Any, Any]]
    refresh: Callable[[gr.Request], dict[Any, Any]]  # the default view


def visible_tabs(ctx: Context, actor: Actor) -> set[str]:
    view = ctx.view
    shown = {"list", "jam"}
    if ctx.team is not None:
        shown.add("submit")
    if view is not None and view.is_judge:
        shown.add("judge")
    if view is not None and view.is_organizer:
        shown.add("organize")
    if view is not None and (view.audience_vote or view.results_published):
        shown.add("results")
    if actor.user.is_admin:
        shown.add("new")
    return shown


def build(db: Database, generation: Generation, media_secret: str) -> JamsPage:
    url = stable_signer(media_secret, generation.settings.media_url_ttl_seconds)
    with gr.Column(elem_id="page-jams") as column:
        notice = gr.HTML("", elem_id="jam-notice", container=False, padding=False)
        with gr.Row(equal_height=True):
            picker = gr.Dropdown(
                label="Jam", choices=[], allow_custom_value=True, scale=4, elem_id="jam-pick"
            )
            refresh_btn = gr.Button(
                "Refresh", size="sm", scale=0, min_width=90, elem_id="jam-refresh"
            )
        with gr.Tabs(elem_id="jam-tabs") as tabs:
            with gr.Tab("Jams", id="list", elem_id="tab-jam-list") as list_tab:
                listing = gr.HTML(elem_id="jam-list", js_on_load=JAMS_JS)
            with gr.Tab("Jam", id="jam", elem_id="tab-jam") as jam_tab:
                jam_controls = overview.build()
            with gr.Tab("Submit", id="submit", elem_id="tab-jam-submit", visible=False) as sub_tab:
                entry_controls = entry.build()
            with gr.Tab("Judge", id="judge", elem_id="tab-jam-judge", visible=False) as judge_tab:
                judge_controls = judge.build()
            with gr.Tab(
                "Organize", id="organize", elem_id="tab-jam-organize", visible=False
            ) as org_tab:
                org_controls = organize.build()
                setup_controls = setup.build_setup()
            with gr.Tab(
                "Results", id="results", elem_id="tab-jam-results", visible=False
            ) as results_t:
                results_controls = results_tab.build()
            with gr.Tab("New jam", id="new", elem_id="tab-jam-new", visible=False) as new_tab:
                create_controls = setup.build_create()
        timer = gr.Timer(REFRESH_SECONDS)
        server_clock = gr.HTML(
            "", elem_id="jam-server-clock", js_on_load=JAMS_JS, container=False, padding=False
        )
        # Set by LIVE_JS for each tick (never shown).
        live_shown = gr.Checkbox(value=True, visible=False)
        live_list_due = gr.Checkbox(value=False, visible=False)
        live_list_rows = gr.Number(value=None, visible=False, precision=0)

    tab_of = {
        "list": list_tab,
        "jam": jam_tab,
        "submit": sub_tab,
        "judge": judge_tab,
        "organize": org_tab,
        "results": results_t,
        "new": new_tab,
    }
    ui = JamUI(db=db, generation=generation, url=url, picker=picker, tabs=tabs)

    def listing_values(_session: Session, actor: Actor, ctx: Context) -> dict[Any, Any]:
        view = ctx.view
        return {
            picker: gr.update(
                choices=[(v.title, v.slug) for v in ctx.views], value=view.slug if view else None
            ),
            listing: render.jam_list(ctx.views, admin=actor.user.is_admin),
        }

    def tab_values(_session: Session, actor: Actor, ctx: Context) -> dict[Any, Any]:
        shown = visible_tabs(ctx, actor)
        return {
            tab: gr.update(visible=key in shown)
            for key, tab in tab_of.items()
            if key not in ("list", "jam")
        }

    ui.add("listing", [picker, listing], listing_values)
    ui.add("tabs", [tab_of[k] for k in TABS if k not in ("list", "jam")], tab_values)
    overview.add_sections(ui, jam_controls)
    entry.add_sections(ui, entry_controls)
    judge.add_sections(ui, judge_controls)
    organize.add_sections(ui, org_controls)
    results_tab.add_sections(ui, results_controls)
    setup.add_sections(ui, setup_controls)

    outputs = [tabs, notice, *ui.outputs()]
    overview.wire(ui, jam_controls)
    entry.wire(ui, entry_controls)
    judge.wire(ui, judge_controls)
    organize.wire(ui, org_controls)
    results_tab.wire(ui, results_controls)
    setup.wire(ui, setup_controls)
    setup.wire_create(ui, create_controls, [notice, *ui.outputs()])

    def view_for(session: Session, actor: Actor, query: dict[str, str]) -> dict[Any, Any]:
        """The view an address names, for this person; what cannot be opened falls
        back to the nearest view that can, with a note saying so."""
        message = ""
        slug = None
        ref = str(query.get("jam") or "").strip()
        if ref:
            try:
                slug = organizing.jam_slug_for(session, ref)
            except NotFound:
                message = NO_JAM
        ctx = ui.context(session, actor, slug)
        selected = "jam" if ctx.view is not None else "list"
        wanted_tab = str(query.get("tab") or "").strip()
        entry_ref = str(query.get("entry") or "").strip()
        if ctx.view is not None and entry_ref:
            try:
                if not entry_ref.isdigit():
                    raise NotFound(NO_ENTRY)
                place = organizing.entry_place(session, actor, ctx.view.slug, int(entry_ref))
                ctx.entry_id = int(entry_ref)
                if place is organizing.EntryPlace.JUDGE:
                    ctx.judge_entry_id = ctx.entry_id
                selected = ENTRY_TABS[place]
            except NotFound:
                message = NO_ENTRY
        elif wanted_tab:
            if wanted_tab in visible_tabs(ctx, actor) and (
                wanted_tab in ("list", "new") or ctx.view
            ):
                selected = wanted_tab
            else:
                message = f"The {wanted_tab} view of this jam is not one you can open."
        return {
            **ui.values(session, actor, ctx),
            tabs: gr.Tabs(selected=selected),
            notice: render.notice(message),
        }

    def route(query: dict[str, str], request: gr.Request) -> dict[Any, Any]:
        try:
            with ui_action(db, request) as (session, actor):
                return view_for(session, actor, query if isinstance(query, dict) else {})
        except gr.Error as exc:
            return {notice: render.notice(str(exc.message))}

    def refresh(request: gr.Request) -> dict[Any, Any]:
        return route({}, request)

    def frame(picked: Any, request: gr.Request) -> dict[Any, Any]:
        slug = slug_of(picked)
        return route({"jam": slug} if slug else {}, request) | {
            tabs: gr.skip()  # stay on the tab being looked at
        }

    def open_jam(picked: Any, request: gr.Request) -> dict[Any, Any]:
        slug = slug_of(picked)
        return route({"jam": slug} if slug else {}, request)

    def clicked(event: gr.EventData, request: gr.Request) -> dict[Any, Any]:
        """A row or link of the page's HTML (static/jams.js sends its address)."""
        data = event._data if isinstance(event._data, dict) else {}
        query = {k: str(v) for k, v in data.items() if k in ("jam", "entry", "tab")}
        return route(query, request)

    def live(
        picked: Any, shown: Any, list_due: Any, list_rows: Any, request: gr.Request
    ) -> dict[Any, Any]:
        """The timer: countdown-bearing parts only (never the form someone is typing
        in), and only what is on screen and may have changed (see LIVE_JS)."""
        slug = slug_of(picked)
        with ui_action(db, request) as (session, actor):
            if not shown:
                # Nothing changes (an empty dict would read as one value, not as none).
                return {server_clock: gr.skip()}
            out: dict[Any, Any] = {server_clock: render.server_clock(db_clock(session))}
            # How many jams the browser's list shows (None: no list on screen).
            rows = list_rows if type(list_rows) is int else None
            if list_due or (rows is not None and rows != service.count_jams(session)):
                views = service.list_jams(session, actor)
                out[listing] = render.jam_list(views, admin=actor.user.is_admin)
            if slug is None:
                return out
            ctx = ui.jam_context(session, actor, slug)
            out.update(overview.page_values(jam_controls, ctx))
            out.update(ui.values(session, actor, ctx, "entry_live"))
            return out

    picker.input(
        open_jam,
        [picker],
        outputs,
        api_name="open_jam",
        show_progress="hidden",
        js=address_js(),
    )
    clickable = [listing, jam_controls.page, jam_controls.team, results_controls.board]
    clickable += [results_controls.gallery, entry_controls.card]
    for html in clickable:
        html.click(clicked, None, outputs, api_visibility="private", show_progress="hidden")
    refresh_btn.click(frame, [picker], outputs, api_name="refresh_jams", show_progress="minimal")
    timer.tick(
        live,
        [picker, live_shown, live_list_due, live_list_rows],
        [listing, jam_controls.page, jam_controls.team, *ui.outputs("entry_live"), server_clock],
        api_name="tick_jam",
        show_progress="hidden",
        js=LIVE_JS,
    )
    # Each tab has its address (the judge console: &tab=judge): static/jams.js pushes
    # it when a person clicks a tab (Gradio's `select` also fires when a handler
    # selects a tab, which must not add a history entry).

    return JamsPage(column=column, outputs=outputs, route=route, refresh=refresh)
