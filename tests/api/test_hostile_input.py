"""Inputs from an outside review (issue 13): ids past the database's integer
range, odd strings and non-ASCII media signatures answer 4xx, never 500."""

from __future__ import annotations

import httpx
import pytest

from studio.accounts.access import Actor
from studio.accounts.models import User
from studio.db.session import Database
from studio.projects import service as projects
from tests.factories import bearer, make_api_key, make_workspace

# Postgres' integer is int4; SQLite's is int8. Each must be refused before SQL.
HUGE_IDS = [2**31, 2**63, 10**30, -1, 0]


@pytest.fixture
def owner_key(db: Database) -> tuple[int, str, int]:
    """(workspace id, API key, project id) with one shot in the project."""
    team = make_workspace(db)
    key = make_api_key(db, team.owner, team)
    with db.session_scope() as session:
        user = session.get(User, team.owner.id)
        assert user is not None
        actor = Actor(user=user)
        project = projects.create_project(session, actor, workspace_id=team.id, title="Ids")
        projects.add_shot(session, actor, project.id, projects.ShotFields(prompt="a door"))
        return team.id, key, project.id


def assert_refused(response: httpx.Response, statuses: set[int]) -> None:
    assert response.status_code in statuses, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert len(body["message"]) > 10


@pytest.mark.parametrize("big", HUGE_IDS)
def test_ids_outside_the_integer_range_are_not_found_or_invalid(
    http: httpx.Client, owner_key: tuple[int, str, int], big: int
) -> None:
    _, key, project_id = owner_key
    auth = bearer(key)
    paths = [
        f"/v1/projects/{big}",
        f"/v1/shots/{big}",
        f"/v1/shots/{big}/takes",
        f"/v1/shots/{big}/comments",
        f"/v1/projects/{big}/activity",
        f"/v1/projects/{big}/rough_cuts",
        f"/v1/workspaces/x/members/{big}",
    ]
    for path in paths:
        method = "DELETE" if "/members/" in path else "GET"
        assert_refused(http.request(method, path, headers=auth), {404})
    assert_refused(http.post(f"/v1/takes/{big}/reroll", headers=auth), {404})
    assert_refused(http.delete(f"/v1/comments/{big}", headers=auth), {404})
    # Queries and bodies: invalid input, naming the field.
    compare = http.get(f"/v1/takes/compare?left={big}&right=1", headers=auth)
    assert_refused(compare, {422})
    feed = http.get(f"/v1/projects/{project_id}/activity?after={big}", headers=auth)
    if big > 2**31 - 1:
        assert_refused(feed, {422})
    shots = http.get(f"/v1/projects/{project_id}/shots", headers=auth).json()
    comment = http.post(
        f"/v1/shots/{shots[0]['id']}/comments",
        headers=auth,
        json={"body": "look", "take_id": big},
    )
    assert_refused(comment, {422})
    assert "take_id" in comment.json()["message"]
    reorder = http.post(
        f"/v1/projects/{project_id}/shots/reorder", headers=auth, json={"order": [big]}
    )
    assert_refused(reorder, {422})
    task = http.post(
        "/v1/image_to_video",
        headers=auth,
        json={"model": "animatic", "promptImage": f"asset:{abs(big)}", "duration": 2},
    )
    assert_refused(task, {404, 422})


def test_integer_and_float_fields_are_bounded(
    http: httpx.Client, owner_key: tuple[int, str, int]
) -> None:
    _, key, project_id = owner_key
    auth = bearer(key)
    for body in (
        {"title": "x", "default_fps": 2**40},
        {"title": "x", "default_fps": -5},
    ):
        assert_refused(http.post("/v1/projects", headers=auth, json=body), {422})
    for body in ({"scene": 2**31}, {"scene": -(2**40)}):
        response = http.post(f"/v1/projects/{project_id}/shots", headers=auth, json=body)
        assert_refused(response, {422})
    # NaN and Infinity are not JSON, but Python's parser takes them (and 1e400 is
    # infinite): refused by the models, never stored.
    for number in (b"NaN", b"Infinity", b"1e400"):
        raw = http.post(
            f"/v1/projects/{project_id}/shots",
            headers={**auth, "Content-Type": "application/json"},
            content=b'{"prompt": "x", "target_duration": ' + number + b"}",
        )
        assert_refused(raw, {400, 422})


def test_nul_characters_are_refused_not_sent_to_the_database(
    http: httpx.Client, owner_key: tuple[int, str, int]
) -> None:
    _, key, project_id = owner_key
    auth = bearer(key)
    assert_refused(http.post("/v1/projects", headers=auth, json={"title": "a\x00b"}), {422})
    assert_refused(http.get("/v1/jams/a%00b", headers=auth), {404, 422})
    assert_refused(http.get("/v1/workspaces/a%00b", headers=auth), {404, 422})
    assert_refused(
        http.get(f"/v1/projects/{project_id}/shots?status=a%00", headers=auth), {404, 422}
    )


def test_media_signatures_that_are_not_ascii_are_refused(http: httpx.Client) -> None:
    for sig in ("%C3%A9", "%E2%82%AC" * 16, "%00"):
        response = http.get(f"/media/1?exp=99999999999&sig={sig}")
        assert_refused(response, {403})
    assert_refused(http.get(f"/media/{2**63}?exp=99999999999&sig=abc"), {403, 404})
    assert_refused(http.get(f"/media/1?exp={10**30}&sig=abc"), {403, 404})


def test_wrong_methods_say_what_is_allowed_and_odd_paths_have_the_error_shape(
    http: httpx.Client, owner_key: tuple[int, str, int]
) -> None:
    _, key, project_id = owner_key
    auth = bearer(key)
    for method, path, allowed in (
        ("PATCH", "/v1/takes/compare", {"GET"}),  # not take "compare"
        ("PUT", f"/v1/projects/{project_id}", {"GET", "PATCH"}),
        ("DELETE", "/v1/me", {"GET"}),
        ("POST", "/v1/tasks/abc", {"GET", "DELETE"}),
    ):
        response = http.request(method, path, headers=auth)
        assert_refused(response, {405})
        assert allowed <= set(response.headers["allow"].replace(" ", "").split(",")), path
    for path in ("/v1/nothing/here", "/v1/projects/1/nope", "/v1/", "/v1//me"):
        assert_refused(http.get(path, headers=auth), {404})
