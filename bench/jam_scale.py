"""Jam-scale job queue on Postgres: the scheduler of issue 9 side by side with
the one before it (git e7f1e77), on the same database in one run.

    .venv/bin/python bench/jam_scale.py [--workspaces 1800] [--queued 10000]
        [--big 3000] [--history 10000] [--throttled 900]

Fills a scratch Postgres database (STUDIO_TEST_PG_ADMIN_URL, default
postgresql://postgres@127.0.0.1:5432/postgres): workspaces, one owner each,
`--queued` waiting gpu jobs of which `--big` belong to one workspace, and
`--history` finished jobs. Then, first as is and again with `--throttled`
workspaces over their GPU quota:

- statements per claim (a SQLAlchemy cursor listener) and claim p50/p99
  (each claimed job is then finished, untimed, so the queue keeps moving);
- a task read and a page of 50 tasks, in the service (`get_job`,
  `list_jobs`; old: the same access check plus the old `_views`, which
  computed every throttled workspace and counted positions per job) and over
  HTTP for the new code (`GET /v1/tasks/{id}`, `GET /v1/tasks`, in-process
  ASGI client, API-key auth included);
- broker messages over 10 idle minutes on a simulated clock, four workers
  each running a maintenance pass every 5 s, nobody consuming: old, the
  sweeper's re-sends (every queued job not taken within 30 s, 500 per pass);
  new, the wake-ups sent to real Redis (DB 10, a fresh key prefix), plus the
  messages that submitting the jobs left in the broker.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import redis
from psycopg import sql
from sqlalchemy import event, insert, select, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.accounts import apikeys  # noqa: E402
from studio.accounts.access import Actor, require_role  # noqa: E402
from studio.accounts.models import Membership, Role, User, Workspace  # noqa: E402
from studio.config import Settings  # noqa: E402
from studio.db import migrate  # noqa: E402
from studio.db.session import Database  # noqa: E402
from studio.generation import farm, scheduler  # noqa: E402
from studio.generation import service as jobs  # noqa: E402
from studio.generation.models import Job, JobStatus  # noqa: E402
from studio.queue import CeleryDispatcher, create_celery  # noqa: E402

PG_ADMIN = os.environ.get(
    "STUDIO_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = "redis://127.0.0.1:6379/10"
OLD_COMMIT = "e7f1e77"  # the scheduler before issue 9
WORKERS = 4  # maintenance loops in the message simulation
SECRET = "bench-secret-key-" + "x" * 40


def load_old_scheduler() -> types.ModuleType:
    """The previous studio/generation/scheduler.py, straight from git history."""
    git = ["git", "-C", str(ROOT), "show", f"{OLD_COMMIT}:studio/generation/scheduler.py"]
    source = subprocess.check_output(git)
    module = types.ModuleType("old_scheduler")
    sys.modules["old_scheduler"] = module  # dataclasses look their module up
    exec(compile(source, "old_scheduler.py", "exec"), module.__dict__)  # noqa: S102 - our own code
    return module


def old_views(old: types.ModuleType, session: Any, found: list[Job]) -> list[tuple[bool, int]]:
    """What service._views did per read before issue 9 (its costly parts, verbatim)."""
    from sqlalchemy import func

    throttled = (
        old.throttled_workspaces(session)
        if any(j.status == JobStatus.QUEUED for j in found)
        else set()
    )
    out = []
    for job in found:
        position = 0
        if job.status == JobStatus.QUEUED:
            position = int(
                session.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(
                        Job.status == JobStatus.QUEUED,
                        Job.queue == job.queue,
                        Job.id < job.id,
                        Job.deleted_at.is_(None),
                    )
                )
                or 0
            )
        out.append((job.workspace_id in throttled, position))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


class Counter:
    def __init__(self, db: Database) -> None:
        self.n = 0
        event.listen(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.n += 1


# ---------------------------------------------------------------- data


def populate(db: Database, args: argparse.Namespace) -> list[int]:
    rng = __import__("random").Random(7)
    tag = secrets.token_hex(3)
    now = datetime.now(UTC)
    with db.session_scope() as session:
        session.execute(
            insert(User),
            [
                {"email": f"b{i}-{tag}@bench.example", "display_name": f"B{i}"}
                | {"is_admin": False, "session_version": 1}
                for i in range(args.workspaces)
            ],
        )
        session.execute(
            insert(Workspace),
            [
                {"slug": f"b{i}-{tag}", "name": f"Team {i}", "max_concurrent_jobs": 2}
                for i in range(args.workspaces)
            ],
        )
        users = list(session.scalars(select(User.id).order_by(User.id)))
        spaces = list(session.scalars(select(Workspace.id).order_by(Workspace.id)))
        session.execute(
            insert(Membership),
            [
                {"workspace_id": ws, "user_id": u, "role": Role.OWNER}
                for ws, u in zip(spaces, users, strict=True)
            ],
        )
    owner = dict(zip(spaces, users, strict=True))

    def row(ws: int, status: JobStatus, minutes_ago: float | None = None) -> dict[str, Any]:
        started = now - timedelta(minutes=minutes_ago) if minutes_ago is not None else None
        return {
            "public_id": secrets.token_hex(16),
            "workspace_id": ws,
            "user_id": owner[ws],
            "queue": "gpu",
            "model_key": "m1",
            "mode": "text_to_video",
            "params": {"seed": 1},
            "status": status,
            "progress": 0.0,
            "cancel_requested": False,
            "attempts": 0 if started is None else 1,
            "max_attempts": 3,
            "gpu_seconds": 20.0 if status == JobStatus.SUCCEEDED else 0.0,
            "timings": {},
            "started_at": started,
            "finished_at": started + timedelta(seconds=20) if started else None,
            "dispatched_at": now,
        }

    history = [
        row(spaces[1 + i % (len(spaces) - 1)], JobStatus.SUCCEEDED, rng.uniform(1, 2880))
        for i in range(args.history)
    ]
    queued = [row(spaces[0], JobStatus.QUEUED) for _ in range(args.big)]
    queued += [
        row(spaces[1 + i % (len(spaces) - 1)], JobStatus.QUEUED)
        for i in range(args.queued - args.big)
    ]
    with db.session_scope() as session:
        for start in range(0, len(history), 5000):
            session.execute(insert(Job), history[start : start + 5000])
        for start in range(0, len(queued), 5000):
            session.execute(insert(Job), queued[start : start + 5000])
    with db.session_scope() as session:
        session.execute(text_analyze())
    return spaces


def text_analyze() -> Any:
    from sqlalchemy import text

    return text("ANALYZE")


# ---------------------------------------------------------------- measurements


def baseline(db: Database, runs: int) -> list[float]:
    """The machine's own noise: a `SELECT 1` round trip in its own transaction."""
    from sqlalchemy import text

    def ping() -> None:
        with db.session_scope() as session:
            session.execute(text("SELECT 1"))

    return timed(ping, runs)


def claim_new(db: Database, counter: Counter, runs: int) -> tuple[list[float], list[int]]:
    times, statements = [], []
    for _ in range(runs):
        before = counter.n
        started = time.perf_counter()
        with db.session_scope() as session:
            got = scheduler.claim_next(
                session, queues=["gpu"], worker_id="bench-new", lease_seconds=60, models=["m1"]
            )
        times.append((time.perf_counter() - started) * 1000)
        statements.append(counter.n - before)
        assert got is not None
        finish(db, got.job_id)
    return times, statements


def claim_old(
    db: Database, old: types.ModuleType, counter: Counter, runs: int
) -> tuple[list[float], list[int]]:
    times, statements = [], []
    for _ in range(runs):
        before = counter.n
        started = time.perf_counter()
        with db.session_scope() as session:
            got = old.claim_next(session, queues=["gpu"], worker_id="bench-old", lease_seconds=60)
        times.append((time.perf_counter() - started) * 1000)
        statements.append(counter.n - before)
        assert got is not None
        finish(db, got.job_id)
    return times, statements


def finish(db: Database, job_id: int) -> None:
    with db.session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status=JobStatus.SUCCEEDED, gpu_seconds=20.0, finished_at=datetime.now(UTC))
        )


def reads(
    db: Database, old: types.ModuleType, spaces: list[int], runs: int, old_runs: int
) -> dict[str, list[float]]:
    """Service-level reads, new and old, of a small team's job and the big one's."""
    with db.session_scope() as session:
        targets = []
        for ws in (spaces[0], spaces[len(spaces) // 2]):
            user = session.scalar(select(Membership.user_id).where(Membership.workspace_id == ws))
            job = session.scalar(
                select(Job.public_id)
                .where(Job.workspace_id == ws, Job.status == JobStatus.QUEUED)
                .order_by(Job.id.desc())
            )
            targets.append((ws, user, job))

    def new_get(i: int) -> None:
        _, user, public_id = targets[i % 2]
        with db.session_scope() as session:
            actor = Actor(user=session.get(User, user))  # type: ignore[arg-type]
            jobs.get_job(session, actor, public_id)

    def old_get(i: int) -> None:
        _, user, public_id = targets[i % 2]
        with db.session_scope() as session:
            actor = Actor(user=session.get(User, user))  # type: ignore[arg-type]
            job = jobs._job_for(session, actor, public_id)
            old_views(old, session, [job])

    def new_list() -> None:
        ws, user, _ = targets[0]
        with db.session_scope() as session:
            actor = Actor(user=session.get(User, user))  # type: ignore[arg-type]
            jobs.list_jobs(session, actor, ws, limit=50)

    def old_list() -> None:
        ws, user, _ = targets[0]
        with db.session_scope() as session:
            actor = Actor(user=session.get(User, user))  # type: ignore[arg-type]
            require_role(session, actor, ws)
            page = list(
                session.scalars(
                    select(Job)
                    .where(Job.workspace_id == ws, Job.deleted_at.is_(None))
                    .order_by(Job.id.desc())
                    .limit(50)
                )
            )
            old_views(old, session, page)

    counter = iter(range(10**9))
    return {
        "get_new": timed(lambda: new_get(next(counter)), runs),
        "get_old": timed(lambda: old_get(next(counter)), old_runs),
        "list_new": timed(new_list, max(10, runs // 4)),
        "list_old": timed(old_list, max(2, old_runs // 4)),
    }


def http_reads(
    settings: Settings, db: Database, spaces: list[int], runs: int
) -> dict[str, list[float]]:
    from fastapi.testclient import TestClient

    from studio.app import create_app

    with db.session_scope() as session:
        user = session.scalar(
            select(Membership.user_id).where(Membership.workspace_id == spaces[0])
        )
        actor = Actor(user=session.get(User, user))  # type: ignore[arg-type]
        key = apikeys.create_key(session, actor, workspace_id=spaces[0], name="bench").secret
        job = session.scalar(
            select(Job.public_id)
            .where(Job.workspace_id == spaces[0], Job.status == JobStatus.QUEUED)
            .order_by(Job.id)
        )
    client = TestClient(create_app(settings))
    auth = {"Authorization": f"Bearer {key}"}
    first = client.get(f"/v1/tasks/{job}", headers=auth)
    assert first.status_code == 200, first.text
    listed = client.get("/v1/tasks", headers=auth)
    assert listed.status_code == 200 and len(listed.json()["tasks"]) == 50
    return {
        "http_get": timed(lambda: client.get(f"/v1/tasks/{job}", headers=auth), runs),
        "http_list": timed(lambda: client.get("/v1/tasks", headers=auth), max(10, runs // 4)),
        "sample": [first.json()["studio"]],  # type: ignore[list-item]
    }


def messages_old(db: Database, old: types.ModuleType, queued: int) -> int:
    """The old sweeper's re-sends over 10 minutes of a simulated clock (+ one per submit)."""
    clock = datetime.now(UTC)
    old.utcnow = lambda: clock  # the module's own clock, nothing else's
    with db.session_scope() as session:  # as just submitted: each sent once
        session.execute(
            update(Job).where(Job.status == JobStatus.QUEUED).values(dispatched_at=clock)
        )
    sent = queued  # every submit sent one message
    for tick in range(120):
        clock = datetime.now(UTC) + timedelta(seconds=5 * (tick + 1))
        for _ in range(WORKERS):
            with db.session_scope() as session:
                sent += len(old.due_for_dispatch(session, 30))
    return sent


def messages_new(db: Database, settings: Settings, queued: int) -> tuple[int, int]:
    """Wake-ups to real Redis: the submits' then 10 simulated minutes of maintenance passes."""
    dispatcher = CeleryDispatcher(create_celery(settings), settings)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for _ in range(queued):  # what submitting the jobs sent
            dispatcher.dispatch("gpu", "bench")
        for _ in range(120 * WORKERS):  # the clock does not matter to wake-ups
            with db.session_scope() as session:
                queues = scheduler.claimable_queues(session)
            for queue in queues:
                dispatcher.wake(queue)
        held = sum(int(client.llen(settings.queue_prefix + q)) for q in ("gpu", "cpu"))  # type: ignore[arg-type]
    finally:
        for q in ("gpu", "cpu"):
            client.delete(settings.queue_prefix + q)
    return dispatcher.sent, held


# ---------------------------------------------------------------- main


def scratch() -> tuple[str, str]:
    name = f"studio_jamscale_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name


def drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspaces", type=int, default=1800)
    parser.add_argument("--queued", type=int, default=10000)
    parser.add_argument("--big", type=int, default=3000)
    parser.add_argument("--history", type=int, default=10000)
    parser.add_argument("--throttled", type=int, default=900)
    parser.add_argument("--claims", type=int, default=300)
    parser.add_argument("--old-claims", type=int, default=20)
    parser.add_argument("--old-claims-throttled", type=int, default=2)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--old-reads", type=int, default=20)
    args = parser.parse_args()

    url, name = scratch()
    tmp = Path(tempfile.mkdtemp(prefix="jamscale-"))
    try:
        migrate.upgrade(url)
        db = Database(url)
        old = load_old_scheduler()
        started = time.monotonic()
        spaces = populate(db, args)
        print(
            f"postgres; {args.workspaces} workspaces, {args.queued} queued jobs "
            f"({args.big} in one workspace), {args.history} finished; "
            f"filled in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )
        settings = Settings(
            data_dir=tmp,
            database_url=url,
            secret_key=SECRET,
            redis_url=REDIS_URL,
            queue_prefix=f"jamscale-{secrets.token_hex(3)}-",
        )
        with db.session_scope() as session:  # four live gpu workers, as a farm would have
            for i in range(WORKERS):
                farm.report_alive(session, f"bench-{i}", ["gpu"], next_report_within=3600)
        counter = Counter(db)
        results = {}
        for label, throttle in (("as is", 0), (f"{args.throttled} at quota", args.throttled)):
            if throttle:
                with db.session_scope() as session:
                    session.execute(
                        update(Workspace)
                        .where(Workspace.id.in_(spaces[1 : 1 + throttle]))
                        .values(gpu_seconds_quota=1)
                    )
            with db.session_scope() as session:
                farm.refresh_snapshots(session, max_age_seconds=0)
            new_t, new_s = claim_new(db, counter, args.claims)
            runs = args.old_claims if not throttle else args.old_claims_throttled
            old_t, old_s = claim_old(db, old, counter, runs)
            with db.session_scope() as session:
                farm.refresh_snapshots(session, max_age_seconds=0)
            read = reads(db, old, spaces, args.reads, args.old_reads if not throttle else 5)
            http = http_reads(settings.model_copy(update={"redis_url": ""}), db, spaces, args.reads)
            read["baseline"] = baseline(db, args.reads)
            sent_new, held_new = messages_new(db, settings, args.queued)
            sent_old = messages_old(db, old, args.queued)
            results[label] = (new_t, new_s, old_t, old_s, read, http, sent_new, held_new, sent_old)
            print(f"measured: {label}", file=sys.stderr)
        report(results)
        print("\nsample task JSON extras:", results["as is"][5]["sample"][0])
    finally:
        drop(name)


def report(results: dict[str, tuple]) -> None:
    print("| figure | scenario | old (e7f1e77) | new | old / new | goal |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, (
        new_t,
        new_s,
        old_t,
        old_s,
        read,
        http,
        sent_new,
        held_new,
        sent_old,
    ) in results.items():

        def row(name: str, old_v: str, new_v: str, ratio: str, goal: str, at: str = label) -> None:
            print(f"| {name} | {at} | {old_v} | {new_v} | {ratio} | {goal} |")

        row(
            "statements per claim",
            f"{statistics.median(old_s):.0f}",
            f"**{max(new_s)}** (max)",
            f"{statistics.median(old_s) / max(new_s):.0f}x",
            "<= 3",
        )
        for q in (0.0, 0.5, 0.99):
            row(
                "claim min (ms): the work without the machine's scheduling delays"
                if q == 0
                else f"claim p{round(q * 100)} (ms)",
                f"{percentile(old_t, q):.1f}",
                f"**{percentile(new_t, q):.2f}**",
                f"{percentile(old_t, q) / percentile(new_t, q):.0f}x",
                "p99 < 20" if q == 0.99 else "",
            )
        for what, key in (("task read", "get"), ("list of 50", "list")):
            old_ms, new_ms = read[f"{key}_old"], read[f"{key}_new"]
            row(
                f"{what} min / p50 / p99, service (ms)",
                f"{min(old_ms):.1f} / {percentile(old_ms, 0.5):.1f} / "
                f"{percentile(old_ms, 0.99):.1f}",
                f"**{min(new_ms):.2f} / {percentile(new_ms, 0.5):.2f} / "
                f"{percentile(new_ms, 0.99):.2f}**",
                f"{percentile(old_ms, 0.99) / percentile(new_ms, 0.99):.0f}x (p99)",
                "",
            )
        for what, key in (("GET /v1/tasks/{id}", "http_get"), ("GET /v1/tasks (50)", "http_list")):
            ms = http[key]
            row(
                f"{what} min / p50 / p99, HTTP (ms)",
                "",
                f"**{min(ms):.2f} / {percentile(ms, 0.5):.2f} / {percentile(ms, 0.99):.2f}**",
                "",
                "p99 < 10" if key == "http_get" else "",
            )
        ms = read["baseline"]
        row(
            "machine noise: `SELECT 1` round trip min / p50 / p99 (ms)",
            "",
            f"{min(ms):.2f} / {percentile(ms, 0.5):.2f} / {percentile(ms, 0.99):.2f}",
            "",
            "",
        )
        row(
            f"broker messages, submits + 10 idle min x {WORKERS} workers",
            f"{sent_old}",
            f"**{sent_new}** sent, {held_new} held",
            "",
            "bounded by workers",
        )


if __name__ == "__main__":
    main()
