"""Rough cut of 24 matching 5-s takes against a plain ffmpeg concat with -c copy.

    .venv/bin/python bench/rough_cut.py [--runs 5] [--size 1920x1080]

Both sides join the same 24 files. The studio side is the whole job as a
worker runs it (snapshot the circled takes, claim, decide on stream copy from
what the clips' assets recorded, stream copy with the index first, hash and
probe the result, poster, record assets, finish); the plain side is one
`ffmpeg -f concat -safe 0 -i list -c copy` call. Goal: studio <= 1.5x plain.
Runs alternate, on a scratch SQLite database.
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
from studio.media import ffmpeg  # noqa: E402
from studio.media.models import Asset  # noqa: E402
from studio.projects import roughcut, takes  # noqa: E402
from studio.projects import service as projects  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    tmp = Path(tempfile.mkdtemp(prefix="studio-roughcut-bench-"))
    try:
        url = f"sqlite:///{tmp / 'bench.db'}"
        migrate.upgrade(url)
        settings = Settings(
            data_dir=tmp / "data", database_url=url, max_upload_bytes=500 * 1024 * 1024
        )
        db = Database(url)
        gen = build_generation(db, settings)
        runner = JobRunner(db, settings, gen.registry, queues=["cpu"], worker_id="bench")
        source = tmp / "clip.mp4"
        make_clip(source, width, height)
        data = source.read_bytes()
        with db.session_scope() as session:
            user = accounts.create_user(session, email="cut@studio.example")
            actor = Actor(user=user)
            workspace = accounts.create_workspace(session, actor, name="Cut bench")
            project = projects.create_project(
                session, actor, workspace_id=workspace.id, title="Bench", default_ratio="1920:1080"
            )
            project_id = project.id
            for _ in range(SHOTS):
                shot = projects.add_shot(session, actor, project_id, projects.ShotFields())
                take = takes.upload_take(session, actor, shot.id, gen, data)
                takes.select_take(session, actor, take.id)
        with db.session_scope() as session:
            keys = session.scalars(select(Asset.storage_key).where(Asset.kind == "video")).all()
            clips = [gen.storage.path_for(key) for key in keys]
        listing = tmp / "list.txt"
        listing.write_text("".join(f"file '{c}'\n" for c in clips))

        plain, faststart, studio, methods = [], [], [], set()
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
            started = time.perf_counter()
            with db.session_scope() as session:
                roughcut.request_rough_cut(session, actor, project_id, gen)
            outcome = runner.work_once()
            studio.append(time.perf_counter() - started)
            assert outcome is not None and outcome.status.value == "succeeded", outcome
            with db.session_scope() as session:
                job = session.scalar(select(Job).where(Job.public_id == outcome.public_id))
                assert job is not None
                methods.add(job.timings.get("method"))
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
        print()
        pairs = zip(studio, plain, strict=True)
        print("runs, studio / plain:", ", ".join(f"{a:.3f}/{b:.3f} s" for a, b in pairs))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
