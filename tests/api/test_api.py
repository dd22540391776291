"""The JSON API: /v1/me, members, keys, and one error shape for every 4xx."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from studio.accounts.models import ApiKey, Membership, Role
from studio.db.session import Database
from tests.factories import add_member, make_api_key, make_user, make_workspace


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == code
    assert len(body["message"]) > 10  # a sentence, not a code


def member_count(db: Database, workspace_id: int) -> int:
    with db.session_scope() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.workspace_id == workspace_id)
            )
            or 0
        )


def test_me_shows_user_and_the_keys_workspace(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    other = make_workspace(db, owner=team.owner)
    key = make_api_key(db, team.owner, team)
    response = http.get("/v1/me", headers={**bearer(key), "X-Runway-Version": "2024-11-06"})
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == team.owner.email
    assert body["workspaces"] == [
        {"slug": team.slug, "name": body["workspaces"][0]["name"], "role": "owner"}
    ]
    assert other.slug not in response.text
    assert body["api_key"]["workspace"] == team.slug
    assert key.startswith(body["api_key"]["prefix"])
    with db.session_scope() as session:
        used = session.scalar(
            select(ApiKey.last_used_at).where(ApiKey.prefix == body["api_key"]["prefix"])
        )
    assert used is not None


def test_missing_unknown_and_revoked_keys_are_refused(db: Database, http: httpx.Client) -> None:
    assert_error(http.get("/v1/me"), 401, "unauthorized")
    assert_error(
        http.get("/v1/me", headers=bearer("stu_deadbeef_not-a-real-key")), 401, "invalid_api_key"
    )
    assert_error(http.get("/v1/me", headers={"Authorization": "Basic abc"}), 401, "unauthorized")

    team = make_workspace(db)
    key = make_api_key(db, team.owner, team)
    assert http.get("/v1/me", headers=bearer(key)).status_code == 200
    with db.session_scope() as session:
        from studio.accounts import apikeys
        from studio.accounts import service as accounts
        from studio.accounts.access import Actor

        row = session.scalar(select(ApiKey).where(ApiKey.prefix == key[:12]))
        assert row is not None
        assert row.key_hash != key and key not in row.key_hash  # stored hashed
        apikeys.revoke_key(session, Actor(user=accounts.get_user(session, team.owner.id)), row.id)  # type: ignore[arg-type]
    assert_error(http.get("/v1/me", headers=bearer(key)), 401, "invalid_api_key")


def test_a_removed_members_key_stops_working(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    member = make_user(db)
    add_member(db, team, member, Role.EDITOR)
    key = make_api_key(db, member, team)
    owner_key = make_api_key(db, team.owner, team)
    assert http.get("/v1/me", headers=bearer(key)).status_code == 200
    removed = http.delete(
        f"/v1/workspaces/{team.slug}/members/{member.id}", headers=bearer(owner_key)
    )
    assert removed.status_code == 204
    assert_error(http.get("/v1/me", headers=bearer(key)), 401, "invalid_api_key")


def test_members_api_adds_changes_and_removes(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    newcomer = make_user(db, "newcomer")
    auth = bearer(make_api_key(db, team.owner, team))
    added = http.post(
        f"/v1/workspaces/{team.slug}/members",
        json={"email": newcomer.email.upper(), "role": "viewer"},
        headers=auth,
    )
    assert added.status_code == 201
    assert added.json()["role"] == "viewer"
    changed = http.patch(
        f"/v1/workspaces/{team.slug}/members/{newcomer.id}", json={"role": "editor"}, headers=auth
    )
    assert changed.json()["role"] == "editor"
    listing = http.get(f"/v1/workspaces/{team.slug}/members", headers=auth).json()
    assert {m["email"]: m["role"] for m in listing} == {
        team.owner.email: "owner",
        newcomer.email: "editor",
    }


def test_bad_input_gets_a_clear_error_and_writes_nothing(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    existing = make_user(db)
    add_member(db, team, existing, Role.VIEWER)
    auth = bearer(make_api_key(db, team.owner, team))
    url = f"/v1/workspaces/{team.slug}/members"
    before = member_count(db, team.id)

    malformed = http.post(
        url,
        content=b'{"email": "a@b.co", "role": ',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert_error(malformed, 400, "invalid_json")
    assert_error(http.post(url, json={"role": "editor"}, headers=auth), 422, "invalid_input")
    assert (
        "'email' is required"
        in http.post(url, json={"role": "editor"}, headers=auth).json()["message"]
    )
    assert_error(
        http.post(url, json={"email": "", "role": "editor"}, headers=auth), 422, "email_required"
    )
    assert_error(
        http.post(url, json={"email": "not-an-email", "role": "editor"}, headers=auth),
        422,
        "invalid_email",
    )
    assert_error(
        http.post(url, json={"email": "a" * 300 + "@x.co", "role": "editor"}, headers=auth),
        422,
        "invalid_email",
    )
    assert_error(
        http.post(url, json={"email": make_user(db).email, "role": "boss"}, headers=auth),
        422,
        "invalid_role",
    )
    assert_error(
        http.post(url, json={"email": existing.email, "role": "editor"}, headers=auth),
        409,
        "already_member",
    )
    assert_error(
        http.post(url, json={"email": "nobody-here@studio.example"}, headers=auth),
        404,
        "user_not_found",
    )
    assert_error(
        http.post(url, json={"email": existing.email, "extra": 1}, headers=auth),
        422,
        "invalid_input",
    )
    assert_error(
        http.patch(f"{url}/999999", json={"role": "viewer"}, headers=auth), 404, "member_not_found"
    )
    # A path that names nothing an id can be is "not found" (as an id out of range is).
    assert_error(http.patch(f"{url}/abc", json={"role": "viewer"}, headers=auth), 404, "not_found")

    assert member_count(db, team.id) == before


def test_unknown_routes_and_methods_use_the_error_shape(db: Database, http: httpx.Client) -> None:
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    assert_error(http.get("/v1/nothing-here", headers=auth), 404, "not_found")
    assert_error(http.put("/v1/me", headers=auth), 405, "method_not_allowed")


def test_openapi_is_published(http: httpx.Client) -> None:
    spec = http.get("/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert "/me" in paths and "/workspaces/{slug}/members" in paths
