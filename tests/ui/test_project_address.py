"""The addresses of the Projects page, through its `route(query, request)` (as
the app shell calls it on load, on Back / Forward and for a link) and through
the shell's own load handler over HTTP: each shot, take and rough cut opens
for a member; for anyone else, and for ids that do not fit together, the page
opens at its default view with one note that names nothing. A result of a
navigation overtaken by a newer one (Back pressed while a view loads) sends
nothing: neither the route nor the events the older view set off.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from studio.config import Settings
from studio.db.session import Database
from studio.projects import roughcut
from studio.projects import service as projects
from studio.projects.review import CommentView
from studio.ui import addresses
from studio.ui.navigation import Navigation
from studio.ui.pages import project_html
from studio.ui.pages.project_address import NO_ACCESS
from tests.conftest import LiveServer
from tests.factories import UserInfo, login, make_user, make_workspace
from tests.jams.helpers import actor
from tests.ui.named import (
    _names,
    call,
    config,
    input_names,
    output_names,
    untouched,
    value,
)
from tests.ui.pages import Pages, build_pages, request_of
from tests.ui.workspace_team import Team, make_team

TEAM_WORDS = ("Lighthouse", "SC01-SH0", "the rock at dusk", "flare", "Night Shift", "Breakwater")


@pytest.fixture(scope="module")
def team(db: Database, live_server: LiveServer) -> Team:
    return make_team(db, live_server)


@pytest.fixture(scope="module")
def pages(db: Database, settings: Settings) -> Pages:
    return build_pages(db, settings)


def by_id(out: dict[Any, Any]) -> dict[str, Any]:
    """{component: value} -> {elem_id: value}, for the components that have one."""
    return {c.elem_id: got for c, got in out.items() if c.elem_id}


def shown(got: Any) -> Any:
    return got.get("value") if isinstance(got, dict) else got


def opened(pages: Pages, user: UserInfo, **query: Any) -> dict[str, Any]:
    out = by_id(pages.projects.route({k: str(v) for k, v in query.items()}, request_of(user)))
    out["tab"] = out["proj-tabs"].selected
    return out


def names_nothing(out: dict[str, Any]) -> bool:
    text = json.dumps({k: v for k, v in out.items() if k != "proj-tabs"}, default=str)
    return not any(word in text for word in TEAM_WORDS)


def test_a_take_a_shot_and_a_project_open_from_their_addresses(pages: Pages, team: Team) -> None:
    editor = team.editor
    take, shot = team.takes[1], team.shots[1]
    # The take alone names its shot, project and workspace.
    for query in (
        {"take": take},
        {"project": team.project, "shot": shot, "take": take},
        {"ws": team.workspace.slug, "project": team.project, "shot": shot, "take": take},
    ):
        out = opened(pages, editor, view="projects", **query)
        assert out["tab"] == "shot" and out["proj-notice"] == "", query
        assert shown(out["proj-workspace"]) == team.workspace.id
        assert shown(out["proj-project"]) == team.project
        assert shown(out["shot-pick"]) == shot and shown(out["take-pick"]) == take
        assert f'class="take take-card picked" data-take="{take}"' in out["shot-takes"]
    out = opened(pages, editor, shot=team.shots[2])
    assert out["tab"] == "shot" and shown(out["shot-pick"]) == team.shots[2]
    # A project: the storyboard, or the tab the address names.
    out = opened(pages, editor, project=team.empty_project)
    assert out["tab"] == "board" and shown(out["proj-project"]) == team.empty_project
    assert opened(pages, editor, project=team.project, tab="list")["tab"] == "list"
    assert opened(pages, editor, project=team.project, tab="nonsense")["tab"] == "board"
    # A workspace's projects: its first project.
    out = opened(pages, editor, ws=team.workspace.slug)
    assert shown(out["proj-workspace"]) == team.workspace.id and out["proj-notice"] == ""


def test_a_rough_cut_and_an_archived_project_open(
    db: Database, pages: Pages, team: Team, live_server: LiveServer
) -> None:
    owner = team.owner
    with db.session_scope() as session:
        cut = roughcut.request_rough_cut(
            session, actor(session, owner), team.project, pages.generation, missing="slate"
        )
        cut_id = cut.id
        archived = projects.create_project(
            session, actor(session, owner), workspace_id=team.workspace.id, title="Old reel"
        )
        projects.set_archived(session, actor(session, owner), archived.id, True)
        archived_id = archived.id
    out = opened(pages, team.editor, cut=cut_id)
    assert out["tab"] == "cut" and shown(out["proj-project"]) == team.project
    assert f'data-cut="{cut_id}"' in out["proj-cut-player"]
    assert (
        f"/projects?project={team.project}&amp;tab=cut&amp;cut={cut_id}" in (out["proj-cut-player"])
    )
    out = opened(pages, team.editor, project=archived_id)
    assert shown(out["proj-project"]) == archived_id and out["proj-archived"] is True
    # Another project's cut under this project: ids that do not fit together.
    out = opened(pages, team.editor, project=team.empty_project, cut=cut_id)
    assert out["proj-notice"] and NO_ACCESS in out["proj-notice"]


def test_what_a_person_cannot_open_opens_nothing_and_names_nothing(
    db: Database, pages: Pages, team: Team
) -> None:
    stranger = make_user(db, "stranger")
    make_workspace(db, stranger, name="Elsewhere")
    with db.session_scope() as session:
        gone = projects.add_shot(
            session,
            actor(session, team.owner),
            team.project,
            projects.ShotFields(description="Cut from the film"),
        )
        projects.delete_shot(session, actor(session, team.owner), gone.id)
        gone_id = gone.id
    foreign = [
        {"take": team.takes[0]},
        {"shot": team.shots[0]},
        {"project": team.project},
        {"project": team.project, "shot": team.shots[0], "take": team.takes[0]},
        {"ws": team.workspace.slug},
    ]
    for query in foreign:
        out = opened(pages, stranger, **query)
        assert NO_ACCESS in out["proj-notice"], query
        assert out["tab"] == "board" and shown(out["shot-pick"]) is None
        assert names_nothing(out), query
    # For a member too: ids that do not fit together, made-up and deleted ones.
    for query in [
        {"shot": team.shots[0], "take": team.takes[1]},  # a take of another shot
        {"project": team.empty_project, "shot": team.shots[0]},
        {"ws": "elsewhere", "project": team.project},
        {"shot": "12abc"},
        {"take": "0"},
        {"shot": str(2**31)},
        {"project": str(10**9)},
        {"shot": gone_id},
    ]:
        out = opened(pages, team.editor, **query)
        assert NO_ACCESS in out["proj-notice"], query
        assert shown(out["shot-pick"]) is None, query
    # A signed-out request: a note, never an exception.
    out = by_id(
        pages.projects.route({"shot": str(team.shots[0])}, request_of(UserInfo(10**9, "x", "y")))
    )
    assert "session has ended" in out["proj-notice"] and len(out) == 1


def test_the_shell_opens_the_page_an_address_names(
    db: Database, http: httpx.Client, team: Team
) -> None:
    """Each page's load event (`open_<page>`), as the browser sends it: location.search.
    A page's load opens only that page (each page is its own Gradio page)."""
    login(http, team.editor)
    out = call(http, "open_projects", studio_address=f"?take={team.takes[0]}")
    assert out["shot-pick"]["value"] == team.shots[0]
    assert out["take-pick"]["value"] == team.takes[0]
    assert out["proj-tabs"]["selected"] == "shot"
    assert "ws-picker" not in out and "jam-notice" not in out
    out = call(http, "open_workspaces", studio_address=f"?ws={team.workspace.slug}")
    assert team.workspace.slug in json.dumps(out["ws-picker"])
    out = call(http, "open_jams", studio_address="?jam=no-such-jam")
    assert "No such jam" in json.dumps(out["jam-notice"])
    # Someone else's take: nothing of it.
    stranger = make_user(db, "outsider")
    with httpx.Client(base_url=str(http.base_url), timeout=30) as other:
        login(other, stranger)
        out = call(other, "open_projects", studio_address=f"?take={team.takes[0]}")
    assert "Not found or no access" in json.dumps(out["proj-notice"])
    # (the jams page lists public jams, which other tests on this database may name alike)
    private = {k: v for k, v in out.items() if not k.startswith("jam")}
    assert not any(word in json.dumps(private) for word in TEAM_WORDS)


def in_session(http: httpx.Client, session: str, api_name: str, **inputs: Any) -> dict[str, Any]:
    """An event of browser session `session` (Gradio's call protocol, as the page
    sends it), inputs and outputs by elem_id."""
    wanted = {k.replace("_", "-"): v for k, v in inputs.items()}
    order = input_names(http, api_name)
    assert set(wanted) <= set(order), (api_name, order)
    start = http.post(
        f"/gradio_api/call/{api_name}",
        json={"data": [wanted.get(name) for name in order], "session_hash": session},
    )
    assert start.status_code == 200, start.text
    kind = ""
    with http.stream("GET", f"/gradio_api/call/{api_name}/{start.json()['event_id']}") as s:
        for line in s.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind in {"complete", "error"}:
                assert kind == "complete", line
                values = json.loads(line[5:])
                return dict(zip(output_names(http, api_name), values, strict=False))
    raise AssertionError("no answer")


def test_a_result_overtaken_by_a_newer_navigation_sends_nothing(
    http: httpx.Client, team: Team
) -> None:
    """ui/navigation.py: static/nav.js counts a session's navigations; the server
    drops a route older than one it has seen, and the events a view set off
    (the shot form, Compare, the poll) once a newer view of the page was sent."""
    login(http, team.editor)
    names = _names(config(http))
    (navigate,) = [  # the Projects page's navigate event
        dep["api_name"]
        for dep in config(http)["dependencies"]
        if [names[i] for i in dep["inputs"]] == ["studio-address", "studio-nav-seq"]
        and "proj-view" in [names[i] for i in dep["outputs"]]
    ]
    session = secrets.token_hex(6)
    a, b = team.shots[0], team.shots[1]
    out = in_session(http, session, "open_projects", studio_address=f"?shot={a}")
    assert value(out, "shot-pick") == a and out["proj-view"] == 0
    # Back pressed twice: navigation 2 (shot B) is served first, then 1 (shot A).
    out = in_session(http, session, navigate, studio_address=f"?shot={b}", studio_nav_seq=2)
    assert value(out, "shot-pick") == b and out["proj-view"] == 2
    assert out["proj-tabs"]["selected"] == "shot"
    late = in_session(http, session, navigate, studio_address=f"?shot={a}", studio_nav_seq=1)
    assert untouched(late, *late)
    # View A's shot form (and Compare, and a poll) finishing now: nothing of A.
    view_a = {"proj_project": team.project, "shot_pick": a, "proj_view": 0}
    for api_name in ("load_shot", "compare_newest_takes", "refresh_project"):
        inputs = {
            k: v for k, v in view_a.items() if k.replace("_", "-") in input_names(http, api_name)
        }
        stale = in_session(http, session, api_name, **inputs)
        shown_parts = [name for name in stale if not name.startswith("#")]  # not the poll's State
        assert shown_parts and untouched(stale, *shown_parts), api_name
    # View B's own form loads.
    view_b = {"proj_project": team.project, "shot_pick": b, "proj_view": 2}
    assert "SC01-SH020" in value(in_session(http, session, "load_shot", **view_b), "shot-header")
    # Another browser session keeps its own count: never held back by this one.
    other = in_session(http, secrets.token_hex(6), "load_shot", **view_a)
    assert "SC01-SH010" in value(other, "shot-header")


def test_navigation_numbers_are_kept_per_person_and_session() -> None:
    nav = Navigation(limit=2)
    mine = SimpleNamespace(username="user:1", session_hash="s1")
    same_session_other_user = SimpleNamespace(username="user:2", session_hash="s1")
    assert nav.begin(mine, 5) and nav.finish(mine, 5, "projects")
    assert not nav.begin(mine, 4)  # older than one already seen
    assert nav.begin(mine, 5)  # the same one again (a deferred rerun) is served
    assert nav.superseded(mine, "projects", 4) and not nav.superseded(mine, "projects", 5)
    assert not nav.superseded(mine, "workspaces", 0)  # per page
    assert nav.begin(mine, 6) and not nav.finish(mine, 5, "projects")  # overtaken meanwhile
    # Another person cannot hold this session back, nor be held back by it.
    assert nav.begin(same_session_other_user, 0)
    assert not nav.superseded(same_session_other_user, "projects", 0)
    # A made-up number counts as 0, the oldest; requests without a session (API
    # calls) are never held back.
    assert nav.superseded(mine, "projects", "nonsense") and nav.superseded(mine, "projects", -3)
    api = SimpleNamespace(username="user:1", session_hash=None)
    assert nav.begin(api, 0) and nav.finish(api, 0, "projects")
    assert not nav.superseded(api, "projects", 0)
    # Bounded: the oldest session is forgotten (its events are then never held back).
    nav.begin(SimpleNamespace(username="user:3", session_hash="s3"), 1)
    assert not nav.superseded(mine, "projects", 0)


def test_addresses_are_read_strictly() -> None:
    assert addresses.parse("?view=projects&shot=3&shot=4&evil=1&take=") == {
        "view": "projects",
        "shot": "3",
    }
    assert addresses.parse("?jam=" + "x" * 5000)["jam"] == "x" * addresses.MAX_VALUE_CHARS
    assert addresses.parse(None) == {}
    assert addresses.page_of({"view": "account"}) == "account"
    assert addresses.page_of({"view": "admin", "jam": "x"}) == "jams"
    assert addresses.page_of({"take": "1"}) == "projects"
    assert addresses.page_of({}) == "workspaces"
    # Each page at its own path; addresses of the older one-page form move there.
    assert addresses.href("projects", project=3, shot=None) == "/projects?project=3"
    assert addresses.href("workspaces") == "/"
    moved = addresses.moved_address
    assert moved("/", "view=projects&project=1&shot=2&evil=1") == "/projects?project=1&shot=2"
    assert moved("/", "page=jams&jam=x") == "/jams?jam=x"
    assert moved("/", "take=5") == "/projects?take=5"
    assert moved("/", "view=workspaces&ws=a") == "/?ws=a"
    assert moved("/", "ws=a") is None and moved("/", "") is None
    assert moved("/jams", "view=projects") is None


def test_shot_codes_in_comments_link_and_the_rest_stays_text() -> None:
    said = CommentView(
        id=1,
        shot_id=1,
        take_id=None,
        take_number=None,
        author_id=1,
        author_name="<b>Mallory</b>",
        body='See SC01-SH020 and SC09-SH990 <script>alert(1)</script> "SC01-SH020"',
        timecode=None,
        status_change=None,
        mentions=[],
        at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    text = project_html.comments([said], {"SC01-SH020": "/projects?project=1&shot=2"})
    link = '<a class="nav-link shot-ref" href="/projects?project=1&amp;shot=2">'
    assert text.count(link + "SC01-SH020</a>") == 2
    assert "SC09-SH990" in text and "SC09-SH990</a>" not in text  # not a shot of this project
    assert "<script>" not in text and "&lt;script&gt;" in text and "<b>Mallory" not in text
