"""Workspace isolation and role checks, through UI handlers and the API alike."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from studio.accounts.models import Membership, Role
from studio.db.session import Database
from tests.factories import (
    UIError,
    add_member,
    call_ui,
    login,
    make_api_key,
    make_user,
    make_workspace,
)
from tests.ui import named


@pytest.fixture
def two_teams(db: Database):  # type: ignore[no-untyped-def]
    team_a = make_workspace(db, name="Alpha")
    team_b = make_workspace(db, name="Bravo")
    bravo_editor = make_user(db, "bravo-editor")
    add_member(db, team_b, bravo_editor, Role.EDITOR)
    return team_a, team_b, bravo_editor


def test_member_of_a_gets_not_found_for_every_b_action_in_the_ui(
    db: Database, http: httpx.Client, two_teams
) -> None:
    team_a, team_b, bravo_editor = two_teams
    login(http, team_a.owner)  # owner of A: the strongest role, but in A only
    actions = [
        ("add_member", team_b.slug, team_a.owner.email, "viewer"),
        ("change_role", team_b.slug, bravo_editor.id, "admin"),
        ("remove_member", team_b.slug, bravo_editor.id),
        ("create_api_key", "sneaky", team_b.id),
    ]
    for action, *args in actions:
        with pytest.raises(UIError, match="Workspace not found"):
            call_ui(http, action, *args)
    # Opening B's address shows A's own default view and says so: nothing of B.
    peek = named.call(http, "show_workspace", ws_picker=team_b.slug)
    assert bravo_editor.email not in str(peek)
    assert "does not exist or you are not a member" in str(named.value(peek, "ws-notice"))
    # Nothing changed in B.
    owner_b = httpx.Client(base_url=str(http.base_url))
    login(owner_b, team_b.owner)
    members = str(
        named.value(named.call(owner_b, "show_workspace", ws_picker=team_b.slug), "ws-members")
    )
    assert team_b.owner.email in members and bravo_editor.email in members
    assert team_a.owner.email not in members
    with db.session_scope() as session:
        role = session.scalar(
            select(Membership.role).where(
                Membership.workspace_id == team_b.id, Membership.user_id == bravo_editor.id
            )
        )
    assert role == Role.EDITOR


def test_member_of_a_gets_404_for_every_b_action_in_the_api(
    db: Database, http: httpx.Client, two_teams
) -> None:
    team_a, team_b, bravo_editor = two_teams
    key = make_api_key(db, team_a.owner, team_a)
    auth = {"Authorization": f"Bearer {key}"}
    base = f"/v1/workspaces/{team_b.slug}"
    calls = [
        ("GET", base, None),
        ("GET", f"{base}/members", None),
        ("POST", f"{base}/members", {"email": team_a.owner.email, "role": "viewer"}),
        ("PATCH", f"{base}/members/{bravo_editor.id}", {"role": "admin"}),
        ("DELETE", f"{base}/members/{bravo_editor.id}", None),
    ]
    for method, path, body in calls:
        response = http.request(method, path, json=body, headers=auth)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"] == "not_found"
    # The same 404 for a slug that does not exist: nothing tells them apart.
    missing = http.get("/v1/workspaces/no-such-team", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["message"] == http.get(base, headers=auth).json()["message"]


def test_api_key_is_scoped_to_its_workspace_even_for_a_member_of_both(
    db: Database, http: httpx.Client, two_teams
) -> None:
    team_a, team_b, _ = two_teams
    add_member(db, team_b, team_a.owner, Role.ADMIN)
    key_for_a = make_api_key(db, team_a.owner, team_a)
    response = http.get(
        f"/v1/workspaces/{team_b.slug}/members", headers={"Authorization": f"Bearer {key_for_a}"}
    )
    assert response.status_code == 404


def test_viewer_cannot_change_members(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    viewer, editor = make_user(db, "viewer"), make_user(db, "editor")
    add_member(db, team, viewer, Role.VIEWER)
    add_member(db, team, editor, Role.EDITOR)
    login(http, viewer)
    with pytest.raises(UIError, match="admin role"):
        call_ui(http, "add_member", team.slug, make_user(db).email, "editor")
    with pytest.raises(UIError, match="admin role"):
        call_ui(http, "change_role", team.slug, editor.id, "owner")
    with pytest.raises(UIError, match="admin role"):
        call_ui(http, "remove_member", team.slug, editor.id)

    key = make_api_key(db, viewer, team)
    auth = {"Authorization": f"Bearer {key}"}
    response = http.patch(
        f"/v1/workspaces/{team.slug}/members/{editor.id}", json={"role": "viewer"}, headers=auth
    )
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    # The viewer can still see the team.
    seen = http.get(f"/v1/workspaces/{team.slug}/members", headers=auth).json()
    assert {m["email"]: m["role"] for m in seen}[editor.email] == "editor"


def test_admin_cannot_touch_owners_and_the_last_owner_stays(
    db: Database, http: httpx.Client
) -> None:
    team = make_workspace(db)
    admin = make_user(db, "admin")
    add_member(db, team, admin, Role.ADMIN)
    login(http, admin)
    with pytest.raises(UIError, match="Only an owner"):
        call_ui(http, "change_role", team.slug, team.owner.id, "viewer")
    with pytest.raises(UIError, match="Only an owner"):
        call_ui(http, "add_member", team.slug, make_user(db).email, "owner")
    owner = httpx.Client(base_url=str(http.base_url))
    login(owner, team.owner)
    with pytest.raises(UIError, match="at least one owner"):
        call_ui(owner, "change_role", team.slug, team.owner.id, "editor")


def test_removed_member_old_cookie_stops_working(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    member = make_user(db, "member")
    add_member(db, team, member, Role.EDITOR)
    login(http, member)
    copied_cookie = dict(http.cookies)
    shown = named.call(http, "show_workspace", ws_picker=team.slug)
    assert member.email in str(named.value(shown, "ws-members"))

    owner = httpx.Client(base_url=str(http.base_url))
    login(owner, team.owner)
    call_ui(owner, "remove_member", team.slug, member.id)

    with httpx.Client(base_url=str(http.base_url), cookies=copied_cookie) as stolen:
        page = stolen.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        with pytest.raises(UIError, match="401"):
            call_ui(stolen, "show_workspace", team.slug)


def test_logout_invalidates_the_cookie_and_its_copies(db: Database, http: httpx.Client) -> None:
    user = make_user(db)
    make_workspace(db, owner=user)
    login(http, user)
    copied_cookie = dict(http.cookies)
    assert http.get("/", headers={"Accept": "text/html"}).status_code == 200

    out = http.post("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login?signed_out=1"

    with httpx.Client(base_url=str(http.base_url), cookies=copied_cookie) as replay:
        page = replay.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 303
        assert replay.get("/gradio_api/info").status_code == 401
