"""Studio on hosts that share only Postgres, Redis and an S3 bucket.

Two web processes (127.0.0.2 and 127.0.0.3), a gpu worker and a cpu worker,
each a real `studio` subprocess with its own data folder, all started at the
same moment on an empty database. Media lives in moto's S3 server (a real
HTTP endpoint on loopback); nothing is shared on disk. One flow, in order:

- every host comes up, and the schema was made once (under the lock);
- a Runway task's output plays from both web hosts (presigned redirects, Range);
- an image-to-video job with a reference image succeeds on the gpu worker;
- takes made on the gpu worker are cut by the cpu worker; a take uploaded
  through one web host straight to the store is extended through the other
  and cut too (the cut lasts the sum of its clips);
- a jam film uploaded directly to the store is probed on the cpu worker and
  submitted, dated when its completed upload was attached;
- a missing object makes the rough cut fail with the shot's name.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
from PIL import Image
from psycopg import sql
from sqlalchemy import select, text

from studio.db.session import Database
from studio.generation.models import Job
from studio.media import ffmpeg
from studio.media.models import Asset
from studio.projects.models import Take
from tests import upload_client as uc
from tests.conftest import PG_ADMIN_URL, TEST_SECRET, free_port, unavailable
from tests.factories import WorkspaceInfo, bearer, make_api_key, make_user, make_workspace
from tests.generation.celery_stack import REDIS_URL, STUDIO, require_redis
from tests.generation.conftest import require_ml
from tests.jams.helpers import film_bytes, make_jam, register
from tests.s3 import client as s3_client
from tests.s3 import make_bucket

pytestmark = pytest.mark.multihost

WEB_ADDRESSES = ["127.0.0.2", "127.0.0.3"]
MODEL = "tiny-ltx"  # text and image to video, a few frames of noise in well under a second


@dataclass
class Host:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    url: str = ""

    def tail(self) -> str:
        return f"--- {self.name}\n" + self.log.read_text(errors="replace")[-4000:]


@dataclass
class Cluster:
    database_url: str
    bucket: str
    endpoint: str
    env: dict[str, str]
    hosts: list[Host] = field(default_factory=list)

    @property
    def webs(self) -> list[Host]:
        return [h for h in self.hosts if h.url]

    def logs(self) -> str:
        return "\n".join(h.tail() for h in self.hosts)


def _empty_database() -> tuple[str, str]:
    name = f"studio_hosts_{secrets.token_hex(5)}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError:
        unavailable(f"Postgres at {PG_ADMIN_URL}")
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str, artifacts_dir: Path
) -> Iterator[Cluster]:
    require_ml()
    require_redis()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    from studio.generation.engines.diffusers_tiny import make_tiny

    models = make_tiny(tmp_path_factory.mktemp("models"), [MODEL])
    name, url = _empty_database()
    bucket = make_bucket(s3_endpoint)
    logs = artifacts_dir / "multihost"
    logs.mkdir(exist_ok=True)
    common = {
        **os.environ,
        "STUDIO_DATABASE_URL": url,
        "STUDIO_REDIS_URL": REDIS_URL,
        "STUDIO_QUEUE_PREFIX": f"mh{secrets.token_hex(3)}-",
        "STUDIO_SECRET_KEY": TEST_SECRET,
        "STUDIO_STORAGE_URL": f"s3://{bucket}/studio",
        "STUDIO_S3_ENDPOINT_URL": s3_endpoint,
        "STUDIO_MODELS_FILE": str(models),
        "STUDIO_JOB_LEASE_SECONDS": "10",
        "STUDIO_JOB_HEARTBEAT_SECONDS": "0.5",
        "STUDIO_JOB_RESEND_AFTER_SECONDS": "2",
        "STUDIO_MAINTENANCE_INTERVAL_SECONDS": "0.5",
        # Films above 100 kB are probed by a cpu worker, not the web host.
        "STUDIO_UPLOAD_PROBE_INLINE_BYTES": "100000",
        "STUDIO_WEBHOOKS_ALLOW_PRIVATE": "true",
        "PYTHONUNBUFFERED": "1",
    }
    plans: list[tuple[str, list[str], dict[str, str], str]] = []
    for index, address in enumerate(WEB_ADDRESSES):
        port = free_port()
        base = f"http://{address}:{port}"
        plans.append(
            (
                f"web-{index}",
                ["serve", "--host", address, "--port", str(port)],
                {"STUDIO_BASE_URL": base},
                base,
            )
        )
    plans.append(("worker-gpu", ["worker", "--queues", "gpu"], {}, ""))
    plans.append(("worker-cpu", ["worker", "--queues", "cpu"], {}, ""))
    cluster = Cluster(url, bucket, s3_endpoint, common)
    for host_name, args, extra, base in plans:  # the same moment, as near as Popen allows
        data = tmp_path_factory.mktemp(host_name)
        log = logs / f"{host_name}.log"
        proc = subprocess.Popen(
            [STUDIO, *args],
            env={**common, **extra, "STUDIO_DATA_DIR": str(data)},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        cluster.hosts.append(Host(host_name, proc, log, base))
    try:
        _wait_up(cluster)
        yield cluster
    finally:
        for host in cluster.hosts:
            if host.proc.poll() is None:
                host.proc.send_signal(signal.SIGTERM)
        for host in cluster.hosts:
            try:
                host.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                host.proc.kill()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _wait_up(cluster: Cluster, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    pending = {h.name for h in cluster.hosts}
    while pending:
        for host in cluster.hosts:
            if host.name not in pending:
                continue
            if host.proc.poll() is not None:
                raise AssertionError(f"{host.name} exited at start-up\n{cluster.logs()}")
            if host.url:
                try:
                    if httpx.get(host.url + "/healthz", timeout=2).status_code == 200:
                        pending.discard(host.name)
                except httpx.HTTPError:
                    pass
            elif " ready." in host.log.read_text(errors="replace"):
                pending.discard(host.name)
        if time.monotonic() > deadline:
            raise AssertionError(f"not up: {sorted(pending)}\n{cluster.logs()}")
        time.sleep(0.3)


def _wait(
    client: httpx.Client, auth: dict[str, str], task_id: str, cluster: Cluster, timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        task: dict[str, Any] = client.get(f"/v1/tasks/{task_id}", headers=auth).json()
        if task["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return task
        if time.monotonic() > deadline:
            raise AssertionError(f"task still {task['status']}: {task}\n{cluster.logs()}")
        time.sleep(0.25)


def _plays(url: str) -> bytes:
    """A media link: a redirect to the store, which serves the bytes and Range requests."""
    first = httpx.get(url, follow_redirects=False, timeout=30)
    assert first.status_code == 307, first.text
    assert first.headers["location"].startswith("http://127.0.0.1:")  # the store, not the host
    whole = httpx.get(url, follow_redirects=True, timeout=30)
    assert whole.status_code == 200
    ranged = httpx.get(url, follow_redirects=True, timeout=30, headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and ranged.content == whole.content[:100]
    return whole.content


def _probe(data: bytes, tmp: Path) -> ffmpeg.Probe:
    path = tmp / f"{secrets.token_hex(4)}.mp4"
    path.write_bytes(data)
    return ffmpeg.probe(path)


def _png_data_uri() -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.full((48, 48, 3), (200, 80, 40), np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _padded(data: bytes, size: int) -> bytes:
    """A real MP4 made `size` bytes long with a trailing 'free' box."""
    filler = size - len(data)
    return data + filler.to_bytes(4, "big") + b"free" + b"\0" * (filler - 8)


def _clip(tmp: Path, frames: int = 16) -> bytes:
    path = tmp / "upload.mp4"
    ramp = np.linspace(0, 255, frames, dtype=np.uint8)[:, None, None, None]
    ffmpeg.encode_mp4(np.broadcast_to(ramp, (frames, 48, 64, 3)).copy(), 8, path)
    return path.read_bytes()


def test_hosts_sharing_only_postgres_redis_and_a_bucket(cluster: Cluster, tmp_path: Path) -> None:
    # Everyone came up on an empty database; the schema was made once.
    assert all(h.proc.poll() is None for h in cluster.hosts), cluster.logs()
    # The workers' container healthcheck: a ping through the broker.
    health = subprocess.run(
        [STUDIO, "worker-health"], env=cluster.env, capture_output=True, timeout=60
    )
    assert health.returncode == 0, health.stderr
    db = Database(cluster.database_url)
    with db.session_scope() as session:
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    web_a, web_b = (httpx.Client(base_url=h.url, timeout=60) for h in cluster.webs)
    team = make_workspace(db)
    auth = bearer(make_api_key(db, team.owner, team))

    # A Runway task made through one host plays from both.
    made = web_a.post(
        "/v1/text_to_video",
        json={"model": MODEL, "promptText": "a lighthouse", "ratio": "1280:720", "duration": 1},
        headers=auth,
    )
    assert made.status_code == 200, made.text
    task = _wait(web_b, auth, made.json()["id"], cluster)
    assert task["status"] == "SUCCEEDED", task
    from_b = _plays(task["output"][0])
    again = web_a.get(f"/v1/tasks/{task['id']}", headers=auth).json()
    assert again["output"][0].startswith(cluster.webs[0].url)
    assert _plays(again["output"][0]) == from_b
    assert _probe(from_b, tmp_path).frames == 9

    # Image to video with a reference image: stored by a web host, read by the gpu worker.
    i2v = web_b.post(
        "/v1/image_to_video",
        json={"model": MODEL, "promptImage": _png_data_uri(), "ratio": "1280:720", "duration": 1},
        headers=auth,
    )
    assert i2v.status_code == 200, i2v.text
    assert _wait(web_a, auth, i2v.json()["id"], cluster)["status"] == "SUCCEEDED"

    # Takes made on the gpu worker, and a take uploaded straight to the store and
    # extended through the other host, cut by the cpu worker.
    project = web_a.post(
        "/v1/projects",
        json={"title": "Hosts", "default_ratio": "1280:720", "default_fps": 24},
        headers=auth,
    ).json()
    shots = [
        web_a.post(
            f"/v1/projects/{project['id']}/shots",
            json={"description": f"Shot {n}", "target_duration": 1},
            headers=auth,
        ).json()
        for n in range(3)
    ]
    for shot in shots[:2]:
        take = web_a.post(f"/v1/shots/{shot['id']}/takes", json={"model": MODEL}, headers=auth)
        assert take.status_code == 200, take.text
        assert _wait(web_b, auth, take.json()["id"], cluster)["status"] == "SUCCEEDED"
        assert web_b.post(f"/v1/takes/{take.json()['take']}/select", headers=auth).is_success
    uploaded = uc.upload(
        web_a,
        auth,
        _clip(tmp_path),
        purpose="take",
        shot_id=shots[2]["id"],
        content_type="video/mp4",
    )
    assert uploaded["status"] == "ready", uploaded
    extended = web_b.post(
        f"/v1/takes/{uploaded['take_id']}/extend", json={"model": MODEL}, headers=auth
    )
    assert extended.status_code == 200, extended.text
    assert _wait(web_a, auth, extended.json()["id"], cluster)["status"] == "SUCCEEDED"
    assert web_a.post(f"/v1/takes/{extended.json()['take']}/select", headers=auth).is_success
    cut = web_b.post(f"/v1/projects/{project['id']}/rough_cut", json={}, headers=auth)
    assert cut.status_code == 200, cut.text
    done = _wait(web_a, auth, cut.json()["id"], cluster)
    assert done["status"] == "SUCCEEDED", done
    with db.session_scope() as session:
        job = session.scalar(select(Job).where(Job.public_id == done["id"]))
        assert job is not None and job.worker_id is not None
        cut_worker = job.worker_id
    assert f":{cluster.hosts[3].proc.pid}:" in cut_worker  # the cpu worker's process
    film = _plays(done["output"][0])
    assert abs(_probe(film, tmp_path).duration - 3 * 9 / 8) <= 3 / 8

    # A jam film straight to the store, probed on the cpu worker, then submitted.
    now = datetime.now(UTC)
    slug, _ = make_jam(
        db,
        registration_opens_at=now - timedelta(hours=5),
        registration_closes_at=now - timedelta(hours=2),
        kickoff_at=now - timedelta(hours=1),
    )
    captain = make_user(db, "captain")
    crew = register(db, slug, captain, when=now - timedelta(hours=4))
    crew_auth = bearer(make_api_key(db, captain, WorkspaceInfo(crew.workspace_id, "", captain)))
    entered = uc.upload(
        web_b,
        crew_auth,
        _padded(film_bytes(seconds=2.0), 300_000),  # over the inline-probe size
        purpose="jam_film",
        jam=slug,
        content_type="video/mp4",
        entry={"title": "Across hosts", "submit": True},
    )
    assert entered["status"] == "ready" and entered["entry"]["saved"] is True, entered
    entry = web_a.get(f"/v1/jams/{slug}/entry", headers=crew_auth).json()
    assert entry["status"] == "submitted" and entry["title"] == "Across hosts"
    with db.session_scope() as session:
        probe_job = session.scalar(
            select(Job).where(Job.mode == "probe_upload", Job.workspace_id == crew.workspace_id)
        )
        assert probe_job is not None and str(cluster.hosts[3].proc.pid) in str(probe_job.worker_id)

    # A missing object: the cut fails naming the shot, and delivers no short film.
    with db.session_scope() as session:
        first = session.get(
            Take, int(web_a.get(f"/v1/shots/{shots[0]['id']}/takes", headers=auth).json()[0]["id"])
        )
        assert first is not None and first.job_id is not None
        output = session.get(Job, first.job_id)
        assert output is not None
        asset = session.get(Asset, output.output_asset_id)
        assert asset is not None
        key = asset.storage_key
    s3_client(cluster.endpoint).delete_object(Bucket=cluster.bucket, Key=f"studio/{key}")
    broken = web_a.post(f"/v1/projects/{project['id']}/rough_cut", json={}, headers=auth)
    failed = _wait(web_b, auth, broken.json()["id"], cluster)
    assert failed["status"] == "FAILED", failed
    assert "SC01-SH010" in failed["failure"] and "missing" in failed["failure"], failed
    assert not failed.get("output")
    web_a.close()
    web_b.close()
    db.dispose()
