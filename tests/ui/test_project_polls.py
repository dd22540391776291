"""The Projects page's 2 s poll, the way a browser session runs it.

Every tick is a plain request, `GET /ui/projects/<id>/changes?shot=` (no Gradio
event): it reads the change stamp only and answers the fingerprint of what the
view shows. The page compares it with the fingerprint its poll part
(`#proj-poll`) was rendered with; only when they differ does it run the render
(`refresh_project`, Gradio's call protocol with a session of its own, so the
render remembers what this session was last sent), which sends the parts it
touches and skips the others. Renders hide Gradio's progress and run side by
side (not one at a time for the whole server).
"""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event as sa_event

from studio.accounts import service as accounts
from studio.accounts.access import Actor
from studio.accounts.models import Role
from studio.db.session import Database
from studio.projects import review
from studio.projects import service as projects
from studio.ui.app import EVENT_CONCURRENCY
from studio.ui.pages.project_live import PARTS, POLL_CONCURRENCY
from tests.conftest import LiveServer
from tests.factories import add_member, call_ui, login, make_user, make_workspace

SKIP = {"__type__": "update"}


def event(
    http: httpx.Client, api_name: str, session: str, project: int, shot: int | None
) -> list[Any]:
    """One event of browser session `session` (Gradio's call protocol)."""
    data = [project, shot, None] + ([None] if api_name == "refresh_project" else [])  # + view
    start = http.post(f"/gradio_api/call/{api_name}", json={"data": data, "session_hash": session})
    assert start.status_code == 200, start.text
    event_id = start.json()["event_id"]
    kind = ""
    with http.stream("GET", f"/gradio_api/call/{api_name}/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind in {"complete", "error"}:
                assert kind == "complete", line
                return list(json.loads(line[5:]))
    raise AssertionError("no answer")


def check(http: httpx.Client, project: int, shot: int | None) -> str:
    """The page's tick: the fingerprint of what the view shows now."""
    answer = http.get(f"/ui/projects/{project}/changes", params={"shot": shot} if shot else {})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    seen: str = answer.json()["seen"]
    return seen


def mark(part: Any) -> tuple[str, str]:
    """The poll part as rendered: (the address the page asks, the fingerprint it was sent)."""
    found = re.search(r'data-poll="([^"]+)" data-seen="([^"]+)"', str(part))
    assert found, part
    return html.unescape(found.group(1)), found.group(2)


def poll(http: httpx.Client, session: str, project: int, shot: int | None) -> dict[str, Any]:
    """The render the page runs when the fingerprint changed: {part: output}."""
    out = event(http, "refresh_project", session, project, shot)
    return dict(zip(PARTS, out[: len(PARTS)], strict=True))


def skipped(value: Any) -> bool:
    """Gradio's skip: an update that sets nothing (a dropdown's carries empty props)."""
    if not isinstance(value, dict):
        return False
    props = {k: v for k, v in value.items() if k != "__type__"}
    return value.get("__type__") == "update" and props in ({}, {"props": SKIP})


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The statements of the thread that read a change stamp (the server also
    runs background threads: the embedded job runner, webhook delivery)."""
    seen: list[tuple[int, str]] = []
    handler: list[str] = []

    def record(*args: Any) -> None:
        seen.append((threading.get_ident(), str(args[2])))

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield handler
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)
        threads = {thread for thread, sql in seen if "max(activities.id)" in sql}
        handler += [sql for thread, sql in seen if thread in threads]


def test_a_poll_renders_only_what_changed_and_nothing_when_nothing_did(
    db: Database, http: httpx.Client, live_server: LiveServer
) -> None:
    team = make_workspace(db)
    colleague = make_user(db, "colleague")
    add_member(db, team, colleague, Role.EDITOR)
    login(http, team.owner)
    out = call_ui(http, "create_project", team.id, "Harbour", "", "1280:720", 24, False)
    project = out[4]["value"]
    shots = call_ui(
        http, "add_shot", team.id, project, None, None, False, "Wide: the pier", "", None
    )
    shot = shots[5]["choices"][0][1]
    session = secrets.token_hex(6)

    first = poll(http, session, project, shot)
    assert "Harbour" in first["info"] and "SC01-SH010" in first["board"]
    assert not any(skipped(value) for value in first.values())
    # The poll part names what the page asks, and the fingerprint it was sent:
    # the same the server answers while nothing changes (else every tick renders).
    address, sent = mark(first["poll"])
    assert address == f"/ui/projects/{project}/changes?shot={shot}"
    assert http.get(address).json()["seen"] == sent

    server_db: Database = live_server.app.state.db
    with statements(server_db) as idle:
        tick = check(http, project, shot)
    assert tick == sent  # the page runs nothing more
    assert any("max(activities.id)" in sql for sql in idle), idle
    shown_columns = ("shots.description", "activities.summary", "comments.body")
    assert not [s for s in idle if any(column in s for column in shown_columns)], idle
    assert len(idle) <= 6, idle  # the caller, the access check, the stamp
    # The render itself, asked anyway, sends nothing either.
    assert all(skipped(value) for value in poll(http, session, project, shot).values())

    # Another browser session (or a reload) gets everything again.
    assert not any(skipped(v) for v in poll(http, secrets.token_hex(6), project, shot).values())

    # A colleague renames the project: only the header is sent.
    with db.session_scope() as s:
        actor = Actor(user=accounts.get_user(s, colleague.id))  # type: ignore[arg-type]
        projects.update_project(s, actor, project, title="Harbour Lights")
    assert check(http, project, shot) != sent
    renamed = poll(http, session, project, shot)
    assert "Harbour Lights" in renamed["info"]
    assert mark(renamed["poll"])[1] == check(http, project, shot)  # the new fingerprint
    assert all(skipped(renamed[part]) for part in PARTS if part not in ("info", "poll")), renamed

    # A colleague comments on the open shot: its thread and the feed follow.
    with db.session_scope() as s:
        actor = Actor(user=accounts.get_user(s, colleague.id))  # type: ignore[arg-type]
        review.add_comment(s, actor, shot, "The pier needs fog")
    commented = poll(http, session, project, shot)
    assert "The pier needs fog" in commented["comments"]
    assert "The pier needs fog" in commented["feed"]
    assert mark(commented["poll"])[1] == check(http, project, shot)

    # Opening another shot re-sends that shot's parts only.
    other = call_ui(
        http, "add_shot", team.id, project, None, None, False, "Close: a rope", "", None
    )
    poll(http, session, project, shot)
    second_shot = other[5]["choices"][1][1]
    moved = poll(http, session, project, second_shot)
    assert not skipped(moved["grid"]) and not skipped(moved["comments"])
    assert "The pier needs fog" not in moved["comments"]
    assert skipped(moved["board"]) and skipped(moved["feed"])


def test_a_poll_checks_who_is_asking(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    with db.session_scope() as s:
        owner = Actor(user=accounts.get_user(s, team.owner.id))  # type: ignore[arg-type]
        project = projects.create_project(s, owner, workspace_id=team.id, title="Secret").id
    address = f"/ui/projects/{project}/changes"
    signed_out = http.get(address)
    assert signed_out.status_code == 401 and "seen" not in signed_out.json()
    stranger = make_user(db, "stranger")
    login(http, stranger)
    refused = http.get(address)
    assert refused.status_code == 404 and "Secret" not in refused.text
    assert "seen" not in refused.json()
    assert http.get("/ui/projects/0/changes").status_code == 404  # ids at the edge
    assert http.get(f"{address}?shot=x").status_code == 422
    login(http, team.owner)
    assert "seen" in http.get(address).json()
    login(http, stranger)
    start = http.post(
        "/gradio_api/call/refresh_project",
        json={"data": [project, None, None, None], "session_hash": secrets.token_hex(6)},
    )
    with http.stream("GET", f"/gradio_api/call/refresh_project/{start.json()['event_id']}") as s:
        body = "".join(s.iter_lines())
    assert "event: error" in body and "Secret" not in body


def test_poll_events_hide_progress_and_run_side_by_side(
    db: Database, http: httpx.Client, live_server: LiveServer
) -> None:
    login(http, make_workspace(db).owner)
    config = http.get("/config").json()
    polls = [dep for dep in config["dependencies"] if any(t[1] == "tick" for t in dep["targets"])]
    assert polls, "the pages have timers (Generate, Jams)"
    renders = [dep for dep in config["dependencies"] if dep["api_name"] == "refresh_project"]
    assert renders
    for dep in polls + renders:
        assert dep["show_progress"] == "hidden", dep
        assert dep["trigger_mode"] in ("once", "always_last"), dep  # never a pile-up
    blocks = next(
        route.app.get_blocks()  # type: ignore[attr-defined]
        for route in live_server.app.routes
        if hasattr(getattr(route, "app", None), "get_blocks")
    )
    poll_fn = next(fn for fn in blocks.fns.values() if fn.api_name == "refresh_project")
    assert poll_fn.concurrency_limit == POLL_CONCURRENCY > 1
    save = next(fn for fn in blocks.fns.values() if fn.api_name == "save_shot")
    assert save.concurrency_limit == "default"  # the queue's, not one at a time for everyone
    assert blocks._queue.default_concurrency_limit == EVENT_CONCURRENCY > 1


def test_the_page_html_leaves_the_api_description_to_programs(
    db: Database, http: httpx.Client
) -> None:
    login(http, make_workspace(db).owner)
    page = http.get("/projects", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert 'window.gradio_api_info = {"named_endpoints": {}, "unnamed_endpoints": {}};' in page.text
    assert "refresh_project" in page.text  # the page's own config still names its events
    info = http.get("/gradio_api/info").json()
    assert "/refresh_project" in info["named_endpoints"]  # gradio_client reads this
