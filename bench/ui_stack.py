"""A scratch deployment for the page benchmarks (ui_load.py, first_paint.py).

A fresh Postgres database (STUDIO_TEST_PG_ADMIN_URL), seeded through the
services: workspaces of members, each workspace one project with shots, some
shots with an uploaded take (a real tiny H.264 clip). `studio serve`
subprocesses run from any source tree: this checkout, or another git ref
exported with `git archive` (the "before" side of a side-by-side run), each
on its own port against its own copy of the data; `studio worker` runs jobs
through Redis (BENCH_REDIS_URL, default DB 7).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.accounts import apikeys  # noqa: E402
from studio.accounts import service as accounts  # noqa: E402
from studio.accounts.access import Actor  # noqa: E402
from studio.config import Settings  # noqa: E402
from studio.db import migrate  # noqa: E402
from studio.db.session import Database  # noqa: E402
from studio.generation.context import build_generation  # noqa: E402
from studio.media import ffmpeg  # noqa: E402
from studio.media import service as media  # noqa: E402
from studio.projects import service as projects  # noqa: E402
from studio.projects import takes  # noqa: E402

PG_ADMIN = os.environ.get(
    "STUDIO_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
SECRET = "bench-secret-key-" + "x" * 40
PASSWORD = "bench-password-1234"  # noqa: S105 - scratch accounts of a scratch database
PYTHON = sys.executable


@dataclass
class Member:
    email: str
    api_key: str
    workspace_id: int
    project_id: int
    shot_ids: list[int]


@dataclass
class Scratch:
    """One scratch database (dropped at the end) and its media folder."""

    name: str
    url: str
    data_dir: Path
    members: list[Member] = field(default_factory=list)

    def drop(self) -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )
        shutil.rmtree(self.data_dir, ignore_errors=True)


def scratch_database(label: str) -> Scratch:
    name = f"bench_{label}_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    return Scratch(name, url, Path(tempfile.mkdtemp(prefix=f"bench-{label}-")))


def tiny_clip() -> tuple[bytes, ffmpeg.Probe]:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "clip.mp4"
        subprocess.run(
            [
                *("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x96:rate=8"),
                *("-t", "1", "-pix_fmt", "yuv420p", "-c:v", "libx264", str(path)),
            ],
            check=True,
        )
        return path.read_bytes(), ffmpeg.probe(path)


def seed(
    scratch: Scratch, *, workspaces: int, members: int, shots: int, taken: int
) -> list[Member]:
    """`workspaces` x `members` people (the first owns the workspace, the others
    edit), one project each with `shots` shots, the first `taken` with a take."""
    settings = settings_for(scratch, port=0)
    db = Database(scratch.url)
    generation = build_generation(db, settings)
    clip, info = tiny_clip()
    people: list[Member] = []
    for w in range(workspaces):
        with db.session_scope() as session:
            users = [
                accounts.create_user(
                    session,
                    email=f"m{w:02d}-{m:02d}@bench.example",
                    display_name=f"Member {w}-{m}",
                    password=PASSWORD,
                )
                for m in range(members)
            ]
            owner = Actor(user=users[0])
            workspace = accounts.create_workspace(session, owner, name=f"Team {w:02d}")
            for user in users[1:]:
                accounts.add_member(session, owner, workspace.id, email=user.email, role="editor")
            project = projects.create_project(
                session, owner, workspace_id=workspace.id, title=f"Film {w:02d}"
            )
            shot_ids = []
            for s in range(shots):
                fields = projects.ShotFields(description=f"Shot {s}: the beam crosses the fog")
                shot = projects.add_shot(session, owner, project.id, fields)
                shot_ids.append(shot.id)
                if s < taken:
                    asset = media.keep_uploaded_video(
                        session,
                        generation.storage,
                        workspace_id=workspace.id,
                        folder="uploads",
                        data=clip,
                        info=info,
                    )
                    takes.take_from_asset(session, owner, shot.id, asset)
            for user in users:
                key = apikeys.create_key(
                    session, Actor(user=user), workspace_id=workspace.id, name="bench"
                )
                people.append(Member(user.email, key.secret, workspace.id, project.id, shot_ids))
    db.dispose()
    scratch.members = people
    return people


def settings_for(scratch: Scratch, port: int) -> Settings:
    return Settings(
        data_dir=scratch.data_dir,
        database_url=scratch.url,
        secret_key=SECRET,
        base_url=f"http://127.0.0.1:{port}",
        login_max_failures=10_000,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def export_tree(ref: str) -> Path:
    """The source tree of `ref` in a temporary folder (`git archive`)."""
    target = Path(tempfile.mkdtemp(prefix=f"bench-tree-{ref.replace('/', '_')}-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref],  # noqa: S607
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


class Process:
    """`studio serve` (or `studio worker`) from `tree`, against `scratch`."""

    def __init__(
        self,
        tree: Path,
        scratch: Scratch,
        command: list[str],
        *,
        port: int = 0,
        redis_prefix: str = "",
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(tree),
            STUDIO_DATABASE_URL=scratch.url,
            STUDIO_SECRET_KEY=SECRET,
            STUDIO_DATA_DIR=str(scratch.data_dir),
            STUDIO_BASE_URL=self.url,
            STUDIO_LOGIN_MAX_FAILURES="10000",
            STUDIO_STORAGE_CHECK_ON_START="false",
            GRADIO_TEMP_DIR=str(scratch.data_dir / "gradio"),
        )
        if redis_prefix:
            env.update(STUDIO_REDIS_URL=REDIS_URL, STUDIO_QUEUE_PREFIX=redis_prefix)
        # Kept open for the process's lifetime (its stdout).
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="bench-", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "studio.cli", *command],
            cwd=tree,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log.name}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server did not start; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def serve(tree: Path, scratch: Scratch, *, redis_prefix: str = "") -> Process:
    port = free_port()
    server = Process(
        tree,
        scratch,
        # The scratch database was migrated by this checkout (scratch_database): an
        # older tree must not try to move it to its own (older) head.
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"],
        port=port,
        redis_prefix=redis_prefix,
    )
    server.wait_healthy()
    return server


def worker(tree: Path, scratch: Scratch, *, redis_prefix: str) -> Process:
    return Process(
        tree,
        scratch,
        ["worker", "--queues", "gpu,cpu", "--loglevel", "warning", "--no-migrate"],
        redis_prefix=redis_prefix,
    )


def sign_in(base_url: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30)
    answer = client.post("/login", data={"email": email, "password": PASSWORD})
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in failed: {answer.status_code} {answer.text[:200]}")
    return client
