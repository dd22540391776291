"""The `studio` command: real invocations, clear one-line errors, nothing half-written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from studio.accounts.models import Membership, User, Workspace
from studio.cli import DEMO_EMAIL
from studio.db.session import Database
from studio.projects.models import Project, Shot
from tests.conftest import TEST_SECRET, LiveServer
from tests.factories import make_user, unique_email

STUDIO = str(Path(sys.executable).with_name("studio"))


@pytest.fixture
def run(database_url: str, tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    env = {
        **os.environ,
        "STUDIO_DATABASE_URL": database_url,
        "STUDIO_SECRET_KEY": TEST_SECRET,
        "STUDIO_DATA_DIR": str(tmp_path),
    }

    def studio(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [STUDIO, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
        )

    yield studio


def counts(db: Database) -> tuple[int, int]:
    with db.session_scope() as session:
        users = session.scalar(select(func.count()).select_from(User)) or 0
        spaces = session.scalar(select(func.count()).select_from(Workspace)) or 0
    return int(users), int(spaces)


def test_users_workspaces_and_keys_from_the_command_line(
    run, db: Database, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    email = unique_email("cli")
    made = run(
        "users", "create", email, "--admin", "--password-stdin", stdin="a long cli password\n"
    )
    assert made.returncode == 0, made.stderr
    assert "site admin" in made.stdout
    space = run("workspaces", "create", "CLI Crew", "--owner", email)
    assert space.returncode == 0, space.stderr
    slug = re.search(r"slug (\S+)\)", space.stdout).group(1)  # type: ignore[union-attr]
    key = run("apikeys", "create", "--user", email, "--workspace", slug)
    assert key.returncode == 0, key.stderr
    secret = key.stdout.strip()
    assert secret.startswith("stu_") and "shown only once" in key.stderr
    me = httpx.get(f"{live_server.url}/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["user"]["email"] == email
    assert me.json()["workspaces"][0]["slug"] == slug


def test_bad_input_exits_nonzero_with_one_line_and_writes_nothing(run, db: Database) -> None:  # type: ignore[no-untyped-def]
    existing = make_user(db)
    before = counts(db)
    cases = [
        (("users", "create", "not-an-email"), "not a valid email"),
        (("users", "create", existing.email), "already exists"),
        (("users", "create", unique_email(), "--password-stdin"), "No password"),
        (("workspaces", "create", "", "--owner", existing.email), "cannot be empty"),
        (("workspaces", "create", "x" * 81, "--owner", existing.email), "limit is 80"),
        (("workspaces", "create", "Team", "--owner", "nobody@studio.example"), "No user"),
        (("apikeys", "create", "--user", existing.email, "--workspace", "no-such"), "No workspace"),
    ]
    for args, message in cases:
        result = run(*args, stdin="")
        assert result.returncode != 0, args
        assert message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert counts(db) == before


def test_demo_prints_a_login_that_works(run, db: Database, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    first = run("demo")
    assert first.returncode == 0, first.stderr
    match = re.search(r"One-time demo password: (\S+)", first.stdout)
    if match is None:  # the demo user exists from an earlier test on this database
        first = run("demo", "--reset")
        match = re.search(r"One-time demo password: (\S+)", first.stdout)
    assert match is not None, first.stdout
    with httpx.Client(base_url=live_server.url) as browser:
        signed_in = browser.post("/login", data={"email": DEMO_EMAIL, "password": match.group(1)})
        assert signed_in.status_code == 303
        assert browser.get("/", headers={"Accept": "text/html"}).status_code == 200
    again = run("demo")
    assert again.returncode == 0 and "One-time demo password" not in again.stdout
    # The first visit has a sample project to work on, made once.
    with db.session_scope() as session:
        shots = session.scalars(
            select(Shot.code)
            .join(Project, Project.id == Shot.project_id)
            .join(Membership, Membership.workspace_id == Project.workspace_id)
            .join(User, User.id == Membership.user_id)
            .where(User.email == DEMO_EMAIL, Project.title == "The Lighthouse")
        ).all()
    assert sorted(shots) == ["SC01-SH010", "SC01-SH020", "SC01-SH030"]


def test_deployment_without_a_secret_key_refuses_to_serve(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "STUDIO_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
        "STUDIO_DATA_DIR": str(tmp_path),
    }
    env.pop("STUDIO_SECRET_KEY", None)
    result = subprocess.run(
        [STUDIO, "serve", "--no-migrate"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 2
    assert "STUDIO_SECRET_KEY is not set" in result.stderr


def test_worker_without_redis_explains_itself(tmp_path: Path) -> None:
    env = {**os.environ, "STUDIO_DATA_DIR": str(tmp_path)}
    env.pop("STUDIO_REDIS_URL", None)
    result = subprocess.run([STUDIO, "worker"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "STUDIO_REDIS_URL is not set" in result.stderr
