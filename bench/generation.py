"""Generation benchmarks, measured side by side in one run on the tiny models.

    .venv/bin/python bench/generation.py [--jobs 8] [--latency-jobs 40]

(a) studio end to end (submit -> succeeded, through Redis and a real Celery
    worker) over calling the same diffusers pipeline directly; goal <= 1.10
    for a job of about 2 s. Runs are interleaved to share the machine's noise.
(b) a warm worker's second job spends < 5% of the first job's load time loading.
(c) submit -> running latency through Celery + Redis on an idle worker;
    goal p99 < 50 ms.
(d) fairness: workspace A queues 50 jobs, then B queues 1; B's job must start
    before A's third next job.

Needs Redis on 127.0.0.1:6379 (uses database 12) and Postgres on 127.0.0.1
(a scratch database is made and dropped); falls back to SQLite without it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import redis
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.accounts import service as accounts  # noqa: E402
from studio.accounts.access import Actor  # noqa: E402
from studio.accounts.models import Workspace  # noqa: E402
from studio.config import Settings  # noqa: E402
from studio.db import migrate  # noqa: E402
from studio.db.session import Database  # noqa: E402
from studio.generation import service as jobs  # noqa: E402
from studio.generation.engines.diffusers_tiny import make_tiny  # noqa: E402
from studio.generation.models import Job, JobStatus  # noqa: E402
from studio.generation.registry import load_registry  # noqa: E402
from studio.media.storage import Storage  # noqa: E402
from studio.queue import CeleryDispatcher, create_celery  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/12"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
THREADS = 2
BENCH_MODEL = "bench-ltx"
BENCH_RATIOS = '{ "1280:720" = [160, 96] }'
BENCH_SIZE = (160, 96)


def scratch_database(tmp: Path) -> tuple[str, str | None]:
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
            name = f"studio_bench_{secrets.token_hex(4)}"
            admin.execute(f'CREATE DATABASE "{name}"')
        return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name
    except psycopg.OperationalError:
        return f"sqlite:///{tmp / 'bench.db'}", None


def drop_database(name: str | None) -> None:
    if name:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_registry(tiny_toml: Path, steps: int) -> Path:
    """The tiny LTX model again, with enough steps for a job of about 2 s."""
    text = tiny_toml.read_text()
    start = text.index("[models.tiny-ltx]")
    end = text.find("\n[models.", start + 1)
    block = text[start : end if end != -1 else len(text)]
    block = block.replace("[models.tiny-ltx]", f"[models.{BENCH_MODEL}]")
    # Larger frames than the test size, so a step does real work, not just overhead.
    replace = {"default_steps": f"default_steps = {steps}", "ratios": f"ratios = {BENCH_RATIOS}"}
    block = "\n".join(replace.get(line.split(" ")[0], line) for line in block.splitlines())
    path = tiny_toml.with_name("bench.toml")
    path.write_text(text + "\n" + block + "\n")
    return path


def direct_pipeline(folder: Path):  # type: ignore[no-untyped-def]
    import torch
    from diffusers import LTXPipeline

    torch.set_num_threads(THREADS)
    return LTXPipeline.from_pretrained(folder, torch_dtype=torch.float32)


def run_direct(pipe, spec, steps: int) -> float:  # type: ignore[no-untyped-def]
    import torch

    width, height = BENCH_SIZE
    started = time.perf_counter()
    pipe(
        prompt="a lighthouse at dusk",
        negative_prompt="",
        width=width,
        height=height,
        num_frames=min(spec.durations.values()),
        num_inference_steps=steps,
        guidance_scale=spec.default_guidance,
        generator=torch.Generator("cpu").manual_seed(1),
        output_type="np",
    )
    return time.perf_counter() - started


class Studio:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.registry = load_registry(settings.models_file)
        self.storage = Storage(settings.media_path)
        self.dispatcher = CeleryDispatcher(create_celery(settings), settings)

    def submit(self, actor: Actor, workspace_id: int, model: str, mode: str) -> tuple[str, float]:
        with self.db.session_scope() as session:
            job, _ = jobs.submit_job(
                session,
                actor,
                workspace_id=workspace_id,
                request=jobs.Submission(
                    mode=mode, prompt="a lighthouse at dusk", model=model, seed=1
                ),
                registry=self.registry,
                storage=self.storage,
                dispatcher=self.dispatcher,
            )
            public_id = job.public_id
        return public_id, time.time()

    def wait(
        self, public_id: str, status: JobStatus = JobStatus.SUCCEEDED, timeout: float = 120
    ) -> Job:
        deadline = time.monotonic() + timeout
        while True:
            with self.db.session_scope() as session:
                job = session.scalar(select(Job).where(Job.public_id == public_id))
                assert job is not None
                if job.status == status or job.status.finished:
                    if job.status != status and status != JobStatus.RUNNING:
                        raise RuntimeError(
                            f"job {public_id} ended {job.status}: {job.error_message}"
                        )
                    return job
            if time.monotonic() > deadline:
                raise TimeoutError(public_id)
            time.sleep(0.1)  # slow polling: keep the CPU for the worker being measured


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=8, help="e2e/direct pairs for (a)")
    parser.add_argument("--latency-jobs", type=int, default=40, help="jobs for (c)")
    args = parser.parse_args()

    broker = redis.Redis.from_url(REDIS_URL)
    broker.ping()
    broker.flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    url, scratch = scratch_database(tmp)
    worker = None
    try:
        migrate.upgrade(url)
        tiny = make_tiny(tmp / "tiny", ["tiny-ltx"])
        pipe = direct_pipeline(tmp / "tiny" / "tiny-ltx")
        spec = load_registry(tiny).get("tiny-ltx")
        # Calibrate steps so that one direct run takes about 2 s.
        steps = 20
        for _ in range(3):
            steps = min(150, max(2, round(steps * 2.0 / run_direct(pipe, spec, steps))))
        models = bench_registry(tiny, steps)
        settings = Settings(
            data_dir=tmp / "data",
            database_url=url,
            redis_url=REDIS_URL,
            secret_key="bench-" + "k" * 40,
            models_file=models,
            queue_prefix=f"bench{secrets.token_hex(2)}-",
            torch_threads=THREADS,
        )
        db = Database(url)
        env = {
            **os.environ,
            "STUDIO_DATABASE_URL": url,
            "STUDIO_REDIS_URL": REDIS_URL,
            "STUDIO_SECRET_KEY": settings.secret_key.get_secret_value(),
            "STUDIO_DATA_DIR": str(settings.data_dir),
            "STUDIO_MODELS_FILE": str(models),
            "STUDIO_QUEUE_PREFIX": settings.queue_prefix,
            "STUDIO_TORCH_THREADS": str(THREADS),
        }
        worker = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("studio")),
                "worker",
                "--queues",
                "gpu,cpu",
                "--loglevel",
                "warning",
            ],
            env=env,
        )
        studio = Studio(settings, db)
        with db.session_scope() as session:
            owner = accounts.create_user(session, email="bench-a@studio.example")
            other = accounts.create_user(session, email="bench-b@studio.example")
            team_a = accounts.create_workspace(session, Actor(user=owner), name="Bench A")
            team_b = accounts.create_workspace(session, Actor(user=other), name="Bench B")
            actor_a, actor_b = Actor(user=owner), Actor(user=other)
            ids = (team_a.id, team_b.id)

        # (b) cold then warm load, as the worker measured it.
        first = studio.wait(studio.submit(actor_a, ids[0], BENCH_MODEL, "text_to_video")[0])
        second = studio.wait(studio.submit(actor_a, ids[0], BENCH_MODEL, "text_to_video")[0])
        cold, warm = first.timings["load_s"], second.timings["load_s"]

        # (a) interleaved: direct pipeline call, then the same work through the studio.
        direct, e2e, generate, encode = [], [], [], []
        for _ in range(args.jobs):
            direct.append(run_direct(pipe, spec, steps))
            public_id, sent = studio.submit(actor_a, ids[0], BENCH_MODEL, "text_to_video")
            done = studio.wait(public_id)
            assert done.finished_at is not None  # the worker's clock: same machine, no poll lag
            e2e.append(done.finished_at.timestamp() - sent)
            generate.append(done.timings["generate_s"])
            encode.append(done.timings["encode_s"])

        # (c) submit -> running on an idle worker (tiny stills, sequential).
        latency = []
        for _ in range(args.latency_jobs):
            public_id, sent = studio.submit(actor_a, ids[0], "animatic", "text_to_image")
            job = studio.wait(public_id)
            assert job.started_at is not None
            latency.append((job.started_at.timestamp() - sent) * 1000)

        # (d) fairness: A floods, then B submits once.
        with db.session_scope() as session:
            session.get(Workspace, ids[0]).max_concurrent_jobs = 1  # type: ignore[union-attr]
        flood = [studio.submit(actor_a, ids[0], "animatic", "text_to_video")[0] for _ in range(50)]
        b_id, b_sent = studio.submit(actor_b, ids[1], "animatic", "text_to_video")
        b_job = studio.wait(b_id)
        with db.session_scope() as session:
            starts = session.execute(
                select(Job.public_id, Job.started_at).where(
                    Job.public_id.in_(flood), Job.started_at.is_not(None)
                )
            ).all()
        a_after = sorted(s.timestamp() for _, s in starts if s.timestamp() > b_sent)
        assert b_job.started_at is not None
        a_before_b = sum(1 for t in a_after if t < b_job.started_at.timestamp())
        for public_id in flood:  # leave nothing running
            with db.session_scope() as session:
                jobs.cancel_job(session, actor_a, public_id)

        ratio = statistics.median(e2e) / statistics.median(direct)
        print(
            f"database: {'postgres' if scratch else 'sqlite'}; torch threads {THREADS}; "
            f"tiny LTX {BENCH_SIZE} {min(spec.durations.values())} frames, {steps} steps"
        )
        print()
        share = warm / cold if cold else float("nan")
        p50, p99 = percentile(latency, 0.5), percentile(latency, 0.99)
        e2e_s, direct_s = statistics.median(e2e), statistics.median(direct)
        rows = [
            (
                f"(a) e2e / direct, median of {args.jobs}",
                f"{e2e_s:.3f} s / {direct_s:.3f} s = **{ratio:.3f}**",
                "<= 1.10",
                ratio <= 1.10,
            ),
            (
                "(a') inside the studio job: generate / encode, median",
                f"{statistics.median(generate):.3f} s / {statistics.median(encode):.3f} s",
                "",
                None,
            ),
            (
                "(b) warm load / cold load",
                f"{warm * 1000:.1f} ms / {cold * 1000:.0f} ms = **{share:.1%}**",
                "< 5%",
                share < 0.05,
            ),
            (
                f"(c) submit -> running, {args.latency_jobs} jobs",
                f"p50 **{p50:.1f} ms**, p99 **{p99:.1f} ms**",
                "p99 < 50 ms",
                p99 < 50,
            ),
            (
                "(d) A's jobs started after B submitted, before B started",
                f"**{a_before_b}**",
                "<= 2",
                a_before_b <= 2,
            ),
        ]
        print("| figure | measured | goal | verdict |")
        print("| --- | --- | --- | --- |")
        for name, measured, goal, met in rows:
            verdict = "" if met is None else ("ok" if met else "MISSED")
            print(f"| {name} | {measured} | {goal} | {verdict} |")
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        drop_database(scratch)


if __name__ == "__main__":
    main()
