"""The deadline rush at jam size: N teams press submit in the last second.

    .venv/bin/python bench/deadline_rush.py [--teams 2000] [--doubled 100] [--grace 120]
        [--servers 1,2]

For each web-process count in --servers, side by side in one run: a scratch
Postgres database (STUDIO_TEST_PG_ADMIN_URL, default
postgresql://postgres@127.0.0.1:5432/postgres), a jam with N bulk-inserted
teams (each with a validated film and an API key; the first --doubled teams
have two members who press at the same instant through different servers),
that many real `studio serve` processes, and every save spread over the last
second before the deadline through PUT /v1/jams/{slug}/entry. The grace
period is long here (default 120 s) so every save is accepted and the figures
are the service's: time to settle (last answer after the deadline), request
p50/p99 (send to answer, client-side queueing included), saves per second,
and how many were decided on time. The same correctness checks as
tests/jams/test_deadline_rush.py run on the result.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' rush harness

from studio.accounts.access import Actor
from studio.accounts.service import create_user
from studio.db import migrate
from studio.db.session import Database
from studio.jams import service
from studio.jams.rules import JamRules
from studio.media.storage import LocalStorage
from tests.jams.helpers import film_bytes
from tests.jams.rush import (
    Report,
    Send,
    burst,
    db_now,
    jam_id_of,
    populate,
    schedule,
    set_deadline,
    verify,
    web_processes,
)

ADMIN_URL = os.environ.get(
    "STUDIO_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SECRET = "bench-secret-key-" + "x" * 40


def one_run(servers: int, teams: int, doubled: int, grace: int, scratch: Path) -> dict[str, float]:
    name = f"studio_rush_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    data = scratch / name
    try:
        migrate.upgrade(url)
        db = Database(url)
        storage = LocalStorage(data / "media")
        now = db_now(db)
        with db.session_scope() as session:
            admin_user = create_user(session, email="admin@bench.example", is_admin=True)
            jam = service.create_jam(
                session,
                Actor(user=admin_user),
                JamRules(
                    title="Rush",
                    slug="rush",
                    brief="",
                    timezone="UTC",
                    registration_opens_at=now - timedelta(hours=3),
                    kickoff_at=now - timedelta(hours=1),
                    deadline_at=now + timedelta(hours=1),
                    grace_seconds=grace,
                    film_min_seconds=1.0,
                    film_max_seconds=4.0,
                ),
            )
            slug, admin_id = jam.slug, admin_user.id
        jam_id = jam_id_of(db, slug)
        film = storage.path_for("rush/film.mp4")
        film.parent.mkdir(parents=True, exist_ok=True)
        film.write_bytes(film_bytes())
        started = time.monotonic()
        rush_teams = populate(db, storage, jam_id, film, teams=teams, doubled=doubled)
        setup_s = time.monotonic() - started
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(data),
            "STUDIO_DATABASE_URL": url,
            "STUDIO_DATA_DIR": str(data),
            "STUDIO_MEDIA_DIR": str(data / "media"),
            "STUDIO_SECRET_KEY": SECRET,
        }
        deadline = now
        with web_processes(env, servers, data / "logs") as urls:

            def arm() -> list[Send]:
                nonlocal deadline
                deadline = set_deadline(db, slug, admin_id, in_seconds=1.2, grace_seconds=grace)
                return schedule(rush_teams, first=time.time() + 0.1, spread=1.0)

            outcomes = burst(urls, slug, arm)
        report: Report = verify(
            db,
            jam_id,
            rush_teams,
            outcomes,
            deadline=deadline,
            grace_end=deadline + timedelta(seconds=grace),
            prior={},
        )
        db.dispose()
        busy = report.last_done - report.first_sent
        return {
            "setup_s": setup_s,
            "saves": len(outcomes),
            "on_time": report.tally["submitted"],
            "late": report.tally["late"],
            "refused": report.tally["refused"],
            "settle_s": report.last_done - deadline.timestamp(),
            "first_s": report.first_done - report.first_sent,
            "p50_ms": report.median * 1000,
            "p99_ms": report.percentile(0.99) * 1000,
            "per_s": len(outcomes) / busy,
        }
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=2000)
    parser.add_argument("--doubled", type=int, default=100)
    parser.add_argument("--grace", type=int, default=120)
    parser.add_argument("--servers", default="1,2")
    args = parser.parse_args()
    counts = [int(n) for n in args.servers.split(",")]
    results = {}
    scratch = Path(tempfile.mkdtemp(prefix="deadline-rush-"))
    print(f"web process logs under {scratch}", flush=True)
    for count in counts:
        results[count] = one_run(count, args.teams, args.doubled, args.grace, scratch)
        print(f"{count} web process(es): {results[count]}", flush=True)
    print(f"\n{args.teams} teams ({args.doubled} with two members), grace {args.grace} s")
    print(
        "| web processes | saves | on time / late / refused | first answer | settled after "
        "deadline | request p50 | request p99 | saves/s | setup (bulk SQL) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for count, r in results.items():
        print(
            f"| {count} | {r['saves']:.0f} | {r['on_time']:.0f} / {r['late']:.0f} / "
            f"{r['refused']:.0f} | {r['first_s']:.2f} s | {r['settle_s']:.1f} s | "
            f"{r['p50_ms']:.0f} ms | "
            f"{r['p99_ms']:.0f} ms | {r['per_s']:.0f} | {r['setup_s']:.1f} s |"
        )
    if len(results) > 1:
        first, last = results[counts[0]], results[counts[-1]]
        print(
            f"\nsettle {counts[-1]} / {counts[0]} processes: "
            f"{last['settle_s'] / first['settle_s']:.2f}; "
            f"saves/s {last['per_s'] / first['per_s']:.2f}"
        )


if __name__ == "__main__":
    main()
