"""Many hosts starting at once on an empty database migrate it once, and all come up."""

from __future__ import annotations

import os
import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import create_engine, inspect

from studio.db import migrate
from tests.conftest import PG_ADMIN_URL, TEST_SECRET, unavailable
from tests.generation.celery_stack import STUDIO

pytestmark = pytest.mark.multihost
HOSTS = 6


def test_hosts_starting_together_migrate_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    name = f"studio_start_{secrets.token_hex(5)}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError:
        unavailable(f"Postgres at {PG_ADMIN_URL}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        env = {**os.environ, "STUDIO_DATABASE_URL": url, "STUDIO_SECRET_KEY": TEST_SECRET}

        def start(index: int) -> subprocess.CompletedProcess[str]:
            host_env = {**env, "STUDIO_DATA_DIR": str(tmp_path / f"host-{index}")}
            return subprocess.run(
                [STUDIO, "db", "upgrade"], env=host_env, capture_output=True, text=True, timeout=180
            )

        with ThreadPoolExecutor(max_workers=HOSTS) as pool:
            results = list(pool.map(start, range(HOSTS)))
        assert [r.returncode for r in results] == [0] * HOSTS, [r.stderr[-2000:] for r in results]
        said = sorted(r.stdout.strip() for r in results)
        assert said == ["Database is up to date."] * (HOSTS - 1) + [
            "Database migrated to the latest schema."
        ], said
        assert migrate.current_revision(url) is not None
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        assert {"users", "jobs", "uploads", "jams"} <= set(inspect(engine).get_table_names())
        engine.dispose()
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
