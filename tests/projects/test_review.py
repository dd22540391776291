"""Review through the API: comments with timecodes, mentions and status
changes; the activity feed; comparing two takes' settings. Roles and
workspace isolation on every route."""

from __future__ import annotations

import httpx
import pytest

from studio.accounts.models import Role
from studio.db.session import Database
from studio.errors import InvalidInput
from studio.projects.review import format_timecode, parse_timecode
from tests.factories import (
    add_member,
    bearer,
    make_api_key,
    make_user,
    make_workspace,
    wait_finished,
)


@pytest.fixture
def shot_with_takes(db: Database, http: httpx.Client):  # type: ignore[no-untyped-def]
    """A shot with two finished animatic takes (2 s each), seeds 3 and 4."""
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))
    project = http.post("/v1/projects", json={"title": "Review"}, headers=auth).json()
    shot = http.post(
        f"/v1/projects/{project['id']}/shots",
        json={"prompt": "a lighthouse at night", "target_duration": 2},
        headers=auth,
    ).json()
    made = []
    for seed in (3, 4):
        created = http.post(
            f"/v1/shots/{shot['id']}/takes", json={"model": "animatic", "seed": seed}, headers=auth
        ).json()
        assert wait_finished(http, auth, created["id"])["status"] == "SUCCEEDED"
        made.append(created)
    return team, auth, project, shot, made


def test_comment_with_timecode_mention_and_status(
    db: Database, http: httpx.Client, shot_with_takes
) -> None:  # type: ignore[no-untyped-def]
    team, auth, project, shot, made = shot_with_takes
    editor = make_user(db, "ed")
    add_member(db, team, editor, Role.EDITOR)
    posted = http.post(
        f"/v1/shots/{shot['id']}/comments",
        json={
            "body": "The beam flickers here, keep this one",
            "take_id": made[1]["take"],
            "timecode": 1.5,
            "status": "approved",
            "mentions": [editor.email.upper()],
        },
        headers=auth,
    )
    assert posted.status_code == 201, posted.text
    body = posted.json()
    assert body["take_number"] == 2 and body["timecode"] == 1.5
    assert body["status_change"] == "approved" and len(body["mentions"]) == 1

    got = http.get(f"/v1/shots/{shot['id']}", headers=auth).json()
    assert got["status"] == "approved"
    assert got["version"] == shot["version"] + 1  # a status change is an edit: others must reload

    listed = http.get(f"/v1/shots/{shot['id']}/comments", headers=auth).json()
    assert [c["body"] for c in listed] == ["The beam flickers here, keep this one"]

    feed = http.get(f"/v1/projects/{project['id']}/activity", headers=auth).json()
    verbs = [line["verb"] for line in feed]
    # newest first: the mention, the status change, the comment, then the takes and the shot
    assert verbs[:3] == ["comment.mention", "shot.status", "comment.added"]
    assert verbs.count("take.generated") == 2 and verbs[-1] == "shot.created"
    assert "at 00:01.5" in feed[2]["summary"]
    newer = http.get(
        f"/v1/projects/{project['id']}/activity", params={"after": feed[1]["id"]}, headers=auth
    ).json()
    assert [line["id"] for line in newer] == [feed[0]["id"]]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"body": "   "}, "empty_comment"),
        ({"body": "x" * 4001}, "invalid_input"),
        ({"body": "late", "timecode": 1.0}, "timecode_needs_take"),
        ({"body": "past the end", "take": 0, "timecode": 9.0}, "invalid_timecode"),
        ({"body": "negative", "take": 0, "timecode": -1}, "invalid_timecode"),
        ({"body": "bad status", "status": "finished"}, "invalid_status"),
        ({"body": "who?", "mentions": ["nobody@studio.example"]}, "invalid_mention"),
    ],
)
def test_bad_comments_are_refused_and_leave_nothing(
    http: httpx.Client, shot_with_takes, payload, code
) -> None:  # type: ignore[no-untyped-def]
    _, auth, project, shot, made = shot_with_takes
    payload = dict(payload)
    if payload.pop("take", None) is not None:
        payload["take_id"] = made[0]["take"]
    before = http.get(f"/v1/projects/{project['id']}/activity", headers=auth).json()
    response = http.post(f"/v1/shots/{shot['id']}/comments", json=payload, headers=auth)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == code, response.json()
    assert http.get(f"/v1/shots/{shot['id']}/comments", headers=auth).json() == []
    assert http.get(f"/v1/projects/{project['id']}/activity", headers=auth).json() == before
    assert http.get(f"/v1/shots/{shot['id']}", headers=auth).json()["status"] == "todo"


def test_take_of_another_shot_is_refused(http: httpx.Client, shot_with_takes) -> None:  # type: ignore[no-untyped-def]
    _, auth, project, _, made = shot_with_takes
    other = http.post(
        f"/v1/projects/{project['id']}/shots", json={"prompt": "other"}, headers=auth
    ).json()
    response = http.post(
        f"/v1/shots/{other['id']}/comments",
        json={"body": "wrong shot", "take_id": made[0]["take"]},
        headers=auth,
    )
    assert response.status_code == 422 and response.json()["error"] == "take_not_of_shot"


def test_viewer_comments_but_cannot_change_status(
    db: Database, http: httpx.Client, shot_with_takes
) -> None:  # type: ignore[no-untyped-def]
    team, auth, _, shot, _ = shot_with_takes
    viewer = make_user(db, "viewer")
    add_member(db, team, viewer, Role.VIEWER)
    viewer_auth = bearer(make_api_key(db, viewer, team))
    ok = http.post(
        f"/v1/shots/{shot['id']}/comments", json={"body": "Love it"}, headers=viewer_auth
    )
    assert ok.status_code == 201, ok.text
    refused = http.post(
        f"/v1/shots/{shot['id']}/comments",
        json={"body": "Approve", "status": "approved"},
        headers=viewer_auth,
    )
    assert refused.status_code == 403
    assert http.get(f"/v1/shots/{shot['id']}", headers=auth).json()["status"] == "todo"
    assert len(http.get(f"/v1/shots/{shot['id']}/comments", headers=auth).json()) == 1
    # The viewer cannot remove the owner's comment; the author can remove their own.
    mine = ok.json()["id"]
    owner_comment = http.post(
        f"/v1/shots/{shot['id']}/comments", json={"body": "owner's"}, headers=auth
    ).json()["id"]
    assert http.delete(f"/v1/comments/{owner_comment}", headers=viewer_auth).status_code == 403
    assert http.delete(f"/v1/comments/{mine}", headers=viewer_auth).status_code == 204
    left = http.get(f"/v1/shots/{shot['id']}/comments", headers=auth).json()
    assert [c["id"] for c in left] == [owner_comment]


def test_other_workspace_ids_are_not_found(
    db: Database, http: httpx.Client, shot_with_takes
) -> None:  # type: ignore[no-untyped-def]
    _, auth, project, shot, made = shot_with_takes
    posted = http.post(f"/v1/shots/{shot['id']}/comments", json={"body": "mine"}, headers=auth)
    stranger = make_workspace(db)
    other = bearer(make_api_key(db, stranger.owner, stranger))
    checks = [
        http.get(f"/v1/shots/{shot['id']}/comments", headers=other),
        http.post(f"/v1/shots/{shot['id']}/comments", json={"body": "hi"}, headers=other),
        http.delete(f"/v1/comments/{posted.json()['id']}", headers=other),
        http.get(f"/v1/projects/{project['id']}/activity", headers=other),
        http.get(
            "/v1/takes/compare",
            params={"left": made[0]["take"], "right": made[1]["take"]},
            headers=other,
        ),
    ]
    assert [r.status_code for r in checks] == [404] * len(checks)
    assert len(http.get(f"/v1/shots/{shot['id']}/comments", headers=auth).json()) == 1


def test_compare_diffs_settings(http: httpx.Client, shot_with_takes) -> None:  # type: ignore[no-untyped-def]
    _, auth, _, _, made = shot_with_takes
    result = http.get(
        "/v1/takes/compare",
        params={"left": made[0]["take"], "right": made[1]["take"]},
        headers=auth,
    )
    assert result.status_code == 200, result.text
    rows = {r["name"]: r for r in result.json()["settings"]}
    assert (rows["seed"]["left"], rows["seed"]["right"], rows["seed"]["differs"]) == (3, 4, True)
    assert rows["prompt"]["left"] == "a lighthouse at night" and not rows["prompt"]["differs"]
    assert rows["model"]["left"] == "animatic" and not rows["model"]["differs"]


def test_timecodes_parse_and_format() -> None:
    assert parse_timecode("1:05") == 65.0 and parse_timecode("12.5") == 12.5
    assert parse_timecode("") is None and parse_timecode(None) is None
    with pytest.raises(InvalidInput):
        parse_timecode("soon")
    assert format_timecode(2.96) == "00:03.0" and format_timecode(65.25) == "01:05.2"
