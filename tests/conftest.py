"""Shared fixtures: a real database per backend, a real server, HTTP helpers.

Every test that touches the database runs once on SQLite and once on
Postgres (`--db sqlite,postgres`, the default). Each run gets a fresh
database made by `alembic upgrade head`. With CI=true a missing Postgres
fails the run instead of skipping.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from psycopg import sql

from studio.app import create_app
from studio.config import Settings
from studio.db import migrate
from studio.db.session import Database
from studio.job_kinds import register_all

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_ADMIN_URL = os.environ.get(
    "STUDIO_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_SECRET = "test-secret-key-" + "x" * 40


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default="sqlite,postgres",
        help="comma-separated backends to run database tests on (sqlite, postgres)",
    )


# Each pytest-xdist worker gets its own Redis database for the Celery stacks
# (queue prefixes already keep their messages apart; a test that flushes its
# database must not flush another worker's). An explicit setting wins.
XDIST_REDIS_DBS = (14, 15, 4, 5)


def pytest_configure(config: pytest.Config) -> None:
    # The job kinds other domains register with the runner (rough cut, upload
    # check), as the web app and `studio worker` do when they start.
    register_all()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ...
    if worker.startswith("gw") and "STUDIO_TEST_GENERATION_REDIS_URL" not in os.environ:
        index = int(worker[2:]) % len(XDIST_REDIS_DBS)
        os.environ["STUDIO_TEST_GENERATION_REDIS_URL"] = (
            f"redis://127.0.0.1:6379/{XDIST_REDIS_DBS[index]}"
        )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = [b.strip() for b in metafunc.config.getoption("--db").split(",") if b.strip()]
        if metafunc.definition.get_closest_marker("browser") and len(backends) > 1:
            # A browser drives the same handlers the page tests already run on every
            # backend; one backend (the embedded default's first) keeps CI short.
            backends = backends[:1]
        metafunc.parametrize("backend", backends, scope="session")


def unavailable(what: str) -> None:
    """Skip locally, fail in CI: CI must exercise every real service."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI but unavailable", pytrace=False)
    pytest.skip(f"{what} unavailable")


@pytest.fixture(scope="session", autouse=True)
def gradio_upload_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Gradio's upload folder, one per test process (unless GRADIO_TEMP_DIR is
    set): a test server's upload sweep never touches another process's files."""
    if not os.environ.get("GRADIO_TEMP_DIR"):
        os.environ["GRADIO_TEMP_DIR"] = str(tmp_path_factory.mktemp("gradio-uploads"))
    return Path(os.environ["GRADIO_TEMP_DIR"])


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'studio.db'}"
        migrate.upgrade(url)
        yield url
        return
    name = f"studio_test_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        unavailable(f"Postgres at {PG_ADMIN_URL}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("data"),
        database_url=database_url,
        secret_key=TEST_SECRET,
        login_max_failures=50,  # throttling has its own server in its test
        max_upload_bytes=1_000_000,  # small, so oversize uploads are cheap to test
        max_image_pixels=4_000_000,
        webhooks_allow_private=True,  # the test receiver listens on loopback
        maintenance_interval_seconds=0.5,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The real app under uvicorn on a loopback port, in a thread."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = settings.model_copy(update={"base_url": self.url})
        self.settings = settings
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_server(settings: Settings) -> LiveServer:
    server = LiveServer(settings)
    server.start()
    return server


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    server = start_server(settings)
    yield server
    server.stop()


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    """A fresh browser-like client (own cookie jar) against the live server."""
    with httpx.Client(base_url=live_server.url, timeout=30, follow_redirects=False) as client:
        yield client


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(__file__).resolve().parents[1] / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a loopback port (a real HTTP endpoint for boto3)."""
    from moto.server import ThreadedMotoServer

    from tests.s3 import use_test_credentials

    use_test_credentials()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
