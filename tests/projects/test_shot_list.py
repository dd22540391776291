"""Projects and shot lists through the API, on both databases."""

from __future__ import annotations

import httpx
import pytest

from studio.accounts.models import Role
from studio.db.session import Database
from tests.factories import (
    WorkspaceInfo,
    add_member,
    bearer,
    make_api_key,
    make_user,
    make_workspace,
)


@pytest.fixture
def crew(db: Database) -> tuple[WorkspaceInfo, dict[str, str]]:
    team = make_workspace(db)
    return team, bearer(make_api_key(db, team.owner, team))


def new_project(http: httpx.Client, auth: dict[str, str], shots: int = 3) -> tuple[int, list[dict]]:
    project = http.post(
        "/v1/projects", json={"title": "The Lighthouse", "logline": "A keeper"}, headers=auth
    )
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    made = []
    for n in range(shots):
        shot = http.post(
            f"/v1/projects/{project_id}/shots", json={"description": f"Shot {n + 1}"}, headers=auth
        )
        assert shot.status_code == 201, shot.text
        made.append(shot.json())
    return project_id, made


def test_codes_are_assigned_and_stay_stable_when_shots_move(http: httpx.Client, crew) -> None:  # type: ignore[no-untyped-def]
    _, auth = crew
    project_id, shots = new_project(http, auth)
    assert [s["code"] for s in shots] == ["SC01-SH010", "SC01-SH020", "SC01-SH030"]
    order = [shots[2]["id"], shots[0]["id"], shots[1]["id"]]
    moved = http.post(
        f"/v1/projects/{project_id}/shots/reorder", json={"order": order}, headers=auth
    )
    assert moved.status_code == 200, moved.text
    listed = http.get(f"/v1/projects/{project_id}/shots", headers=auth).json()
    assert [s["code"] for s in listed] == ["SC01-SH030", "SC01-SH010", "SC01-SH020"]
    scene_two = http.post(
        f"/v1/projects/{project_id}/shots", json={"scene": 2}, headers=auth
    ).json()
    assert scene_two["code"] == "SC02-SH010"
    bad = http.post(
        f"/v1/projects/{project_id}/shots/reorder", json={"order": order[:2]}, headers=auth
    )
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_order"


def test_concurrent_edits_never_overwrite_silently(db: Database, http: httpx.Client, crew) -> None:  # type: ignore[no-untyped-def]
    team, auth = crew
    colleague = make_user(db, "colleague")
    add_member(db, team, colleague, Role.EDITOR)
    other = bearer(make_api_key(db, colleague, team))
    _, shots = new_project(http, auth, 1)
    url = f"/v1/shots/{shots[0]['id']}"
    opened = http.get(url, headers=auth)
    assert opened.headers["ETag"] == '"1"'
    first = http.patch(url, json={"prompt": "dusk, rain"}, headers={**other, "If-Match": '"1"'})
    assert first.status_code == 200 and first.json()["version"] == 2
    late = http.patch(url, json={"prompt": "noon"}, headers={**auth, "If-Match": '"1"'})
    assert late.status_code == 409
    assert late.json()["error"] == "version_conflict"
    assert "changed by colleague" in late.json()["message"] and "Reload" in late.json()["message"]
    assert http.get(url, headers=auth).json()["prompt"] == "dusk, rain"
    missing = http.patch(url, json={"prompt": "noon"}, headers=auth)
    assert missing.status_code == 428 and missing.json()["error"] == "version_required"


def test_viewers_read_but_cannot_edit(db: Database, http: httpx.Client, crew) -> None:  # type: ignore[no-untyped-def]
    team, auth = crew
    project_id, shots = new_project(http, auth, 1)
    viewer = make_user(db, "viewer")
    add_member(db, team, viewer, Role.VIEWER)
    seen = bearer(make_api_key(db, viewer, team))
    assert http.get(f"/v1/projects/{project_id}/shots", headers=seen).status_code == 200
    shot_url = f"/v1/shots/{shots[0]['id']}"
    for method, path, body in [
        ("POST", "/v1/projects", {"title": "Mine"}),
        ("POST", f"/v1/projects/{project_id}/shots", {}),
        ("PATCH", shot_url, {"prompt": "x"}),
        ("DELETE", shot_url, None),
        ("POST", f"{shot_url}/duplicate", None),
        ("POST", f"/v1/projects/{project_id}/archive", None),
    ]:
        response = http.request(method, path, json=body, headers={**seen, "If-Match": '"1"'})
        assert response.status_code == 403, (method, path, response.text)


def test_every_route_refuses_another_workspaces_ids(db: Database, http: httpx.Client, crew) -> None:  # type: ignore[no-untyped-def]
    _, auth = crew
    project_id, shots = new_project(http, auth, 1)
    outsider = make_workspace(db)
    them = bearer(make_api_key(db, outsider.owner, outsider))
    shot_url = f"/v1/shots/{shots[0]['id']}"
    for method, path, body in [
        ("GET", f"/v1/projects/{project_id}", None),
        ("PATCH", f"/v1/projects/{project_id}", {"title": "Mine now"}),
        ("POST", f"/v1/projects/{project_id}/archive", None),
        ("GET", f"/v1/projects/{project_id}/shots", None),
        ("POST", f"/v1/projects/{project_id}/shots", {}),
        ("POST", f"/v1/projects/{project_id}/shots/reorder", {"order": [shots[0]["id"]]}),
        ("GET", f"/v1/projects/{project_id}/shots.csv", None),
        ("GET", shot_url, None),
        ("PATCH", shot_url, {"prompt": "x"}),
        ("DELETE", shot_url, None),
        ("POST", f"{shot_url}/restore", None),
        ("POST", f"{shot_url}/duplicate", None),
    ]:
        response = http.request(method, path, json=body, headers={**them, "If-Match": '"1"'})
        assert response.status_code == 404, (method, path, response.text)
    csv_import = http.post(
        f"/v1/projects/{project_id}/shots.csv", content=b"description\nx\n", headers=them
    )
    assert csv_import.status_code == 404
    assert http.get(f"/v1/projects/{project_id}/shots", headers=auth).json()[0]["prompt"] == ""


def test_delete_is_recoverable_and_duplicate_gets_a_new_code(http: httpx.Client, crew) -> None:  # type: ignore[no-untyped-def]
    _, auth = crew
    project_id, shots = new_project(http, auth, 2)
    first = shots[0]["id"]
    assert http.delete(f"/v1/shots/{first}", headers=auth).status_code == 204
    listed = http.get(f"/v1/projects/{project_id}/shots", headers=auth).json()
    assert [s["code"] for s in listed] == ["SC01-SH020"]
    trash = http.get(f"/v1/projects/{project_id}/shots?deleted=true", headers=auth).json()
    assert [s["code"] for s in trash] == ["SC01-SH010"]
    restored = http.post(f"/v1/shots/{first}/restore", headers=auth).json()
    assert restored["code"] == "SC01-SH010" and not restored["deleted"]
    http.patch(
        f"/v1/shots/{first}",
        json={"status": "review"},
        headers={**auth, "If-Match": f'"{restored["version"]}"'},
    )
    copy = http.post(f"/v1/shots/{first}/duplicate", headers=auth).json()
    assert (
        copy["code"] == "SC01-SH030"
        and copy["description"] == "Shot 1"
        and copy["status"] == "todo"
    )


def test_projects_archive_and_restore(http: httpx.Client, crew) -> None:  # type: ignore[no-untyped-def]
    _, auth = crew
    project_id, _ = new_project(http, auth, 0)
    assert http.post(f"/v1/projects/{project_id}/archive", headers=auth).json()["archived"] is True
    assert project_id not in [p["id"] for p in http.get("/v1/projects", headers=auth).json()]
    assert project_id in [
        p["id"] for p in http.get("/v1/projects?archived=true", headers=auth).json()
    ]
    assert http.post(f"/v1/projects/{project_id}/restore", headers=auth).json()["archived"] is False
    bad = http.post("/v1/projects", json={"title": " ", "default_fps": 7}, headers=auth)
    assert bad.status_code == 422


def test_csv_round_trip_and_bad_rows_import_nothing(db: Database, http: httpx.Client, crew) -> None:  # type: ignore[no-untyped-def]
    team, auth = crew
    project_id, _ = new_project(http, auth, 2)
    exported = http.get(f"/v1/projects/{project_id}/shots.csv", headers=auth)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.strip().splitlines()
    assert (
        lines[0] == "code,scene,description,dialogue,camera_notes,prompt,negative_prompt,"
        "duration,ratio,status,assignee"
    )
    edited = "\n".join(
        [
            lines[0],
            lines[1].replace("Shot 1", '"Wide, harbour at dawn"'),
            f",2,New insert,,,a boat,,4.5,1280:720,todo,{team.owner.email}",
        ]
    ).encode()
    result = http.post(
        f"/v1/projects/{project_id}/shots.csv",
        content=edited,
        headers={**auth, "Content-Type": "text/csv"},
    )
    assert result.status_code == 200, result.text
    assert result.json() == {"created": 1, "updated": 1}
    shots = http.get(f"/v1/projects/{project_id}/shots", headers=auth).json()
    assert [s["description"] for s in shots] == ["Wide, harbour at dawn", "Shot 2", "New insert"]
    assert shots[2]["code"] == "SC02-SH010" and shots[2]["target_duration"] == 4.5

    before = http.get(f"/v1/projects/{project_id}/shots", headers=auth).json()
    broken = "\n".join(
        [
            lines[0],
            ",1,fine row,,,,,,,,",
            ",1,bad status,,,,,,,finished,",
            ",x,bad scene and duration,,,,,abc,,,",
            "SC09-SH990,1,unknown code,,,,,,,,",
            ",1,an unquoted, comma,,,,,,,,",
        ]
    ).encode()
    refused = http.post(f"/v1/projects/{project_id}/shots.csv", content=broken, headers=auth)
    assert refused.status_code == 422
    message = refused.json()["message"]
    assert message.startswith("Nothing was imported.")
    assert "row 3: status 'finished'" in message
    assert "row 4: scene 'x'" in message and "duration 'abc'" in message
    assert "row 5: code SC09-SH990 is not in this project" in message
    assert "row 6: has more fields than the header" in message
    assert "row 2" not in message
    assert http.get(f"/v1/projects/{project_id}/shots", headers=auth).json() == before
