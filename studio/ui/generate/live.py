"""The Generate page's live parts (the queue, the recent takes) and their poll.

Every 2 s while the tab is visible the page asks
`GET /ui/generate/changes?workspace=<id>&have=<token>` (ui/live_routes.py),
which reads the workspace's job stamp (`generation.changes.queue_stamp`, one
statement) and answers the HTML of the parts whose stamp moved; the page swaps
them in (ui/live_poll.py). The two pickers that list jobs (cancel, take) are
Gradio dropdowns: when their jobs moved the answer asks for `poll` (handlers),
a Gradio event that sends their choices. It was a Gradio timer event every
second, rendering everything whether or not anything had moved: ~40 ms of the
web process per open page per second.
"""

from __future__ import annotations

import time
from typing import Any

import gradio as gr

from studio.accounts.access import Actor
from studio.generation import changes
from studio.generation import registry as reg
from studio.generation import service as jobs
from studio.generation.models import JobStatus
from studio.ui import live_poll
from studio.ui.generate import render
from studio.ui.live_poll import LiveSource
from studio.ui.media_urls import signing_window

# The HTML parts, with their elements' ids.
HTML_PARTS = {"queue": "gen-queue", "history": "gen-history"}
GRADIO_PARTS = ("cancel", "takes")
ORDER = (*HTML_PARTS, *GRADIO_PARTS)
DEPENDS: dict[str, frozenset[str]] = {
    # `waiting`: a queued job's line says why it waits and when it may start,
    # which moves with the farm and the clock, not with this workspace.
    "queue": frozenset({"active", "waiting"}),
    "history": frozenset({"done", "urls"}),
    "cancel": frozenset({"ids"}),
    "takes": frozenset({"done"}),
}
POLL_SECONDS = 2
POLL_JS = live_poll.poll_js(HTML_PARTS, POLL_SECONDS)
WAIT_REFRESH_SECONDS = 10  # a waiting job's ETA is re-sent at least this often


def look(session: Any, actor: Actor, ttl: int, workspace_id: int) -> dict[str, Any]:
    """What the live parts depend on right now (one statement after the access check)."""
    stamp = changes.queue_stamp(session, actor, workspace_id, reg.MODES)
    waiting = (stamp.snapshot, int(time.time() // WAIT_REFRESH_SECONDS)) if stamp.waiting else None
    return {
        "workspace": workspace_id,
        "active": stamp.active,
        "ids": stamp.ids,
        "waiting": waiting,
        "done": stamp.done,
        "urls": signing_window(ttl, spread=actor.user_id * 7919 + workspace_id),
    }


def address(workspace_id: int) -> str:
    return f"/ui/generate/changes?workspace={workspace_id}"


def poll_mark(workspace_id: int | None) -> str:
    """The poll part for a workspace: its address, and a token that knows nothing
    (the first tick sends every part; the page skips those it shows already)."""
    if workspace_id is None:
        return ""
    return live_poll.mark(address(workspace_id), live_poll.token({}, ORDER, ()))


def parts(
    source: LiveSource,
    session: Any,
    actor: Actor,
    workspace_id: int | None,
    wanted: tuple[str, ...] = ORDER,
) -> dict[str, Any]:
    """The wanted parts: HTML text (unmarked), or Gradio updates."""
    active: list[jobs.JobView] = []
    done: list[jobs.JobView] = []
    if workspace_id is not None:
        if {"queue", "cancel"} & set(wanted):
            active = jobs.list_jobs(session, actor, workspace_id, active=True, limit=40)
        if {"history", "takes"} & set(wanted):
            done = jobs.list_jobs(
                session,
                actor,
                workspace_id,
                active=False,
                modes=reg.MODES,  # takes only: no rough cuts
                limit=render.HISTORY_SIZE,
            )
    out: dict[str, Any] = {}
    if "queue" in wanted:
        out["queue"] = str(render.queue_html(active))
    if "cancel" in wanted:
        out["cancel"] = gr.update(choices=[(render.label(v), v.public_id) for v in active])
    if "history" in wanted:
        out["history"] = str(render.history_html(done, source.url))
    if "takes" in wanted:
        succeeded = [v for v in done if v.status == JobStatus.SUCCEEDED]
        out["takes"] = gr.update(choices=[(render.label(v), v.public_id) for v in succeeded])
    return out


def changes_since(
    source: LiveSource, session: Any, actor: Actor, workspace_id: int, have: str | None
) -> dict[str, Any]:
    """The poll route's answer: the HTML parts whose stamp moved since `have`,
    the new token, and whether the pickers need a Gradio render."""
    ttl = source.generation.settings.media_url_ttl_seconds
    return live_poll.answer(
        live_poll.part_stamps(look(session, actor, ttl, workspace_id), DEPENDS),
        have,
        HTML_PARTS,
        GRADIO_PARTS,
        lambda wanted: parts(source, session, actor, workspace_id, tuple(wanted)),
    )
