"""The Workspaces home, through its handlers (as any signed-in browser calls
them) and its `route`: projects with posters, recent takes, what needs review
(shots in review, finished takes nobody circled, comments that mention me),
readable activity with links, members, and a first step for someone in no
workspace. Takes are generated for real (the animatic engine, through /v1 and
the app's runner); links are the addresses of UI-CONTRACT.
"""

from __future__ import annotations

import html
import json
import re

import httpx
import pytest

from studio.config import Settings
from studio.db.session import Database
from studio.projects import review
from tests.conftest import LiveServer
from tests.factories import (
    UserInfo,
    login,
    make_user,
    make_workspace,
)
from tests.jams.helpers import actor
from tests.ui.named import call, error, untouched, value, visible
from tests.ui.pages import Pages, build_pages, named, request_of, shown
from tests.ui.workspace_team import Team, make_team


@pytest.fixture(scope="module")
def team(db: Database, live_server: LiveServer) -> Team:
    return make_team(db, live_server)


@pytest.fixture(scope="module")
def pages(db: Database, settings: Settings) -> Pages:
    return build_pages(db, settings)


def links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'<a class="nav-link[^"]*" href="([^"]+)"', page)]


def test_the_home_shows_what_a_team_needs_with_links(
    db: Database, http: httpx.Client, team: Team
) -> None:
    login(http, team.editor)
    out = call(http, "show_workspace", ws_picker=team.workspace.slug)
    home = value(out, "ws-home")
    assert visible(out, "ws-first-step") is False and visible(out, "ws-home") is True
    assert "Night Shift" in value(out, "ws-summary") and "you are <b>editor</b>" in value(
        out, "ws-summary"
    )
    # Projects: a card each, linking to the project; titles escaped.
    assert "The Lighthouse &lt;script&gt;" in home and "<script>" not in home
    project = f"/projects?project={team.project}"
    assert project in links(home) and f"/projects?project={team.empty_project}" in links(home)
    assert "3 shots · 0 approved · 1 in review" in home
    # What needs review, each a link to the shot (or the take a mention is on).
    sh010, sh020, sh030 = (f"{project}&shot={s}" for s in team.shots)
    review_part = home.split('class="ws-projects"')[0]
    assert "Shots in review" in review_part and sh030 in links(review_part)
    awaiting = review_part.split("Takes awaiting a circle")[1].split("Mentions of you")[0]
    assert sh020 in links(awaiting) and "1 finished take" in awaiting
    assert sh010 not in links(awaiting)  # circled
    mentions = review_part.split("Mentions of you")[1]
    assert f"{sh010}&take={team.takes[0]}" in links(mentions)
    assert "Does the flare read at the end?" in mentions
    # Recent takes: newest first, each a link to its take, with model, seed and length.
    recent = home.split('class="ws-takes"')[1].split('class="ws-activity"')[0]
    assert links(recent)[:2] == [
        f"{sh020}&take={team.takes[1]}",
        f"{sh010}&take={team.takes[0]}",
    ]
    assert "animatic · seed" in recent and "succeeded" in recent
    # Activity: readable lines with links, never audit codes.
    activity = home.split('class="ws-activity"')[1]
    assert "circled take 1 of SC01-SH010" in activity and "moved SC01-SH030 to review" in activity
    assert "shot.created" not in home and "shot:" not in home and "take.created" not in home
    assert all(link.startswith("/projects?project=") for link in links(activity))
    # Members, and no management for an editor: the handlers refuse as well.
    assert team.owner.email in value(out, "ws-members")
    assert visible(out, "ws-manage") is False
    refused = call(
        http,
        "add_member",
        ws_picker=team.workspace.slug,
        ws_add_email="someone@studio.example",
        ws_add_role="viewer",
    )
    assert "role" in error(refused, "ws-add-error").lower()
    assert untouched(refused, "ws-add-email", "ws-home", "ws-members")


def test_other_people_see_nothing_of_the_team(db: Database, http: httpx.Client, team: Team) -> None:
    outsider = make_user(db, "outsider")
    own = make_workspace(db, outsider, name="Elsewhere")
    login(http, outsider)
    out = call(http, "show_workspace", ws_picker=team.workspace.slug)
    text = json.dumps(out)
    assert "not a member" in value(out, "ws-notice")
    assert "Lighthouse" not in text and team.editor.email not in text
    assert value(out, "ws-picker") == own.slug  # their own workspace instead
    for name, inputs, line in [
        ("add_member", {"ws_add_email": outsider.email, "ws_add_role": "owner"}, "ws-add-error"),
        (
            "change_role",
            {"ws_member_pick": team.editor.id, "ws_new_role": "viewer"},
            "ws-member-error",
        ),
        ("remove_member", {"ws_member_pick": team.editor.id}, "ws-member-error"),
    ]:
        refused = call(http, name, ws_picker=team.workspace.slug, **inputs)
        assert "not a member" in error(refused, line), name
        assert "Lighthouse" not in json.dumps(refused)


def test_someone_in_no_workspace_gets_a_first_step(db: Database, http: httpx.Client) -> None:
    newcomer = make_user(db, "newcomer")
    login(http, newcomer)
    out = call(http, "show_workspace", ws_picker=None)
    first = value(out, "ws-first-step")
    assert visible(out, "ws-first-step") is True and visible(out, "ws-picker") is False
    assert "Create one for your team" in first and "ask to be invited" in first
    assert newcomer.email in first and "project" not in first.lower().split("workspace holds")[0]
    assert out["ws-create-box"]["open"] is True
    # A blank name: the reason beside the button, the field as typed.
    blank = call(http, "create_workspace", ws_new_name="   ")
    assert "cannot be empty" in error(blank, "ws-create-error")
    assert untouched(blank, "ws-new-name", "ws-first-step")
    made = call(http, "create_workspace", ws_new_name="Night Owls")
    assert error(made, "ws-create-error") == "" and value(made, "ws-new-name") == ""
    assert visible(made, "ws-first-step") is False and "Night Owls" in value(made, "ws-summary")
    assert "you are <b>owner</b>" in value(made, "ws-summary")
    assert "No project yet" in value(made, "ws-home")
    assert visible(made, "ws-manage") is True


def test_route_opens_a_workspace_home_with_posters(
    db: Database, pages: Pages, team: Team, live_server: LiveServer
) -> None:
    me = request_of(team.editor)
    out = named(pages.workspaces.route({"ws": team.workspace.slug}, me))
    home = shown(out["ws-home"])
    assert shown(out["ws-picker"]) == team.workspace.slug and shown(out["ws-notice"]) == ""
    # Posters: the circled take's for the project card, each generated take's own.
    posters = re.findall(r'<img src="(/media/[^"]+)"', home)
    assert len(posters) >= 3, home
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        for src in set(posters):
            got = client.get(html.unescape(src))
            assert got.status_code == 200 and got.headers["content-type"].startswith("image/")
    # Someone else's workspace, or none that exists: the default view and a note.
    outsider = make_user(db, "outsider")
    theirs = make_workspace(db, outsider)
    out = named(pages.workspaces.route({"ws": team.workspace.slug}, request_of(outsider)))
    assert shown(out["ws-picker"]) == theirs.slug and "not a member" in shown(out["ws-notice"])
    assert "Lighthouse" not in json.dumps(out, default=str)
    out = named(pages.workspaces.route({"ws": "no-such-place"}, me))
    assert shown(out["ws-picker"]) == team.workspace.slug and "not a member" in shown(
        out["ws-notice"]
    )
    lonely = make_user(db, "lonely")
    out = named(pages.workspaces.route({"ws": team.workspace.slug}, request_of(lonely)))
    assert out["ws-first-step"]["visible"] is True and "not a member" in shown(out["ws-notice"])
    # The Account page has one view.
    out = named(pages.account.route({}, me))
    assert team.editor.email in shown(out["account-profile"])
    # A signed-out request: a note, never an exception.
    gone = named(pages.workspaces.route({}, request_of(UserInfo(10**9, "x@y", "z"))))
    assert "session has ended" in shown(gone["ws-notice"])


def test_shot_in_review_leaves_the_list_once_approved(
    db: Database, pages: Pages, team: Team
) -> None:
    """The home follows the work: approving a shot takes it out of review."""
    with db.session_scope() as session:
        owner = actor(session, team.owner)
        review.add_comment(session, owner, team.shots[2], "Approved", status="approved")
    home = shown(
        named(pages.workspaces.route({"ws": team.workspace.slug}, request_of(team.owner)))[
            "ws-home"
        ]
    )
    assert 'Shots in review <span class="count">0</span>' in home
    with db.session_scope() as session:
        review.add_comment(
            session, actor(session, team.owner), team.shots[2], "Again", status="review"
        )
