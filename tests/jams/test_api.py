"""/v1/jams on the live server: roles, elements hidden until kickoff in every
response and export, an entry through the API, and clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from studio.db.session import Database
from tests.factories import WorkspaceInfo, bearer, make_api_key, make_user, make_workspace
from tests.jams.helpers import ELEMENTS, SECRET_WORDS, film_bytes


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code and len(body["message"]) > 10, body


def hidden(text: str) -> bool:
    return not any(word in text for word in SECRET_WORDS)


def key_for(db: Database, label: str, *, admin: bool = False) -> tuple[Any, dict[str, str]]:
    user = make_user(db, label, is_admin=admin)
    workspace = make_workspace(db, owner=user)
    return user, bearer(make_api_key(db, user, workspace))


def test_a_jam_through_the_api(db: Database, http: httpx.Client) -> None:
    admin, admin_auth = key_for(db, "admin", admin=True)
    captain, captain_auth = key_for(db, "captain")
    outsider, outsider_auth = key_for(db, "outsider")
    now = datetime.now(UTC)
    body = {
        "title": "API Jam",
        "slug": "api-jam-" + captain.email[8:14],
        "registration_opens_at": (now - timedelta(hours=1)).isoformat(),
        "registration_closes_at": (now + timedelta(hours=3)).isoformat(),
        "kickoff_at": (now + timedelta(hours=2)).isoformat(),
        "film_min_seconds": 1,
        "film_max_seconds": 4,
        "elements": ELEMENTS,
    }
    assert_error(http.post("/v1/jams", json=body, headers=captain_auth), 403, "admin_required")
    naive = {**body, "kickoff_at": "2030-01-01T10:00:00"}
    assert_error(http.post("/v1/jams", json=naive, headers=admin_auth), 422, "invalid_schedule")
    assert_error(
        http.post("/v1/jams", json={**body, "prize": 1}, headers=admin_auth), 422, "invalid_input"
    )
    created = http.post("/v1/jams", json=body, headers=admin_auth)
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    assert created.json()["schedule"]["deadline_at"]
    assert_error(http.post("/v1/jams", json=body, headers=admin_auth), 409, "slug_taken")

    # Before kickoff: no element anywhere, for anyone (organizers included).
    team = http.post(f"/v1/jams/{slug}/teams", json={"name": "Otters"}, headers=captain_auth)
    assert team.status_code == 201, team.text
    team_key = bearer(
        make_api_key(
            db,
            captain,
            WorkspaceInfo(team.json()["workspace_id"], team.json()["workspace_slug"], captain),
        )
    )
    # The list holds other tests' jams too (one database per session): look at this one.
    listed = http.get("/v1/jams", headers=outsider_auth)
    assert listed.status_code == 200, listed.text
    ours = [j for j in listed.json() if j["slug"] == slug]
    assert len(ours) == 1 and hidden(json.dumps(ours[0])), ours
    before = [
        http.get(f"/v1/jams/{slug}", headers=admin_auth),
        http.get(f"/v1/jams/{slug}", headers=captain_auth),
        http.get(f"/v1/jams/{slug}/teams/mine", headers=team_key),
        http.get(f"/v1/jams/{slug}/export/teams.csv", headers=admin_auth),
        http.get(f"/v1/jams/{slug}/dashboard", headers=admin_auth),
    ]
    for response in before:
        assert response.status_code == 200, response.text
        assert hidden(response.text), response.text
    assert http.get(f"/v1/jams/{slug}", headers=captain_auth).json()["elements"] is None
    assert_error(http.post(f"/v1/jams/{slug}/kickoff", headers=admin_auth), 409, "before_kickoff")
    assert_error(http.put(f"/v1/jams/{slug}/entry", json={}, headers=team_key), 409, "not_started")

    # Kickoff moves into the past: the draw appears everywhere, the same each time.
    moved = http.patch(
        f"/v1/jams/{slug}",
        json={"kickoff_at": (now - timedelta(minutes=1)).isoformat()},
        headers=admin_auth,
    )
    assert moved.status_code == 200, moved.text
    jam = http.get(f"/v1/jams/{slug}", headers=captain_auth).json()
    assert jam["elements"] == ELEMENTS and jam["phase"] == "running"
    assert set(jam["shared_elements"]) == {"character", "prop"}
    mine = http.get(f"/v1/jams/{slug}/teams/mine", headers=team_key).json()
    assert mine["drawn_elements"]["genre"] in ELEMENTS[2]["options"]
    csv_text = http.get(f"/v1/jams/{slug}/export/teams.csv", headers=admin_auth).text
    assert mine["drawn_elements"]["genre"] in csv_text
    assert http.get(f"/v1/jams/{slug}/teams/mine", headers=team_key).json() == mine
    assert_error(
        http.patch(f"/v1/jams/{slug}", json={"elements": []}, headers=admin_auth),
        409,
        "elements_locked",
    )

    # The entry: upload, then submit; only the team reads it.
    upload = http.post(f"/v1/jams/{slug}/entry/film", content=film_bytes(), headers=team_key)
    assert upload.status_code == 201, upload.text
    assert_error(
        http.post(f"/v1/jams/{slug}/entry/film", content=b"not a film", headers=team_key),
        422,
        "invalid_film",
    )
    draft = http.put(
        f"/v1/jams/{slug}/entry",
        json={"title": "River", "film": {"asset_id": upload.json()["asset_id"]}, "submit": False},
        headers=team_key,
    )
    assert draft.status_code == 200 and draft.json()["status"] == "draft", draft.text
    # A key for another workspace of the same person cannot reach the team's entry.
    assert_error(http.get(f"/v1/jams/{slug}/entry", headers=captain_auth), 404, "not_found")
    assert_error(http.get(f"/v1/jams/{slug}/entry", headers=outsider_auth), 404, "no_team")
    assert http.get(f"/v1/jams/{slug}/entries", headers=admin_auth).json() == []
    done = http.put(f"/v1/jams/{slug}/entry", json={}, headers=team_key)
    assert done.status_code == 200 and done.json()["status"] == "submitted", done.text
    assert done.json()["film_url"].startswith("http") and done.json()["title"] == "River"
    assert_error(
        http.get(f"/v1/jams/{slug}/entries", headers=outsider_auth), 403, "organizer_required"
    )
    listed = http.get(f"/v1/jams/{slug}/entries", headers=admin_auth).json()
    assert [e["id"] for e in listed] == [done.json()["id"]]

    # Judging and results are closed doors for now.
    assert_error(
        http.get(f"/v1/jams/{slug}/assignments", headers=outsider_auth), 403, "judge_required"
    )
    assert_error(
        http.get(f"/v1/jams/{slug}/results", headers=captain_auth), 404, "results_not_published"
    )
    assert_error(
        http.put(
            f"/v1/jams/{slug}/votes", json={"entry_id": done.json()["id"]}, headers=outsider_auth
        ),
        409,
        "voting_closed",
    )
    assert_error(http.get("/v1/jams/no-such-jam", headers=outsider_auth), 404, "jam_not_found")
    assert_error(http.post(f"/v1/jams/{slug}/assignments", headers=admin_auth), 409, "too_early")
    dash = http.get(f"/v1/jams/{slug}/dashboard", headers=admin_auth).json()
    assert dash["entries_by_state"]["submitted"] == 1 and dash["teams"][0]["members"] == 1
    assert outsider.id != admin.id
