"""The Projects page's 2 s poll, the way a browser session runs it.

Every tick is a plain request, `GET /ui/projects/<id>/changes?shot=&have=` (no
Gradio event): it reads the change stamp, and answers the HTML parts whose
inputs moved since the token `have` (the poll part's, `#proj-poll`) with the
new token; nothing more when nothing moved. The take picker and the take tools
are Gradio components, not HTML: the answer then asks for their render
(`refresh_project`). Renders hide Gradio's progress and run side by side (not
one at a time for the whole server).
"""

from __future__ import annotations

import html
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
from studio.ui.pages.project_live import HTML_PARTS, PARTS, POLL_CONCURRENCY
from tests.conftest import LiveServer
from tests.factories import add_member, call_ui, login, make_user, make_workspace

SKIP = {"__type__": "update"}


def tick(http: httpx.Client, project: int, shot: int | None, have: str | None) -> dict[str, Any]:
    """The page's tick: {"have": token, "parts": {part: html}, "render": bool}."""
    params: dict[str, Any] = {"shot": shot} if shot else {}
    if have is not None:
        params["have"] = have
    answer = http.get(f"/ui/projects/{project}/changes", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body: dict[str, Any] = answer.json()
    return body


def harbour(http: httpx.Client, workspace: int) -> tuple[int, int]:
    """A project "Harbour" with one shot, made through the page: (project, shot)."""
    out = call_ui(http, "create_project", workspace, "Harbour", "", "1280:720", 24, False)
    project: int = out[4]["value"]
    shots = call_ui(
        http, "add_shot", workspace, project, None, None, False, "Wide: the pier", "", None
    )
    shot: int = shots[5]["choices"][0][1]
    return project, shot


def mark(part: Any) -> tuple[str, str]:
    """The poll part as Gradio rendered it: (the address the page asks, its token)."""
    found = re.search(r'data-poll="([^"]+)" data-have="([^"]+)"', str(part))
    assert found, part
    return html.unescape(found.group(1)), found.group(2)


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


def test_a_poll_sends_only_what_changed_and_nothing_when_nothing_did(
    db: Database, http: httpx.Client, live_server: LiveServer
) -> None:
    team = make_workspace(db)
    colleague = make_user(db, "colleague")
    add_member(db, team, colleague, Role.EDITOR)
    login(http, team.owner)
    project, shot = harbour(http, team.id)

    # A page that has nothing yet (a token it cannot read) gets every HTML part,
    # and is asked to render the Gradio parts.
    first = tick(http, project, shot, "not a token")
    assert set(first["parts"]) == set(HTML_PARTS)
    assert "Harbour" in first["parts"]["info"] and "SC01-SH010" in first["parts"]["board"]
    assert first["render"] is True
    # Each part opens with the sum of its content (the page skips what it shows).
    for value in first["parts"].values():
        assert re.match(r"<!--part:[0-9a-f]{12}-->", value), value

    server_db: Database = live_server.app.state.db
    with statements(server_db) as idle:
        quiet = tick(http, project, shot, first["have"])
    assert quiet == {"have": first["have"], "parts": {}, "render": False}
    assert any("max(activities.id)" in sql for sql in idle), idle
    shown_columns = ("shots.description", "activities.summary", "comments.body")
    assert not [s for s in idle if any(column in s for column in shown_columns)], idle
    assert len(idle) <= 6, idle  # the caller, the access check, the stamp

    # A colleague renames the project: only the header is sent.
    with db.session_scope() as s:
        actor = Actor(user=accounts.get_user(s, colleague.id))  # type: ignore[arg-type]
        projects.update_project(s, actor, project, title="Harbour Lights")
    renamed = tick(http, project, shot, first["have"])
    assert set(renamed["parts"]) == {"info"} and not renamed["render"]
    assert "Harbour Lights" in renamed["parts"]["info"]

    # A colleague comments on the open shot: its thread and the project's parts
    # that show the feed follow; the take grid and the take picker do not.
    with db.session_scope() as s:
        actor = Actor(user=accounts.get_user(s, colleague.id))  # type: ignore[arg-type]
        review.add_comment(s, actor, shot, "The pier needs fog")
    commented = tick(http, project, shot, renamed["have"])
    assert "The pier needs fog" in commented["parts"]["comments"]
    assert "The pier needs fog" in commented["parts"]["feed"]
    assert "grid" not in commented["parts"] and not commented["render"]

    # Opening another shot re-sends that shot's parts only (and its picker).
    other = call_ui(
        http, "add_shot", team.id, project, None, None, False, "Close: a rope", "", None
    )
    second_shot = other[5]["choices"][1][1]
    settled = tick(http, project, shot, commented["have"])
    moved = tick(http, project, second_shot, settled["have"])
    assert set(moved["parts"]) == {"grid", "comments"} and moved["render"]
    assert "The pier needs fog" not in moved["parts"]["comments"]


def test_gradio_renders_mark_what_they_sent_and_the_poll_sends_the_rest(
    db: Database, http: httpx.Client
) -> None:
    """An event that renders some parts (opening a shot) names those parts'
    stamps in the poll part and leaves the others unknown: the next tick sends
    those. Each Gradio render of a part is numbered apart, so Gradio always
    shows it, even over HTML the poll swapped in since."""
    team = make_workspace(db)
    login(http, team.owner)
    project, shot = harbour(http, team.id)
    loaded = call_ui(http, "load_shot", project, shot, None, None)
    live = dict(zip(PARTS, loaded[-12:-2], strict=True))
    address, have = mark(live["poll"])
    assert address == f"/ui/projects/{project}/changes?shot={shot}"
    after = tick(http, project, shot, have)
    assert set(after["parts"]) == {"info", "board", "table", "feed", "cuts"}, after
    assert not after["render"]
    again = call_ui(http, "load_shot", project, shot, None, None)
    grid, grid_again = live["grid"], dict(zip(PARTS, again[-12:-2], strict=True))["grid"]
    sum_of = re.compile(r"<!--part:([0-9a-f]{12}):(\d+)-->")
    first_mark, second_mark = sum_of.match(grid), sum_of.match(grid_again)
    assert first_mark and second_mark, (grid, grid_again)
    assert first_mark.group(1) == second_mark.group(1)  # the same content...
    assert first_mark.group(2) != second_mark.group(2)  # ...sent as a new value


def test_a_poll_checks_who_is_asking(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    with db.session_scope() as s:
        owner = Actor(user=accounts.get_user(s, team.owner.id))  # type: ignore[arg-type]
        project = projects.create_project(s, owner, workspace_id=team.id, title="Secret").id
    address = f"/ui/projects/{project}/changes"
    signed_out = http.get(address)
    assert signed_out.status_code == 401 and "parts" not in signed_out.json()
    stranger = make_user(db, "stranger")
    login(http, stranger)
    refused = http.get(address)
    assert refused.status_code == 404 and "Secret" not in refused.text
    assert "parts" not in refused.json()
    assert http.get("/ui/projects/0/changes").status_code == 404  # ids at the edge
    assert http.get(f"{address}?shot=x").status_code == 422
    assert http.get(address, params={"have": "f" * 201}).status_code == 422
    login(http, team.owner)
    assert "Secret" in http.get(address).json()["parts"]["info"]
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
    assert polls, "the Jams page has a timer"
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
