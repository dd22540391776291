"""How long computing a jam's results takes: 2,000 entries x 5 judges x 3 criteria.

    .venv/bin/python bench/jam_results.py [--entries 2000] [--judges-per-entry 5] [--runs 7]

Makes a scratch Postgres database (STUDIO_TEST_PG_ADMIN_URL, default
postgresql://postgres@127.0.0.1:5432/postgres), migrates it, bulk-inserts a
judged jam (entries, a pool of judges, K judges per entry, submitted score
sheets, some audience votes), then times the whole `results.compute_results`
call (queries + aggregation + ranking + awards) in a fresh session each run,
raw and with z-score normalization. Goal: under 1 s.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql
from sqlalchemy import insert, select, update

from studio.accounts.models import Membership, Role, User, Workspace
from studio.db import migrate
from studio.db.session import Database
from studio.jams import results
from studio.jams.models import (
    Assignment,
    Entry,
    EntryStatus,
    Jam,
    JamTeam,
    JamTeamMember,
    Judge,
    Score,
    Vote,
)
from studio.jams.rules import DEFAULT_RUBRIC

ADMIN_URL = os.environ.get(
    "STUDIO_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def populate(db: Database, n_entries: int, k: int, n_judges: int) -> int:
    rng = random.Random(7)  # noqa: S311 - reproducible fake scores, not secrets
    t0 = datetime(2030, 6, 7, 17, tzinfo=UTC)
    with db.session_scope() as s:
        users = (
            s.execute(
                insert(User).returning(User.id),
                [
                    {"email": f"u{i}@bench.example", "display_name": f"U{i}", "session_version": 1}
                    for i in range(n_entries + n_judges)
                ],
            )
            .scalars()
            .all()
        )
        jam = Jam(
            slug="bench", title="Bench", brief="", timezone="UTC", draw_seed=1,
            registration_opens_at=t0 - timedelta(days=7), registration_closes_at=t0,
            kickoff_at=t0, deadline_at=t0 + timedelta(hours=48), grace_seconds=600,
            judging_closes_at=t0 + timedelta(days=9), results_at=t0 + timedelta(days=9),
            team_size_max=3, film_min_seconds=1, film_max_seconds=240, film_max_bytes=2**31,
            elements=[], rubric=DEFAULT_RUBRIC, gpu_seconds_grant=0, audience_vote=True,
            judges_per_entry=k, normalize_scores=False, created_by=users[0],
        )  # fmt: skip
        s.add(jam)
        s.flush()
        workspaces = (
            s.execute(
                insert(Workspace).returning(Workspace.id),
                [{"slug": f"bench-{i}", "name": f"Team {i}"} for i in range(n_entries)],
            )
            .scalars()
            .all()
        )
        s.execute(
            insert(Membership),
            [
                {"workspace_id": w, "user_id": users[i], "role": Role.OWNER}
                for i, w in enumerate(workspaces)
            ],
        )
        team_ids = (
            s.execute(
                insert(JamTeam).returning(JamTeam.id),
                [
                    {
                        "jam_id": jam.id,
                        "name": f"Team {i}",
                        "workspace_id": w,
                        "created_by": users[i],
                    }
                    for i, w in enumerate(workspaces)
                ],
            )
            .scalars()
            .all()
        )
        s.execute(
            insert(JamTeamMember),
            [{"jam_id": jam.id, "team_id": t, "user_id": users[i]} for i, t in enumerate(team_ids)],
        )
        entry_ids = (
            s.execute(
                insert(Entry).returning(Entry.id),
                [
                    {
                        "jam_id": jam.id,
                        "team_id": t,
                        "status": EntryStatus.SUBMITTED,
                        "title": f"Film {i}",
                        "logline": "",
                        "credits": "",
                        "revision": 1,
                        "submitted_at": t0 + timedelta(hours=47, seconds=i),
                        "updated_at": t0 + timedelta(hours=47, seconds=i),
                        "updated_by": users[i],
                    }
                    for i, t in enumerate(team_ids)
                ],
            )
            .scalars()
            .all()
        )
        judge_ids = (
            s.execute(
                insert(Judge).returning(Judge.id),
                [{"jam_id": jam.id, "user_id": u} for u in users[n_entries:]],
            )
            .scalars()
            .all()
        )
        sheets = []
        for i, e in enumerate(entry_ids):
            for j in range(k):
                sheets.append(
                    {
                        "jam_id": jam.id,
                        "entry_id": e,
                        "judge_id": judge_ids[(i * k + j) % n_judges],
                        "notes": "",
                        "submitted_at": t0 + timedelta(days=3),
                    }
                )
        assignment_ids = (
            s.execute(insert(Assignment).returning(Assignment.id), sheets).scalars().all()
        )
        s.execute(
            insert(Score),
            [
                {"assignment_id": a, "criterion": c["key"], "value": float(rng.randint(1, 10))}
                for a in assignment_ids
                for c in DEFAULT_RUBRIC
            ],
        )
        s.execute(
            insert(Vote),
            [
                {
                    "jam_id": jam.id,
                    "user_id": u,
                    "entry_id": rng.choice(entry_ids),
                    "updated_at": t0 + timedelta(days=3),
                }
                for u in users[:n_entries]
            ],
        )
        return jam.id


def timed(db: Database, jam_id: int, runs: int) -> tuple[list[float], results.Results]:
    times, last = [], None
    for _ in range(runs):
        with db.session_scope() as s:
            jam = s.scalar(select(Jam).where(Jam.id == jam_id))
            assert jam is not None
            start = time.perf_counter()
            last = results.compute_results(s, jam)
            times.append(time.perf_counter() - start)
    assert last is not None
    return times, last


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--judges-per-entry", type=int, default=5)
    parser.add_argument("--judges", type=int, default=100)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    name = f"studio_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    try:
        migrate.upgrade(url)
        start = time.perf_counter()
        jam_id = populate(db, args.entries, args.judges_per_entry, args.judges)
        print(f"populated in {time.perf_counter() - start:.1f} s")
        k, n = args.judges_per_entry, args.entries
        print(f"\npostgres: {n} entries x {k} judges x 3 criteria = {n * k * 3} scores\n")
        print("| mode | median | min | max | ranked | goal | verdict |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for normalize in (False, True):
            with db.session_scope() as s:
                s.execute(update(Jam).where(Jam.id == jam_id).values(normalize_scores=normalize))
            times, got = timed(db, jam_id, args.runs)
            median = statistics.median(times)
            print(
                f"| {'z-score' if normalize else 'raw'} | **{median * 1000:.0f} ms** | "
                f"{min(times) * 1000:.0f} ms | {max(times) * 1000:.0f} ms | {len(got.ranking)} | "
                f"< 1 s | {'ok' if median < 1 else 'MISSED'} |"
            )
    finally:
        db.dispose()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


if __name__ == "__main__":
    main()
