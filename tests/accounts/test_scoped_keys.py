"""What an API key may do (issue 13, finding 5).

A key acts as its person inside one workspace. Account-level actions (keys,
password, workspaces) need the person signed in, through the API and through
the Account page's Gradio handlers alike. A key organizes only the jams its
person created or was appointed to: an admin's key is not the organizer of
every jam.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from studio.accounts import apikeys
from studio.accounts.models import ApiKey
from studio.db.session import Database
from studio.errors import Forbidden
from studio.jams import service as jams
from tests.factories import (
    UIError,
    bearer,
    call_ui,
    make_api_key,
    make_user,
    make_workspace,
)
from tests.jams.helpers import actor, make_jam


def keys_of(db: Database, user_id: int) -> dict[int, bool]:
    with db.session_scope() as session:
        rows = session.scalars(select(ApiKey).where(ApiKey.user_id == user_id))
        return {k.id: k.revoked_at is not None for k in rows}


def test_a_key_cannot_list_or_revoke_keys_or_change_the_password(
    db: Database, live_server, http: httpx.Client
) -> None:  # type: ignore[no-untyped-def]
    first = make_workspace(db, name="Scoped")
    second = make_workspace(db, first.owner, name="Secret Other")
    scoped = make_api_key(db, first.owner, first)
    make_api_key(db, first.owner, second)
    keys = keys_of(db, first.owner.id)
    other_key_id = max(keys)
    key_client = httpx.Client(base_url=live_server.url, headers=bearer(scoped), timeout=30)
    with key_client:
        with pytest.raises(UIError) as refused:
            call_ui(key_client, "revoke_api_key", other_key_id)
        assert "API key" in str(refused.value)
        with pytest.raises(UIError):
            call_ui(key_client, "change_password", "correct horse battery", "x" * 12, "x" * 12)
        with pytest.raises(UIError):
            call_ui(key_client, "create_api_key", "more", second.id)
    # The page's refresh lists keys with their workspaces' names through this service:
    # it refuses a key too, so no handler can show them to one.
    with db.session_scope() as session:
        key_actor = apikeys.authenticate_key(session, scoped)
        with pytest.raises(Forbidden):
            apikeys.list_keys(session, key_actor)
    assert keys_of(db, first.owner.id) == keys  # nothing revoked, nothing made
    # The password still works: nothing changed.
    assert (
        http.post(
            "/login", data={"email": first.owner.email, "password": first.owner.password}
        ).status_code
        == 303
    )


def test_an_admins_key_organizes_only_its_own_jams(db: Database, http: httpx.Client) -> None:
    admin = make_user(db, "admin", is_admin=True)
    workspace = make_workspace(db, admin)
    key = bearer(make_api_key(db, admin, workspace))
    theirs, _ = make_jam(db)  # created by another admin
    for method, path, body in (
        ("PATCH", f"/v1/jams/{theirs}", {"brief": "mine now"}),
        ("GET", f"/v1/jams/{theirs}/dashboard", None),
        ("GET", f"/v1/jams/{theirs}/entries", None),
        ("POST", f"/v1/jams/{theirs}/judges", {"email": admin.email}),
        ("POST", f"/v1/jams/{theirs}/organizers", {"email": admin.email}),
        ("GET", f"/v1/jams/{theirs}/export/teams.csv", None),
        ("POST", f"/v1/jams/{theirs}/results/publish", None),
    ):
        response = http.request(method, path, json=body, headers=key)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"] in {"organizer_required", "admin_required"}
    assert http.get(f"/v1/jams/{theirs}", headers=key).json()["is_organizer"] is False
    # Its own jam (created with the key) it runs; appointed, it runs that one too.
    mine, _ = make_jam(db, admin)
    assert http.get(f"/v1/jams/{mine}/dashboard", headers=key).status_code == 200
    other_admin = make_user(db, "boss", is_admin=True)
    with db.session_scope() as session:
        jams.add_organizer(session, actor(session, other_admin), theirs, email=admin.email)
    assert http.get(f"/v1/jams/{theirs}/dashboard", headers=key).status_code == 200
    # Signed in, the admin still runs every jam.
    with db.session_scope() as session:
        view = jams.get_jam(session, actor(session, admin), theirs)
        assert view.is_organizer
