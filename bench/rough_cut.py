"""Rough cut of 24 matching 5-s takes against a plain ffmpeg concat with -c copy,
and the same rough cut with the takes in S3 against the takes on local disk.

    .venv/bin/python bench/rough_cut.py [--runs 5] [--size 1920x1080]

All sides join the same 24 files. The studio side is the whole job as a
worker runs it (snapshot the circled takes, claim, fetch and probe every
input, stream copy with the index first, hash and probe the result, check its
length, poster, put the outputs in the store, record assets, finish); the
plain side is one `ffmpeg -f concat -safe 0 -i list -c copy` call. Goal:
studio <= 1.5x plain. The store side runs the same job with media in an S3
bucket (moto's server on loopback, a separate process): the worker downloads
the 24 takes to scratch and uploads the cut. Runs alternate, on scratch
SQLite databases.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.accounts import service as accounts  # noqa: E402
from studio.accounts.access import Actor  # noqa: E402
from studio.config import Settings  # noqa: E402
from studio.db import migrate  # noqa: E402
from studio.db.session import Database  # noqa: E402
from studio.generation.context import build_generation  # noqa: E402
from studio.generation.models import Job  # noqa: E402
from studio.generation.runner import JobRunner  # noqa: E402
from studio.job_kinds import register_all  # noqa: E402
from studio.media import ffmpeg  # noqa: E402
from studio.media.models import Asset  # noqa: E402
from studio.projects import roughcut, takes  # noqa: E402
from studio.projects import service as projects  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from s3local import start_s3  # noqa: E402

SHOTS = 24
SECONDS = 5
FPS = 24


def make_clip(path: Path, width: int, height: int) -> None:
    frames = np.zeros((SECONDS * FPS, height, width, 3), dtype=np.uint8)
    ramp = np.linspace(0, 255, width, dtype=np.uint8)
    for index in range(len(frames)):
        frames[index, :, :, 0] = np.roll(ramp, index * 8)[None, :]
        frames[index, :, :, 2] = index * 2
    ffmpeg.encode_mp4(frames, FPS, path, preset="ultrafast")


def setup(
    tmp: Path, data: bytes, width: int, height: int, **storage: str
) -> tuple[Database, JobRunner, Actor, int, object]:
    """A scratch studio with 24 shots, each with the clip uploaded and circled."""
    url = f"sqlite:///{tmp / 'bench.db'}"
    migrate.upgrade(url)
    settings = Settings(
        data_dir=tmp / "data", database_url=url, max_upload_bytes=500 * 1024 * 1024, **storage
    )
    db = Database(url)
    register_all()  # the rough cut is a job kind the runner learns from projects
    gen = build_generation(db, settings)
    runner = JobRunner(db, settings, gen.registry, queues=["cpu"], worker_id="bench")
    with db.session_scope() as session:
        user = accounts.create_user(session, email="cut@studio.example")
        actor = Actor(user=user)
        workspace = accounts.create_workspace(session, actor, name="Cut bench")
        project = projects.create_project(
            session,
            actor,
            workspace_id=workspace.id,
            title="Bench",
            default_ratio=f"{width}:{height}",
        )
        project_id = project.id
        for _ in range(SHOTS):
            shot = projects.add_shot(session, actor, project_id, projects.ShotFields())
            take = takes.upload_take(session, actor, shot.id, gen, data)
            takes.select_take(session, actor, take.id)
    return db, runner, actor, project_id, gen


def studio_cut(
    db: Database, runner: JobRunner, actor: Actor, project_id: int, gen: object
) -> tuple[float, str]:
    started = time.perf_counter()
    with db.session_scope() as session:
        roughcut.request_rough_cut(session, actor, project_id, gen)  # type: ignore[arg-type]
    outcome = runner.work_once()
    took = time.perf_counter() - started
    assert outcome is not None and outcome.status.value == "succeeded", outcome
    with db.session_scope() as session:
        job = session.scalar(select(Job).where(Job.public_id == outcome.public_id))
        assert job is not None
        return took, str(job.timings.get("method"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    tmp = Path(tempfile.mkdtemp(prefix="studio-roughcut-bench-"))
    server = None
    try:
        source = tmp / "clip.mp4"
        make_clip(source, width, height)
        data = source.read_bytes()
        (tmp / "local").mkdir()
        (tmp / "s3").mkdir()
        db, runner, actor, project_id, gen = setup(tmp / "local", data, width, height)
        server, endpoint = start_s3()
        s3_side = setup(
            tmp / "s3",
            data,
            width,
            height,
            storage_url="s3://bench/media",
            s3_endpoint_url=endpoint,
        )
        with db.session_scope() as session:
            keys = session.scalars(select(Asset.storage_key).where(Asset.kind == "video")).all()
            clips = [gen.storage.path_for(key) for key in keys]  # type: ignore[attr-defined]
        listing = tmp / "list.txt"
        listing.write_text("".join(f"file '{c}'\n" for c in clips))

        plain, faststart, studio, stored, methods = [], [], [], [], set()
        concat = [ffmpeg.ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-f", "concat"]
        concat += ["-safe", "0", "-i", str(listing), "-c", "copy", "-y"]
        for run in range(args.runs):
            started = time.perf_counter()
            subprocess.run([*concat, str(tmp / f"plain-{run}.mp4")], check=True)
            plain.append(time.perf_counter() - started)
            # The same, made browser-streamable as the studio's cut is (moov first).
            started = time.perf_counter()
            subprocess.run(
                [*concat, "-movflags", "+faststart", str(tmp / f"fast-{run}.mp4")], check=True
            )
            faststart.append(time.perf_counter() - started)
            took, method = studio_cut(db, runner, actor, project_id, gen)
            studio.append(took)
            methods.add(method)
            took, method = studio_cut(*s3_side)
            stored.append(took)
            methods.add(method)
        ratio = statistics.median(studio) / statistics.median(plain)
        fast_ratio = statistics.median(studio) / statistics.median(faststart)
        print(
            f"{SHOTS} takes of {SECONDS} s at {width}x{height} {FPS} fps; {args.runs} runs; "
            f"studio method {methods}"
        )
        print()
        print("| figure | measured | goal | verdict |")
        print("| --- | --- | --- | --- |")
        print(
            f"| rough cut / plain concat -c copy, median | {statistics.median(studio):.3f} s / "
            f"{statistics.median(plain):.3f} s = **{ratio:.2f}x** | <= 1.5x | "
            f"{'ok' if ratio <= 1.5 else 'MISSED'} |"
        )
        print(
            f"| rough cut / concat -c copy +faststart, median | "
            f"{statistics.median(studio):.3f} s / "
            f"{statistics.median(faststart):.3f} s = **{fast_ratio:.2f}x** | (same file kind) | |"
        )
        store_ratio = statistics.median(stored) / statistics.median(studio)
        print(
            f"| rough cut, takes in S3 / takes on local disk, median | "
            f"{statistics.median(stored):.3f} s / {statistics.median(studio):.3f} s = "
            f"**{store_ratio:.2f}x** | (what object storage costs) | |"
        )
        print()
        pairs = zip(studio, plain, stored, strict=True)
        print(
            "runs, studio / plain / studio from S3:",
            ", ".join(f"{a:.3f}/{b:.3f}/{c:.3f} s" for a, b, c in pairs),
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
