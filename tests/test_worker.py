"""A real Celery worker process on the machine's Redis answers a task."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from studio.config import Settings
from studio.queue import create_celery
from tests.conftest import TEST_SECRET, unavailable

REDIS_URL = os.environ.get("STUDIO_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
STUDIO = str(Path(sys.executable).with_name("studio"))


def test_studio_worker_runs_tasks_from_redis(tmp_path: Path) -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.exceptions.ConnectionError:
        unavailable(f"Redis at {REDIS_URL}")
    env = {
        **os.environ,
        "STUDIO_REDIS_URL": REDIS_URL,
        "STUDIO_SECRET_KEY": TEST_SECRET,
        "STUDIO_DATA_DIR": str(tmp_path),
    }
    queue = f"test-{secrets.token_hex(4)}"
    worker = subprocess.Popen(
        [STUDIO, "worker", "--queues", queue, "--loglevel", "warning"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        celery = create_celery(
            Settings(redis_url=REDIS_URL, secret_key=TEST_SECRET, data_dir=tmp_path)
        )
        token = secrets.token_hex(8)
        result = celery.send_task("studio.ping", args=[token], queue=queue)
        assert result.get(timeout=60) == token
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            pytest.fail("worker did not stop on SIGTERM")
