"""The live parts of the Projects page, and the poll that keeps them current.

Every 2 s, while the tab is visible, the page asks a plain HTTP route, not a
Gradio event, what changed: `GET /ui/projects/<id>/changes?shot=&take=&have=`
(ui/live_routes.py). `have` is the poll part's token (`#proj-poll`): one short
stamp per live part, of the inputs that part was rendered from (the project's
change stamp, `projects.changes`, and the picked shot and take). The route reads
the stamp (one small query), renders the HTML parts whose stamp moved and
answers them with the new token; the page's script swaps them in. Only the two
parts that are Gradio components and not HTML (the take picker's choices, the
take tools' visibility) need Gradio: the answer then asks for `refresh_project`,
a Gradio event that renders those two.

The stamps, the token, the script and the HTML parts' marks are ui/live_poll.py.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import gradio as gr

from studio.accounts import service as accounts
from studio.accounts.access import Actor
from studio.db.session import Database
from studio.generation.context import Generation
from studio.projects import access, activity, changes, review, roughcut, storyboard, takes
from studio.projects import service as projects
from studio.projects.models import Project
from studio.ui import live_poll
from studio.ui.live_poll import LiveSource
from studio.ui.media_urls import signing_window
from studio.ui.navigation import NAVIGATION
from studio.ui.pages import project_html as render
from studio.ui.templating import Markup
from studio.ui.templating import render as render_template

# A click (or Enter) on a storyboard card or shot-list row opens that shot.
# Gradio re-renders the HTML inside `element` on every poll; listening on
# `element` itself keeps working.
OPEN_SHOT_JS = """
const open = (event) => {
  if (event.target.closest('video, a, button')) return;
  const row = event.target.closest('[data-shot]');
  if (row && row.dataset.shot) trigger('click', {shot: row.dataset.shot});
};
element.addEventListener('click', open);
element.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(e); });
"""


@dataclass
class ProjectUI:
    """Components shared by the tabs, and the helpers their handlers use."""

    db: Database
    generation: Generation
    url: Callable[[int], str]
    workspace: gr.Dropdown
    project: gr.Dropdown
    shot: gr.Dropdown
    take: gr.Dropdown
    tabs: gr.Tabs
    # The number of the navigation that opened the view on screen (a hidden
    # input, see ui/navigation.py): events the view sets off read it, and send
    # nothing when a newer view was routed since they started.
    view: gr.Number
    # Filled in while the tabs are built.
    live: list[Any] = field(default_factory=list)
    frame: list[Any] = field(default_factory=list)


MD_PUNCTUATION = set("\\`*_{}[]()+-.!|~")
# In the order of ProjectUI.live: header (with the next step), storyboard, shot
# table, take grid, take picker, comments, activity feed, rough cuts, and the
# picked take's tools (picker and rating: shown once the shot has a take), and the
# poll's mark (what the page asks about, and the stamps of what it shows).
PARTS = ("info", "board", "table", "grid", "take", "comments", "feed", "cuts", "tools", "poll")
# The parts that are HTML (the route renders them; the page's script swaps them
# in), each with the element id the script finds it by.
HTML_PARTS: dict[str, str] = {
    "info": "proj-info",
    "board": "proj-storyboard",
    "table": "shot-table",
    "grid": "shot-takes",
    "comments": "shot-comments",
    "feed": "proj-activity",
    "cuts": "proj-cut-player",
}
# Gradio components that are not HTML: a render (`refresh_project`) sends them.
GRADIO_PARTS = ("take", "tools")
STAMPED = (*HTML_PARTS, *GRADIO_PARTS)  # the parts the poll part's token covers
# What each part shows: the stamp fields (projects.changes.ProjectStamp), the
# picked shot and take, and `urls` (the signed media URLs' window: their
# HTML changes every few minutes so that links never expire on an idle page).
# The feed's newest line (`activity`) moves on every edit anywhere in the
# project; the open shot's parts follow their own stamps instead, so a take
# finishing on another shot leaves them (and their players) alone.
DEPENDS: dict[str, frozenset[str]] = {
    "info": frozenset({"project", "activity"}),
    "board": frozenset({"activity", "jobs", "urls"}),
    "table": frozenset({"activity"}),
    # `archived`: archiving the project disables the cards' actions.
    "grid": frozenset({"archived", "shot_jobs", "takes", "urls", "shot", "take"}),
    # Not "jobs": take labels are fixed when the take is made, and re-sending the
    # picker on every progress report would close it under the user's pointer.
    "take": frozenset({"takes", "shot", "take"}),
    "comments": frozenset({"activity", "comments", "shot"}),
    "feed": frozenset({"activity"}),
    "cuts": frozenset({"activity", "cut_jobs", "urls"}),
    "tools": frozenset({"takes", "shot"}),
}
POLL_SECONDS = 2
POLL_JS = live_poll.poll_js(HTML_PARTS, POLL_SECONDS)
# Renders read and never write; each runs in its own transaction on its own
# pooled connection (db/session.POOL_SIZE + POOL_OVERFLOW = 30), so they may run
# side by side instead of one at a time for the whole server (Gradio's default).
# Few at once: a render is mostly Python, and more threads than cores only
# contend for the GIL with the event loop that serves every other request.
POLL_CONCURRENCY = 4
PAGE = "projects"  # its name in addresses and ui/navigation
NO_SHOT = '<div class="empty-state">Open a shot from the storyboard or the shot list.</div>'
NO_PROJECT = '<div class="empty-state">Pick or create a project.</div>'


def look(
    session: Any,
    actor: Actor,
    ttl: int,
    project_id: int | None,
    shot_id: int | None,
    take_id: int | None,
) -> dict[str, Any]:
    """What the live parts depend on right now (cheap: one stamp query)."""
    seen: dict[str, Any] = {"project_id": project_id, "shot": shot_id, "take": take_id}
    if project_id is None:
        return seen
    stamp = changes.project_stamp(session, actor, project_id, shot_id)
    seen.update(
        project=stamp.project,
        archived=stamp.archived_at,
        activity=stamp.activity,
        jobs=stamp.jobs,
        shot_jobs=stamp.shot_jobs,
        cut_jobs=stamp.cut_jobs,
        takes=stamp.takes,
        comments=stamp.comments,
        urls=signing_window(ttl, spread=actor.user_id * 7919 + project_id),
    )
    return seen


def part_stamps(seen: dict[str, Any]) -> dict[str, str]:
    """Each stamped part's stamp (a change of project changes them all)."""
    return live_poll.part_stamps(seen, DEPENDS, always=("project_id",))


def token(stamps: dict[str, str], shown: Collection[str] = STAMPED) -> str:
    return live_poll.token(stamps, STAMPED, shown)


def live_parts(
    ui: LiveSource,
    session: Any,
    actor: Actor,
    project_id: int | None,
    shot_id: int | None,
    take_id: int | None,
    wanted: Collection[str] = PARTS,
) -> dict[str, Any]:
    """The wanted parts, reading only what they need, for a Gradio event (HTML
    parts with a render number; see the module's docstring)."""
    seen = None
    if "poll" in wanted and project_id is not None:
        # The stamp before the parts: a change in between is then sent again by
        # the next tick, never missed.
        ttl = ui.generation.settings.media_url_ttl_seconds
        seen = look(session, actor, ttl, project_id, shot_id, take_id)
    parts = _render(ui, session, actor, project_id, shot_id, take_id, wanted)
    render = live_poll.next_render()
    out: dict[str, Any] = {
        part: live_poll.marked(value, render) if part in HTML_PARTS else value
        for part, value in parts.items()
    }
    if "poll" in wanted:
        out["poll"] = (
            poll_mark(project_id, shot_id, take_id, token(part_stamps(seen), wanted))
            if project_id is not None and seen is not None
            else ""
        )
    return out


def changes_since(
    ui: LiveSource,
    session: Any,
    actor: Actor,
    project_id: int,
    shot_id: int | None,
    take_id: int | None,
    have: str | None,
) -> dict[str, Any]:
    """The poll route's answer: the HTML parts whose stamp moved since `have`,
    the new token, and whether the Gradio parts need a render."""
    ttl = ui.generation.settings.media_url_ttl_seconds
    return live_poll.answer(
        part_stamps(look(session, actor, ttl, project_id, shot_id, take_id)),
        have,
        HTML_PARTS,
        GRADIO_PARTS,
        lambda wanted: _render(ui, session, actor, project_id, shot_id, take_id, wanted),
    )


def _render(
    ui: LiveSource,
    session: Any,
    actor: Actor,
    project_id: int | None,
    shot_id: int | None,
    take_id: int | None,
    wanted: Collection[str],
) -> dict[str, Any]:
    """The wanted parts but the poll mark: HTML text, or Gradio updates."""
    wanted = set(wanted) - {"poll"}
    if project_id is None:
        empty = {"info": "", "grid": "", "take": gr.update(choices=[], value=None)}
        empty |= {"comments": "", "tools": gr.update(visible=False)}
        return {part: empty.get(part, NO_PROJECT) for part in wanted}
    # The access check, whichever parts are wanted (raises for a stranger).
    project = projects.get_project(session, actor, project_id)
    out: dict[str, Any] = {}
    shot_parts = {"grid", "take", "tools", "comments"} & wanted
    cards = (
        storyboard.storyboard(session, actor, project_id)
        if {"info", "board", "table"} & wanted
        else None
    )
    shots = (
        projects.list_shots(session, actor, project_id)
        if {"info", "table"} & wanted or (shot_parts and shot_id is not None)
        else []
    )
    if shot_id is not None and shot_id not in {s.id for s in shots}:
        shot_id = None
    if "info" in wanted:
        out["info"] = str(header(project, len(shots), cards or []))
    if "board" in wanted:
        out["board"] = str(render.board(cards or [], ui.url))
    if "table" in wanted:
        names = {
            m.user_id: m.display_name
            for m in accounts.list_members(session, actor, project.workspace_id)
        }
        out["table"] = str(render.shot_table(shots, {c.shot_id: c for c in cards or []}, names))
    if {"grid", "take", "tools"} & wanted:
        take_views = takes.list_takes(session, actor, shot_id) if shot_id else []
        selected = next((s.selected_take_id for s in shots if s.id == shot_id), None)
        if take_id not in {tv.take.id for tv in take_views}:
            take_id = take_views[0].take.id if take_views else None
        if "grid" in wanted:
            editor = bool(take_views) and access.can_edit(session, actor, project_id)
            actions = {
                tv.take.id: takes.card_actions(
                    tv,
                    circled=tv.take.id == selected,
                    can_edit=editor,
                    registry=ui.generation.registry,
                )
                for tv in take_views
            }
            out["grid"] = (
                str(
                    render.take_grid(
                        take_views,
                        selected,
                        take_id,
                        ui.url,
                        render.shot_href(project_id, shot_id),
                        actions,
                    )
                )
                if shot_id
                else NO_SHOT
            )
        if "take" in wanted:
            out["take"] = gr.update(choices=take_choices(take_views, selected), value=take_id)
        if "tools" in wanted:
            out["tools"] = gr.update(visible=bool(take_views))
    if "comments" in wanted:
        thread = review.list_comments(session, actor, shot_id) if shot_id else []
        out["comments"] = (
            str(
                render.comments(thread, {c.code: render.shot_href(project_id, c.id) for c in shots})
            )
            if shot_id
            else ""
        )
    if "feed" in wanted:
        out["feed"] = str(render.feed(activity.feed(session, actor, project_id, limit=60)))
    if "cuts" in wanted:
        recent = roughcut.recent_cuts(session, actor, project_id, limit=10)
        versions = [cut for cut, _ in recent]
        out["cuts"] = str(render.cuts(versions, {cut.public_id: v for cut, v in recent}, ui.url))
    return out


def live_values(
    ui: ProjectUI,
    session: Any,
    actor: Actor,
    project_id: int | None,
    shot_id: int | None,
    take_id: int | None,
) -> tuple[Any, ...]:
    """Every live part, in the order of `ui.live` (for handlers that change things)."""
    parts = live_parts(ui, session, actor, project_id, shot_id, take_id)
    return tuple(parts[part] for part in PARTS)


# What opening another shot (or take) changes; the project's parts stay as they are.
SHOT_PARTS = frozenset({"grid", "take", "tools", "comments", "poll"})


def shot_values(
    ui: ProjectUI,
    session: Any,
    actor: Actor,
    project_id: int | None,
    shot_id: int | None,
    take_id: int | None,
) -> tuple[Any, ...]:
    """The live parts in the order of `ui.live` after the picked shot moved: the
    shot's parts, skips for the project's (the poll part's token marks those
    unknown, so the next poll sends any that moved meanwhile). Without a project,
    skips only: the shot picker's change event can read the project picker before
    a page's first view reached it, and must not blank the view that is arriving."""
    if project_id is None:
        return tuple(gr.skip() for _ in PARTS)
    parts = live_parts(ui, session, actor, project_id, shot_id, take_id, SHOT_PARTS)
    return tuple(parts.get(part, gr.skip()) for part in PARTS)


def poll_address(project_id: int, shot_id: int | None, take_id: int | None) -> str:
    """What the page asks every POLL_SECONDS (ui/live_routes.py answers)."""
    query = urlencode({k: v for k, v in (("shot", shot_id), ("take", take_id)) if v is not None})
    return f"/ui/projects/{project_id}/changes" + (f"?{query}" if query else "")


def poll_mark(project_id: int, shot_id: int | None, take_id: int | None, have: str) -> str:
    """The poll part: the address to ask and the token of what the page shows."""
    return live_poll.mark(poll_address(project_id, shot_id, take_id), have)


def poll_handler(ui: ProjectUI) -> Callable[..., dict[Any, Any]]:
    """The Gradio render the poll asks for: the take picker and the take tools."""
    from studio.ui.actions import ui_action
    from studio.ui.widgets import optional_id

    outputs = {part: ui.live[PARTS.index(part)] for part in GRADIO_PARTS}

    def poll(
        picked_project: Any,
        picked_shot: Any,
        picked_take: Any,
        view: Any,
        request: gr.Request,
    ) -> dict[Any, Any]:
        project_id = optional_id(picked_project, "project")
        shot_id = optional_id(picked_shot, "shot")
        take_id = optional_id(picked_take, "take")
        with ui_action(ui.db, request) as (session, actor):
            parts = _render(ui, session, actor, project_id, shot_id, take_id, GRADIO_PARTS)
        if NAVIGATION.superseded(request, PAGE, view):
            return {component: gr.skip() for component in outputs.values()}
        return {outputs[part]: value for part, value in parts.items()}

    return poll


def header(project: Project, shot_count: int, cards: list[storyboard.Card]) -> Markup:
    """The project's header: title, logline, format, and the next step."""
    return render_template(
        "pages/project_header.html",
        project=project,
        shot_count=shot_count,
        next_step=next_step(cards),
    )


def md(text: str) -> str:
    """User text inside Markdown: HTML escaped, Markdown punctuation made literal."""
    escaped = html.escape(text, quote=False)
    return "".join("\\" + c if c in MD_PUNCTUATION else c for c in escaped)


def next_step(cards: list[storyboard.Card]) -> str:
    """The one obvious thing to do next on this project (plain text)."""
    if not cards:
        return "add the first shot in the Shot list tab."
    untaken = next((c for c in cards if c.takes == 0), None)
    if untaken is not None:
        return (
            f"generate a take for {untaken.code}: click its card on the "
            "storyboard, then Generate take."
        )
    uncircled = next((c for c in cards if c.selected_take_id is None), None)
    if uncircled is not None:
        return f"circle a take for {uncircled.code}."
    return "every shot has a circled take: render the rough cut."


def take_choices(views: list[takes.TakeView], selected: int | None) -> list[tuple[str, int]]:
    out = []
    for tv in views:
        label = f"Take {tv.take.number}"
        if tv.job is not None:
            label += f" · seed {tv.job.params.get('seed')} · {tv.job.model_key}"
        else:
            label += " · uploaded"
        if tv.take.id == selected:
            label += " · circled"
        out.append((label, tv.take.id))
    return out
