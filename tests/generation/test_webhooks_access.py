"""The delivery log and re-send, through the API and the Account page's handlers:
admins and owners only, never another workspace's events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from studio.accounts.access import Actor
from studio.accounts.models import AuditEvent, Role, User
from studio.db.session import Database
from studio.generation import service as jobs
from studio.generation.models import Job, JobStatus
from studio.generation.webhooks import set_webhook
from tests.conftest import LiveServer
from tests.factories import (
    UIError,
    UserInfo,
    WorkspaceInfo,
    add_member,
    bearer,
    call_ui,
    login,
    make_api_key,
    make_user,
    make_workspace,
)


def ended_tasks(db: Database, team: WorkspaceInfo, count: int) -> list[str]:
    """Tasks that ended (cancelled while queued) after the webhook was set: events."""
    ids = []
    with db.session_scope() as session:
        owner = Actor(user=session.get(User, team.owner.id))  # type: ignore[arg-type]
        set_webhook(session, owner, team.id, "http://127.0.0.1:9/hook", allow_private=True)
        for _ in range(count):
            job = Job(
                workspace_id=team.id,
                user_id=team.owner.id,
                queue="q-none",  # no runner serves it
                model_key="m",
                mode="text_to_image",
                params={},
                status=JobStatus.QUEUED,
            )
            session.add(job)
            session.flush()
            jobs.cancel_job(session, owner, job.public_id)
            ids.append(job.public_id)
    return ids


def member(db: Database, team: WorkspaceInfo, role: Role) -> UserInfo:
    user = make_user(db, role.value)
    add_member(db, team, user, role)
    return user


def log_of(http: httpx.Client, slug: str, key: str, **params: Any) -> httpx.Response:
    return http.get(f"/v1/workspaces/{slug}/webhook/deliveries", params=params, headers=bearer(key))


def resend(http: httpx.Client, slug: str, key: str, event_id: str) -> httpx.Response:
    return http.post(
        f"/v1/workspaces/{slug}/webhook/deliveries/{event_id}/resend", headers=bearer(key)
    )


def test_the_delivery_log_and_resend_are_for_admins_of_the_workspace(
    http: httpx.Client, db: Database
) -> None:
    team, elsewhere = make_workspace(db), make_workspace(db)
    task_ids = ended_tasks(db, team, 2)
    other_ids = ended_tasks(db, elsewhere, 1)
    keys = {
        role: make_api_key(db, member(db, team, role), team)
        for role in (Role.ADMIN, Role.EDITOR, Role.VIEWER)
    }
    keys[Role.OWNER] = make_api_key(db, team.owner, team)
    outsider = make_api_key(db, elsewhere.owner, elsewhere)

    for role in (Role.OWNER, Role.ADMIN):
        shown = log_of(http, team.slug, keys[role])
        assert shown.status_code == 200, shown.text
        items = shown.json()["deliveries"]
        assert [d["taskId"] for d in items] == task_ids[::-1]  # newest first
        assert all(d["id"] == f"evt_{d['taskId']}" for d in items)
        assert all(d["event"] == "task.finished" for d in items)
    for role in (Role.EDITOR, Role.VIEWER):
        refused = log_of(http, team.slug, keys[role])
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        refused = resend(http, team.slug, keys[role], f"evt_{task_ids[0]}")
        assert refused.status_code == 403
    assert log_of(http, team.slug, outsider).status_code == 404
    assert resend(http, team.slug, outsider, f"evt_{task_ids[0]}").status_code == 404
    # Through their own workspace, another team's event does not exist.
    theirs = log_of(http, elsewhere.slug, outsider).json()["deliveries"]
    assert [d["taskId"] for d in theirs] == other_ids
    crossed = resend(http, elsewhere.slug, outsider, f"evt_{task_ids[0]}")
    assert crossed.status_code == 404 and crossed.json()["error"] == "delivery_not_found"
    assert resend(http, team.slug, keys[Role.ADMIN], "evt_nope").status_code == 404
    assert log_of(http, team.slug, keys[Role.ADMIN], status="lost").status_code == 422
    assert log_of(http, team.slug, keys[Role.ADMIN], limit=0).status_code == 422
    only_failed = log_of(http, team.slug, keys[Role.ADMIN], status="delivered")
    assert only_failed.status_code == 200 and only_failed.json()["deliveries"] == []

    again = resend(http, team.slug, keys[Role.ADMIN], f"evt_{task_ids[0]}")
    assert again.status_code == 200, again.text
    assert (again.json()["status"], again.json()["attempts"]) == ("pending", 0)
    with db.session_scope() as session:
        audited = session.scalars(
            select(AuditEvent.target).where(
                AuditEvent.workspace_id == team.id, AuditEvent.action == "workspace.webhook_resent"
            )
        ).all()
    assert audited == [f"webhook:evt_{task_ids[0]}"]

    # No webhook any more: a re-send says so and changes nothing.
    cleared = http.put(
        f"/v1/workspaces/{team.slug}/webhook", json={"url": None}, headers=bearer(keys[Role.OWNER])
    )
    assert cleared.status_code == 200
    refused = resend(http, team.slug, keys[Role.ADMIN], f"evt_{task_ids[1]}")
    assert refused.status_code == 409 and refused.json()["error"] == "no_webhook"


def rows_of(result: list[Any]) -> list[list[Any]]:
    table = result[0]
    return list(table["data"] if isinstance(table, dict) else table)


def test_the_account_page_shows_deliveries_and_resends_for_admins_only(
    live_server: LiveServer, db: Database
) -> None:
    team, elsewhere = make_workspace(db), make_workspace(db)
    task_ids = ended_tasks(db, team, 2)
    ended_tasks(db, elsewhere, 1)
    people = {role: member(db, team, role) for role in (Role.ADMIN, Role.EDITOR, Role.VIEWER)}
    event = f"evt_{task_ids[0]}"

    @contextmanager
    def client_for(user: UserInfo) -> Iterator[httpx.Client]:
        with httpx.Client(base_url=live_server.url, timeout=30) as client:
            login(client, user)
            yield client

    with client_for(people[Role.ADMIN]) as admin:
        rows = rows_of(call_ui(admin, "webhook_deliveries", team.id))
        assert [r[0] for r in rows] == [f"evt_{t}" for t in task_ids[::-1]]
        assert {r[1] for r in rows} <= {"pending", "sending…", "failed"}
        rows = rows_of(call_ui(admin, "resend_webhook", team.id, event))
        assert [r[0] for r in rows] == [f"evt_{t}" for t in task_ids[::-1]]
        # Another workspace: not found, whichever handler.
        with pytest.raises(UIError, match="not found"):
            call_ui(admin, "webhook_deliveries", elsewhere.id)
        with pytest.raises(UIError, match="not found"):
            call_ui(admin, "resend_webhook", elsewhere.id, event)
        with pytest.raises(UIError, match="Choose"):
            call_ui(admin, "resend_webhook", team.id, None)
    for role in (Role.EDITOR, Role.VIEWER):
        with client_for(people[role]) as person:
            with pytest.raises(UIError, match="admin role"):
                call_ui(person, "webhook_deliveries", team.id)
            with pytest.raises(UIError, match="admin role"):
                call_ui(person, "resend_webhook", team.id, event)
    with client_for(elsewhere.owner) as stranger:
        with pytest.raises(UIError, match="not found"):
            call_ui(stranger, "webhook_deliveries", team.id)
        # Their own workspace id with our event id: no such delivery there.
        with pytest.raises(UIError, match="No such webhook delivery"):
            call_ui(stranger, "resend_webhook", elsewhere.id, event)
    with db.session_scope() as session:
        resent = session.scalars(
            select(AuditEvent.actor_user_id).where(
                AuditEvent.workspace_id == team.id, AuditEvent.action == "workspace.webhook_resent"
            )
        ).all()
    assert resent == [people[Role.ADMIN].id]
