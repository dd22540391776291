"""Plain factory functions: real rows through the real services."""

from __future__ import annotations

import html
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx

from studio.accounts import apikeys
from studio.accounts import service as accounts
from studio.accounts.access import Actor
from studio.accounts.models import Role
from studio.db.session import Database

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class UserInfo:
    id: int
    email: str
    password: str


@dataclass(frozen=True)
class WorkspaceInfo:
    id: int
    slug: str
    owner: UserInfo


def unique_email(label: str = "user") -> str:
    return f"{label}-{secrets.token_hex(4)}@studio.example"


def make_user(db: Database, label: str = "user", *, is_admin: bool = False) -> UserInfo:
    email = unique_email(label)
    with db.session_scope() as session:
        user = accounts.create_user(session, email=email, password=PASSWORD, is_admin=is_admin)
        return UserInfo(user.id, email, PASSWORD)


def make_workspace(
    db: Database, owner: UserInfo | None = None, name: str = "Team"
) -> WorkspaceInfo:
    owner = owner or make_user(db, "owner")
    with db.session_scope() as session:
        actor = Actor(user=accounts.get_user(session, owner.id))  # type: ignore[arg-type]
        workspace = accounts.create_workspace(session, actor, name=f"{name} {secrets.token_hex(3)}")
        return WorkspaceInfo(workspace.id, workspace.slug, owner)


def add_member(db: Database, workspace: WorkspaceInfo, user: UserInfo, role: Role) -> None:
    with db.session_scope() as session:
        owner = Actor(user=accounts.get_user(session, workspace.owner.id))  # type: ignore[arg-type]
        accounts.add_member(session, owner, workspace.id, email=user.email, role=role)


def make_api_key(db: Database, user: UserInfo, workspace: WorkspaceInfo) -> str:
    with db.session_scope() as session:
        actor = Actor(user=accounts.get_user(session, user.id))  # type: ignore[arg-type]
        return apikeys.create_key(session, actor, workspace_id=workspace.id, name="test").secret


def login(client: httpx.Client, user: UserInfo) -> httpx.Response:
    response = client.post("/login", data={"email": user.email, "password": user.password})
    assert response.status_code == 303, response.text
    return response


class UIError(Exception):
    """A Gradio handler answered with gr.Error; str() is the message shown to the user."""


def shown_error(outputs: list[Any]) -> str | None:
    """The text of an error a handler showed beside its action (ui/inline_errors), if any."""
    for out in outputs:
        if not isinstance(out, dict) or out.get("__type__") != "update" or not out.get("visible"):
            continue
        text = str(out.get("value") or "")
        if 'class="action-error"' in text:
            return html.unescape(re.sub(r"<[^>]+>", "", text))
    return None


def call_ui(
    client: httpx.Client, api_name: str, *args: Any, errors_in_place: bool = False
) -> list[Any]:
    """Call a Gradio event handler the way any signed-in browser (or attacker) can.

    A refusal is a UIError whether the handler raised it or showed it beside its
    action; `errors_in_place=True` returns the outputs instead (to read the line).
    """
    start = client.post(f"/gradio_api/call/{api_name}", json={"data": list(args)})
    if start.status_code != 200:
        raise UIError(f"HTTP {start.status_code}: {start.text}")
    event_id = start.json()["event_id"]
    event = None
    with client.stream("GET", f"/gradio_api/call/{api_name}/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in {"complete", "error"}:
                payload = json.loads(line.split(":", 1)[1].strip() or "null")
                if event == "error":
                    raise UIError(payload if isinstance(payload, str) else json.dumps(payload))
                outputs = list(payload)
                shown = None if errors_in_place else shown_error(outputs)
                if shown is not None:
                    raise UIError(shown)
                return outputs
    raise UIError("stream ended without a result")


def live_view(
    client: httpx.Client, project: int, shot: int | None = None, take: int | None = None
) -> dict[str, Any]:
    """What an open Projects page shows of a view, by part name (project_live.PARTS
    but the poll mark): its poll route's answer to a page that has nothing yet
    (every HTML part), and the Gradio render of the take picker and take tools."""
    params = {k: v for k, v in (("shot", shot), ("take", take)) if v is not None}
    answer = client.get(f"/ui/projects/{project}/changes", params=params)
    if answer.status_code != 200:
        raise UIError(f"HTTP {answer.status_code}: {answer.text}")
    parts = dict(answer.json()["parts"])
    take_part, tools = call_ui(client, "refresh_project", project, shot, take, None)
    return parts | {"take": take_part, "tools": tools}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def wait_finished(
    client: httpx.Client, auth: dict[str, str], task_id: str, timeout: float = 90
) -> dict[str, Any]:
    """Poll GET /v1/tasks/{id} until the task has ended (or fail after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        task: dict[str, Any] = client.get(f"/v1/tasks/{task_id}", headers=auth).json()
        if task["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return task
        assert time.monotonic() < deadline, f"task still {task['status']}: {task}"
        time.sleep(0.2)


def upload_ui_file(client: httpx.Client, name: str, data: bytes) -> dict[str, Any]:
    """Upload a file the way Gradio's file inputs do; returns the FileData to pass on."""
    response = client.post("/gradio_api/upload", files={"files": (name, data)})
    if response.status_code != 200:
        raise UIError(f"HTTP {response.status_code}: {response.text}")
    path = response.json()[0]
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}
