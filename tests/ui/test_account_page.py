"""The Account page's handlers: errors beside the action (a key without a
workspace, someone else's key, two different new passwords), the fields as
typed; a key made and revoked."""

from __future__ import annotations

import httpx

from studio.db.session import Database
from tests.factories import login, make_user, make_workspace
from tests.ui.named import call, error, untouched, value


def test_keys_and_password_errors_stay_beside_their_buttons(
    db: Database, http: httpx.Client
) -> None:
    team = make_workspace(db)
    other = make_workspace(db)
    login(http, team.owner)

    no_workspace = call(http, "create_api_key", key_name="render farm")
    assert "Choose a workspace first" in error(no_workspace, "key-error")
    assert untouched(no_workspace, "key-name", "key-workspace", "api-keys")
    theirs = call(http, "create_api_key", key_name="sneaky", key_workspace=other.id)
    assert "not a member" in error(theirs, "key-error")
    assert untouched(theirs, "key-name")

    made = call(http, "create_api_key", key_name="render farm", key_workspace=team.id)
    assert error(made, "key-error") == "" and value(made, "key-name") == ""
    secret = value(made, "new-api-key")
    assert isinstance(secret, str) and secret.startswith("stu_")
    ((label, key_id),) = made["key-revoke-pick"]["choices"]
    assert "render farm" in label

    # Someone else's key looks like a missing one; the revoke form stays as it was.
    stranger = httpx.Client(base_url=str(http.base_url), timeout=30)
    login(stranger, make_user(db, "stranger"))
    refused = call(stranger, "revoke_api_key", key_revoke_pick=key_id)
    assert "No such API key" in error(refused, "key-revoke-error")
    assert untouched(refused, "api-keys", "key-revoke-pick")
    revoked = call(http, "revoke_api_key", key_revoke_pick=key_id)
    assert error(revoked, "key-revoke-error") == ""
    assert revoked["api-keys"]["data"][0][-1] == "revoked"

    differ = call(
        http,
        "change_password",
        password_current=team.owner.password,
        password_new="a long new password",
        password_again="another long password",
    )
    assert "differ" in error(differ, "password-error")
    assert untouched(differ, "password-current", "password-new", "password-again")
    wrong = call(
        http,
        "change_password",
        password_current="not my password",
        password_new="a long new password",
        password_again="a long new password",
    )
    assert error(wrong, "password-error")
    assert untouched(wrong, "password-new", "password-again", "password-note")
