"""A real multi-process deployment for tests: the web app with Redis dispatch,
and `studio worker` subprocesses that can be started and killed at will."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

from studio.config import Settings
from tests.conftest import TEST_SECRET, LiveServer, start_server, unavailable

REDIS_URL = os.environ.get("STUDIO_TEST_GENERATION_REDIS_URL", "redis://127.0.0.1:6379/14")
STUDIO = str(Path(sys.executable).with_name("studio"))


def require_redis() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        unavailable(f"Redis at {REDIS_URL}")
    return client


@dataclass
class Stack:
    server: LiveServer
    env: dict[str, str]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: Path | None = None

    def start_worker(self, queues: str = "gpu,cpu") -> subprocess.Popen[bytes]:
        assert self.logs is not None
        log = (self.logs / f"worker-{len(self.workers)}.log").open("wb")
        proc = subprocess.Popen(
            [STUDIO, "worker", "--queues", queues, "--loglevel", "info"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.workers.clear()

    def worker_logs(self) -> str:
        assert self.logs is not None
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.logs.glob("*.log"))
        )


def build_stack(settings: Settings, models_file: Path, logs: Path, **overrides: Any) -> Stack:
    require_redis()
    prefix = f"t{secrets.token_hex(3)}-"
    values: dict[str, Any] = {
        "redis_url": REDIS_URL,
        "queue_prefix": prefix,
        "models_file": models_file,
        "job_lease_seconds": 3,
        "job_heartbeat_seconds": 0.5,
        "maintenance_interval_seconds": 0.5,
        "job_max_attempts": 2,
        **overrides,
    }
    server = start_server(settings.model_copy(update=values))
    env = {
        **os.environ,
        "STUDIO_DATABASE_URL": settings.database_url,
        "STUDIO_DATA_DIR": str(settings.data_dir),
        "STUDIO_MEDIA_DIR": str(settings.media_path),
        "STUDIO_SECRET_KEY": TEST_SECRET,
        "STUDIO_BASE_URL": server.url,
        "STUDIO_WEBHOOKS_ALLOW_PRIVATE": "true",
        **{f"STUDIO_{k.upper()}": str(v) for k, v in values.items()},
    }
    logs.mkdir(parents=True, exist_ok=True)
    return Stack(server=server, env=env, logs=logs)


def wait_task(
    client: httpx.Client, key: str, task_id: str, until: set[str], timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        task = client.get(f"/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {key}"}).json()
        if task["status"] in until:
            return task
        if time.monotonic() > deadline:
            raise AssertionError(f"task stuck in {task['status']}: {task}")
        time.sleep(0.2)
