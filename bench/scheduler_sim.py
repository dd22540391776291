"""The real scheduler on a real database, with job run times simulated.

    .venv/bin/python bench/scheduler_sim.py [--teams 600] [--jobs 8] [--workers 34] [--flood 1000]

The defaults are a third of a jam (18 teams per worker, as at jam size) so a
run takes a few minutes here; `--teams 1800 --workers 100 --flood 3000` is the
full jam (about 11 minutes on this shared 2-core machine).

A discrete-event simulation: the clock jumps from one job end to the next;
at each end the worker finishes its job (the same UPDATE a worker does) and
claims the next one with `scheduler.claim_next(now=<simulated time>)`, so the
fair order, the counters kept by the database triggers and every SQL
statement are the production ones. Only the run times are made up. A worker
that finds nothing stays idle until another job ends or is claimed (what the
wake-up chain does).

Scenarios (scratch Postgres database, STUDIO_TEST_PG_ADMIN_URL):
  A  equal demand: every team queues the same mix of jobs at once
     -> Jain's index of GPU seconds across teams while all of them still wait
        (goal >= 0.99) and workers busy while work waits (goal >= 95%);
  B  one team alone on an idle farm (share 2, no hard cap) -> uses every worker;
  C  the jam's skew: one team queues `--flood` jobs, every other team 3
     -> the big team gets about one worker in `teams` while others wait, all
        of them once it is alone.
"""

from __future__ import annotations

import argparse
import heapq
import os
import secrets
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import insert, select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.accounts.models import User, Workspace  # noqa: E402
from studio.db import migrate  # noqa: E402
from studio.db.session import Database  # noqa: E402
from studio.generation import scheduler  # noqa: E402
from studio.generation.models import Job, JobStatus  # noqa: E402

PG_ADMIN = os.environ.get(
    "STUDIO_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
MIX = [20.0, 40.0, 30.0, 50.0, 25.0, 35.0]  # seconds; every team's jobs cycle through these
EPOCH = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# Jobs are not split, so until each team has had a few turns, those served in
# the current round are a whole job ahead of those not yet served: Jain's
# index is judged from the moment every team has started this many jobs.
TURNS = 4


def jain(values: list[float]) -> float:
    total = sum(values)
    squares = sum(v * v for v in values)
    return total * total / (len(values) * squares) if squares else 1.0


@dataclass
class Result:
    name: str
    sim_seconds: float = 0.0
    wall_seconds: float = 0.0
    claims: int = 0
    jain_points: list[tuple[float, float]] = field(default_factory=list)  # (t, index)
    turns_done_at: float | None = None  # every team has started TURNS jobs
    busy_while_waiting: float = 0.0
    most_running: dict[int, int] = field(default_factory=dict)  # team -> most at once
    notes: list[str] = field(default_factory=list)


class Farm:
    """Teams, their queued jobs and the simulated workers."""

    def __init__(self, db: Database, queue: str) -> None:
        self.db = db
        self.queue = queue
        self.jobs: dict[int, tuple[int, float]] = {}  # job id -> (team, seconds)
        self.waiting: dict[int, int] = defaultdict(int)  # team -> jobs not started

    def teams(self, count: int) -> list[int]:
        tag = secrets.token_hex(3)
        with self.db.session_scope() as session:
            session.execute(
                insert(User),
                [
                    {"email": f"sim{i}-{tag}@x.example", "display_name": f"S{i}"}
                    for i in range(count)
                ],
            )
            session.execute(
                insert(Workspace),
                [
                    {"slug": f"sim{i}-{tag}", "name": f"Sim {i}", "max_concurrent_jobs": 2}
                    for i in range(count)
                ],
            )
            users = session.scalars(
                select(User.id).where(User.email.like(f"%-{tag}@x.example")).order_by(User.id)
            ).all()
            spaces = session.scalars(
                select(Workspace.id)
                .where(Workspace.slug.like(f"sim%-{tag}"))
                .order_by(Workspace.id)
            ).all()
        self.owner = dict(zip(spaces, users, strict=True))
        return list(spaces)

    def queue_jobs(self, per_team: dict[int, int]) -> None:
        rows = []
        for team, count in per_team.items():
            for i in range(count):
                seconds = MIX[i % len(MIX)]
                rows.append(
                    {
                        "public_id": secrets.token_hex(16),
                        "workspace_id": team,
                        "user_id": self.owner[team],
                        "queue": self.queue,
                        "model_key": "m1",
                        "mode": "text_to_video",
                        "params": {"sim_seconds": seconds},
                        "status": JobStatus.QUEUED,
                        "progress": 0.0,
                        "cancel_requested": False,
                        "attempts": 0,
                        "max_attempts": 3,
                        "gpu_seconds": 0.0,
                        "timings": {},
                    }
                )
                self.waiting[team] += 1
        with self.db.session_scope() as session:
            for start in range(0, len(rows), 5000):
                session.execute(insert(Job), rows[start : start + 5000])
            session.execute(text("ANALYZE"))
            for job_id, team, params in session.execute(
                select(Job.id, Job.workspace_id, Job.params).where(
                    Job.queue == self.queue, Job.status == JobStatus.QUEUED
                )
            ):
                self.jobs[job_id] = (team, float(params["sim_seconds"]))

    def claim(self, worker: int, t: float) -> int | None:
        with self.db.session_scope() as session:
            got = scheduler.claim_next(
                session,
                queues=[self.queue],
                worker_id=f"sim-{worker}",
                lease_seconds=3600,
                models=["m1"],
                now=EPOCH + timedelta(seconds=t),
            )
        if got is None:
            return None
        self.waiting[self.jobs[got.job_id][0]] -= 1
        return got.job_id

    def finish(self, job_id: int, t: float) -> None:
        with self.db.session_scope() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(
                    status=JobStatus.SUCCEEDED,
                    gpu_seconds=self.jobs[job_id][1],
                    finished_at=EPOCH + timedelta(seconds=t),
                )
            )


def simulate(farm: Farm, workers: int, result: Result, checkpoints: int = 20) -> None:
    """Run until nothing is left; measure fairness and busy time while all wait."""
    started = time.monotonic()
    free: list[tuple[float, int]] = [(0.0, w) for w in range(workers)]
    running: dict[int, tuple[int, float]] = {}  # worker -> (job id, started at)
    done: dict[int, float] = defaultdict(float)  # team -> GPU seconds finished
    concurrent: dict[int, int] = defaultdict(int)
    idle: list[int] = []
    turns: dict[int, int] = defaultdict(int)  # team -> jobs started
    reached: set[int] = set()  # teams that have started TURNS jobs
    busy_time, window_end = 0.0, None
    total_teams = len(farm.waiting)
    every = max(m * 1.0 for m in MIX)  # a checkpoint about once per job length
    next_check = every

    def accrued(t: float) -> list[float]:
        gpu = dict(done)
        for job_id, since in running.values():
            team = farm.jobs[job_id][0]
            gpu[team] = gpu.get(team, 0.0) + min(t - since, farm.jobs[job_id][1])
        return [gpu.get(team, 0.0) for team in farm.waiting]

    def start(worker: int, t: float) -> bool:
        job_id = farm.claim(worker, t)
        if job_id is None:
            return False
        result.claims += 1
        team, seconds = farm.jobs[job_id]
        turns[team] += 1
        if turns[team] == TURNS:
            reached.add(team)
            if result.turns_done_at is None and len(reached) == total_teams:
                result.turns_done_at = t
        running[worker] = (job_id, t)
        concurrent[team] += 1
        result.most_running[team] = max(result.most_running.get(team, 0), concurrent[team])
        heapq.heappush(free, (t + seconds, worker))
        return True

    last_t = 0.0
    while free:
        t, worker = heapq.heappop(free)
        all_waiting = all(n > 0 for n in farm.waiting.values()) and len(farm.waiting) == total_teams
        while all_waiting and next_check <= t and len(result.jain_points) < 10_000:
            result.jain_points.append((next_check, jain(accrued(next_check))))
            next_check += every
        if window_end is None:
            busy_time += len(running) * (t - last_t)
        last_t = t
        if worker in running:
            job_id, _ = running.pop(worker)
            team, seconds = farm.jobs[job_id]
            farm.finish(job_id, t)
            done[team] += seconds
            concurrent[team] -= 1
        if start(worker, t):
            while idle and start(idle[-1], t):  # the wake-up chain: idle workers join
                idle.pop()
        else:
            idle.append(worker)
            if window_end is None and sum(farm.waiting.values()) == 0:
                window_end = t  # nothing waits any more
    result.sim_seconds = last_t
    window = window_end if window_end is not None else last_t
    result.busy_while_waiting = busy_time / (workers * window) if window else 1.0
    result.wall_seconds = time.monotonic() - started
    del checkpoints


def scratch() -> tuple[str, str]:
    name = f"studio_sim_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teams", type=int, default=600)
    parser.add_argument("--jobs", type=int, default=8, help="jobs per team (scenario A)")
    parser.add_argument("--workers", type=int, default=34)
    parser.add_argument("--flood", type=int, default=1000, help="the big team's jobs (C)")
    parser.add_argument("--skip", default="", help="scenarios to skip, e.g. AC")
    args = parser.parse_args()
    url, name = scratch()
    results: list[Result] = []
    try:
        migrate.upgrade(url)
        db = Database(url)
        if "A" not in args.skip:
            farm = Farm(db, "sim-a")
            teams = farm.teams(args.teams)
            farm.queue_jobs({team: args.jobs for team in teams})
            result = Result(f"A: {args.teams} teams x {args.jobs} jobs, {args.workers} workers")
            simulate(farm, args.workers, result)
            results.append(result)
            print(f"done {result.name}", file=sys.stderr)
        if "B" not in args.skip:
            farm = Farm(db, "sim-b")
            (team,) = farm.teams(1)
            farm.queue_jobs({team: 3 * args.workers})
            result = Result(f"B: 1 team alone x {3 * args.workers} jobs, {args.workers} workers")
            simulate(farm, args.workers, result)
            results.append(result)
            print(f"done {result.name}", file=sys.stderr)
        if "C" not in args.skip:
            farm = Farm(db, "sim-c")
            teams = farm.teams(args.teams)
            farm.queue_jobs({team: (args.flood if i == 0 else 3) for i, team in enumerate(teams)})
            result = Result(
                f"C: 1 team x {args.flood} + {args.teams - 1} teams x 3, {args.workers} workers"
            )
            simulate_flood(farm, args.workers, result, teams[0])
            results.append(result)
            print(f"done {result.name}", file=sys.stderr)
        report(results, args.workers)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def simulate_flood(farm: Farm, workers: int, result: Result, big: int) -> None:
    """Scenario C: how many workers the big team holds while others wait, then alone."""
    claims_while_others_wait = {"big": 0, "all": 0}
    original = farm.claim

    def counting_claim(worker: int, t: float) -> int | None:
        others_wait = any(n > 0 for team, n in farm.waiting.items() if team != big)
        job_id = original(worker, t)
        if job_id is not None and others_wait:
            claims_while_others_wait["all"] += 1
            claims_while_others_wait["big"] += farm.jobs[job_id][0] == big
        return job_id

    farm.claim = counting_claim  # type: ignore[method-assign]
    simulate(farm, workers, result)
    share = claims_while_others_wait["big"] / max(1, claims_while_others_wait["all"])
    result.notes.append(
        f"big team's share of claims while others waited: {share:.2%} "
        f"({claims_while_others_wait['big']} of {claims_while_others_wait['all']}; "
        f"1 / {len(farm.waiting)} teams = {1 / len(farm.waiting):.2%})"
    )
    result.notes.append(f"big team's most workers at once: {result.most_running.get(big, 0)}")


def report(results: list[Result], workers: int) -> None:
    print("| scenario | figure | measured | goal |")
    print("| --- | --- | --- | --- |")
    for r in results:
        rate = r.claims / r.wall_seconds if r.wall_seconds else 0.0
        print(
            f"| {r.name} | simulated / wall time | {r.sim_seconds / 60:.0f} min / "
            f"{r.wall_seconds:.0f} s ({r.claims} claims, {rate:.0f} claim+finish/s) | |"
        )
        if r.jain_points and r.name.startswith("A"):
            after = [p for p in r.jain_points if p[0] >= (r.turns_done_at or float("inf"))]
            low = min(index for _, index in after) if after else float("nan")
            last_t, last = r.jain_points[-1]
            points = ", ".join(
                f"{i:.3f} ({t / 60:.0f} min)"
                for t, i in r.jain_points[:: max(1, len(r.jain_points) // 6)]
            )
            print(
                f"| {r.name} | Jain's index of GPU seconds across teams while every team "
                f"waits: at the end of that window; min once every team has started "
                f"{TURNS} jobs ({(r.turns_done_at or 0) / 60:.0f} min) | **{last:.4f}** "
                f"({last_t / 60:.0f} min); min **{low:.4f}** | >= 0.99 |"
            )
            print(f"| {r.name} | Jain's index along the way | {points} | |")
        per_job_ms = 1000 * r.wall_seconds / max(1, r.claims)
        mean_job = sum(MIX) / len(MIX)
        print(
            f"| {r.name} | workers busy while work waits: simulated time; the real "
            f"claim + finish per job ({per_job_ms:.1f} ms here) against a mean job of "
            f"{mean_job:.0f} s | **{r.busy_while_waiting:.2%}**; "
            f"{1 - per_job_ms / 1000 / mean_job:.3%} with that overhead | >= 95% |"
        )
        if r.name.startswith("B"):
            most = max(r.most_running.values())
            print(
                f"| {r.name} | most workers the lone team used at once "
                f"| **{most}** of {workers} | all |"
            )
        for note in r.notes:
            print(f"| {r.name} | {note} | | |")


if __name__ == "__main__":
    main()
