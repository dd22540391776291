"""The live parts of the Projects page, and the poll that keeps them current.

Every 2 s, while the tab is visible, the page asks a plain HTTP route, not a
Gradio event, whether what it shows changed: `GET /ui/projects/<id>/changes
?shot=&take=` (ui/live_routes.py) reads the project's change stamp
(`projects.changes`, one small query) and answers with its fingerprint. The
poll part (`#proj-poll`, rendered with the other parts) names that address and
the fingerprint of what was rendered; only when the two differ does the page
fire the poll part's click event (`refresh_project`), which reads and renders
the parts whose inputs moved since this browser session was last sent them (a
`gr.State`) and skips the others. An idle page costs one small request every
2 s and nothing of Gradio's queue: a Gradio event per tick cost ~50 ms of the
web process's CPU (bench/ui_load.py), and the team's 50 open pages queued
behind each other.
"""

from __future__ import annotations

import hashlib
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
from studio.ui.media_urls import signing_window
from studio.ui.navigation import NAVIGATION
from studio.ui.pages import project_html as render

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
# poll's mark (what the page asks about, and what it was last sent).
PARTS = ("info", "board", "table", "grid", "take", "comments", "feed", "cuts", "tools", "poll")
# What each part shows: the stamp fields (projects.changes.ProjectStamp), the
# picked shot and take, and `urls` (the signed media URLs' window: their
# HTML changes every few minutes so that links never expire on an idle page).
DEPENDS: dict[str, frozenset[str]] = {
    "info": frozenset({"project", "activity"}),
    "board": frozenset({"activity", "jobs", "urls"}),
    "table": frozenset({"activity"}),
    "grid": frozenset({"activity", "shot_jobs", "takes", "urls", "shot", "take"}),
    # Not "jobs": take labels are fixed when the take is made, and re-sending the
    # picker on every progress report would close it under the user's pointer.
    "take": frozenset({"activity", "takes", "shot", "take"}),
    "comments": frozenset({"activity", "comments", "shot"}),
    "feed": frozenset({"activity"}),
    "cuts": frozenset({"activity", "cut_jobs", "urls"}),
    "tools": frozenset({"activity", "takes", "shot"}),
    # Whatever moves, the mark names the new fingerprint.
    "poll": frozenset(
        {"project", "activity", "jobs", "shot_jobs", "cut_jobs", "takes", "comments", "urls"}
        | {"shot", "take"}
    ),
}
POLL_SECONDS = 2
# The poll part's js_on_load: every POLL_SECONDS while the tab is visible, one
# request at a time, ask the mark's address; a different fingerprint fires this
# part's click event (the render). A render asked for is awaited (the mark
# changes) for up to 15 s before asking again.
POLL_JS = (
    """
let busy = false;
let asked = null;
const tick = async () => {
  if (busy || document.visibilityState !== "visible") return;
  const mark = element.querySelector("[data-poll]");
  if (!mark) return;
  const seen = mark.dataset.seen;
  if (asked && asked.seen === seen && Date.now() - asked.at < 15000) return;
  busy = true;
  try {
    const answer = await fetch(mark.dataset.poll, { cache: "no-store" });
    if (answer.ok && (await answer.json()).seen !== seen) {
      asked = { seen, at: Date.now() };
      trigger("click", {});
    }
  } catch (error) {
    // offline for a moment: the next tick asks again
  } finally {
    busy = false;
  }
};
setInterval(tick, """
    + str(POLL_SECONDS * 1000)
    + """);
document.addEventListener("visibilitychange", tick);
"""
)
# Polls read and never write; each runs in its own transaction on its own pooled
# connection (db/session.POOL_SIZE + POOL_OVERFLOW = 30), so they may run side
# by side instead of one at a time for the whole server (Gradio's default).
# Few at once: a poll is mostly Python (Gradio's plumbing, the render), and
# more threads than cores only contend for the GIL with the event loop that
# serves every other request (bench/ui_load.py: 16 made other events slower).
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
        activity=stamp.activity,
        jobs=stamp.jobs,
        shot_jobs=stamp.shot_jobs,
        cut_jobs=stamp.cut_jobs,
        takes=stamp.takes,
        comments=stamp.comments,
        urls=signing_window(ttl, spread=actor.user_id * 7919 + project_id),
    )
    return seen


def changed_parts(before: dict[str, Any] | None, now: dict[str, Any]) -> list[str]:
    """The parts to render again, given what the session was last sent."""
    if not before or before.get("project_id") != now["project_id"]:
        return list(PARTS)
    moved = {key for key, value in now.items() if before.get(key) != value}
    return [part for part in PARTS if DEPENDS[part] & moved]


def live_parts(
    ui: ProjectUI,
    session: Any,
    actor: Actor,
    project_id: int | None,
    shot_id: int | None,
    take_id: int | None,
    wanted: Collection[str] = PARTS,
    seen: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The wanted parts, reading only what they need. `seen`: what `look` gave for
    these ids, when the caller has it (the poll part's fingerprint)."""
    if project_id is None:
        empty = {"info": "", "grid": "", "take": gr.update(choices=[], value=None)}
        empty |= {"comments": "", "tools": gr.update(visible=False), "poll": ""}
        return {part: empty.get(part, NO_PROJECT) for part in wanted}
    out: dict[str, Any] = {}
    if "poll" in wanted:
        if seen is None:
            ttl = ui.generation.settings.media_url_ttl_seconds
            seen = look(session, actor, ttl, project_id, shot_id, take_id)
        out["poll"] = poll_mark(project_id, shot_id, take_id, fingerprint(seen))
    shot_parts = {"grid", "take", "tools", "comments"} & set(wanted)
    cards = (
        storyboard.storyboard(session, actor, project_id)
        if {"info", "board", "table"} & set(wanted)
        else None
    )
    shots = (
        projects.list_shots(session, actor, project_id)
        if {"info", "table"} & set(wanted) or (shot_parts and shot_id is not None)
        else []
    )
    if shot_id is not None and shot_id not in {s.id for s in shots}:
        shot_id = None
    if "info" in wanted:
        project = projects.get_project(session, actor, project_id)
        out["info"] = header(project, len(shots), cards or [])
    if "board" in wanted:
        out["board"] = render.board(cards or [], ui.url)
    if "table" in wanted:
        workspace_id = projects.get_project(session, actor, project_id).workspace_id
        names = {
            m.user_id: m.display_name for m in accounts.list_members(session, actor, workspace_id)
        }
        out["table"] = render.shot_table(shots, {c.shot_id: c for c in cards or []}, names)
    if {"grid", "take", "tools"} & set(wanted):
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
                render.take_grid(
                    take_views,
                    selected,
                    take_id,
                    ui.url,
                    render.shot_href(project_id, shot_id),
                    actions,
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
            render.comments(thread, {c.code: render.shot_href(project_id, c.id) for c in shots})
            if shot_id
            else ""
        )
    if "feed" in wanted:
        out["feed"] = render.feed(activity.feed(session, actor, project_id, limit=60))
    if "cuts" in wanted:
        recent = roughcut.recent_cuts(session, actor, project_id, limit=10)
        versions = [cut for cut, _ in recent]
        out["cuts"] = render.cuts(versions, {cut.public_id: v for cut, v in recent}, ui.url)
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
    shot's parts, skips for the project's. Without a project, skips only: the shot
    picker's change event can read the project picker before a page's first view
    reached it, and must not blank the view that is arriving."""
    if project_id is None:
        return tuple(gr.skip() for _ in PARTS)
    parts = live_parts(ui, session, actor, project_id, shot_id, take_id, SHOT_PARTS)
    return tuple(parts.get(part, gr.skip()) for part in PARTS)


def poll_address(project_id: int, shot_id: int | None, take_id: int | None) -> str:
    """What the page asks every POLL_SECONDS (ui/live_routes.py answers)."""
    query = urlencode({k: v for k, v in (("shot", shot_id), ("take", take_id)) if v is not None})
    return f"/ui/projects/{project_id}/changes" + (f"?{query}" if query else "")


def poll_mark(project_id: int, shot_id: int | None, take_id: int | None, seen: str) -> str:
    """The poll part: the address to ask and the fingerprint of what was rendered."""
    address = html.escape(poll_address(project_id, shot_id, take_id), quote=True)
    return f'<span hidden data-poll="{address}" data-seen="{html.escape(seen)}"></span>'


def fingerprint(seen: dict[str, Any]) -> str:
    """A short text that changes whenever `seen` does (the check's output)."""
    return hashlib.sha256(repr(sorted(seen.items())).encode()).hexdigest()[:16]


def poll_handler(ui: ProjectUI, seen_state: gr.State) -> Callable[..., dict[Any, Any]]:
    """The render: the stamp first; then only the parts that changed, or nothing."""
    from studio.ui.actions import ui_action
    from studio.ui.widgets import optional_id

    ttl = ui.generation.settings.media_url_ttl_seconds

    def poll(
        picked_project: Any,
        picked_shot: Any,
        picked_take: Any,
        before: dict[str, Any] | None,
        view: Any,
        request: gr.Request,
    ) -> dict[Any, Any]:
        project_id = optional_id(picked_project, "project")
        shot_id = optional_id(picked_shot, "shot")
        take_id = optional_id(picked_take, "take")
        with ui_action(ui.db, request) as (session, actor):
            now = look(session, actor, ttl, project_id, shot_id, take_id)
            wanted = changed_parts(before, now)
            if not wanted:
                # Every output skipped (Gradio reads an empty dict as one value).
                return {seen_state: gr.skip()}
            parts = live_parts(ui, session, actor, project_id, shot_id, take_id, wanted, now)
        if NAVIGATION.superseded(request, PAGE, view):
            return {seen_state: gr.skip()}  # Back / Forward opened another view meanwhile
        out: dict[Any, Any] = {ui.live[PARTS.index(part)]: value for part, value in parts.items()}
        out[seen_state] = now
        return out

    return poll


def header(project: Project, shot_count: int, cards: list[storyboard.Card]) -> str:
    return (
        f"**{md(project.title)}**"
        + (f" — {md(project.logline)}" if project.logline else "")
        + f"  \n<small>{project.default_ratio} · {project.default_fps} fps · "
        f"{shot_count} shots"
        + (" · archived (read only until restored)" if project.archived_at else "")
        + "</small>"
        + next_step(cards)
    )


def md(text: str) -> str:
    """User text inside Markdown: HTML escaped, Markdown punctuation made literal."""
    escaped = html.escape(text, quote=False)
    return "".join("\\" + c if c in MD_PUNCTUATION else c for c in escaped)


def next_step(cards: list[storyboard.Card]) -> str:
    """The one obvious thing to do next on this project."""
    if not cards:
        return "  \n**Next:** add the first shot in the Shot list tab."
    untaken = next((c for c in cards if c.takes == 0), None)
    if untaken is not None:
        return (
            f"  \n**Next:** generate a take for {untaken.code}: click its card on the "
            "storyboard, then Generate take."
        )
    uncircled = next((c for c in cards if c.selected_take_id is None), None)
    if uncircled is not None:
        return f"  \n**Next:** circle a take for {uncircled.code}."
    return "  \n**Next:** every shot has a circled take: render the rough cut."


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
