"""A 1 GiB film uploaded directly to the store by presigned multipart (through the
studio's /v1/uploads) against one plain PUT of the same file to the same endpoint,
with the web process's memory watched during the upload.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--rounds 2] [--parallel 4]
                                     [--store moto|seaweedfs] [--weed PATH]

The store is an S3 server in its own process (moto's, or SeaweedFS, which
joins parts server-side as S3 does: see s3local.py); the web app is a real
`studio serve` subprocess with media in that bucket. The studio side is what
a browser or API client does: start the upload, ask for part URLs, PUT the
parts (16 MiB, four at a time) straight to the store, complete (the store
joins the parts; the web never holds the body). The plain side is one
presigned PUT of the whole file. Rounds alternate; medians are compared.
Goals: studio / plain <= 1.1; the web process's resident memory grows by
less than 50 MB during the upload.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import httpx
import numpy as np
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from s3local import STORES, free_port, start_s3  # noqa: E402

from studio.accounts import apikeys  # noqa: E402
from studio.accounts import service as accounts  # noqa: E402
from studio.accounts.access import Actor  # noqa: E402
from studio.db.session import Database  # noqa: E402
from studio.media import ffmpeg  # noqa: E402

MIB = 1024 * 1024
SECRET = "bench-secret-key-" + "x" * 40


def make_film(path: Path, size: int) -> None:
    """A real MP4 padded to `size` bytes with a trailing 'free' box (it probes as a film)."""
    clip = path.with_suffix(".clip.mp4")
    ramp = np.linspace(0, 255, 48, dtype=np.uint8)[:, None, None, None]
    ffmpeg.encode_mp4(np.broadcast_to(ramp, (48, 180, 320, 3)).copy(), 24, clip)
    data = clip.read_bytes()
    filler = size - len(data)
    header = (1).to_bytes(4, "big") + b"free" + filler.to_bytes(8, "big")  # 64-bit box size
    with path.open("wb") as out:
        out.write(data + header)
        left = filler - len(header)
        block = b"\0" * (8 * MIB)
        while left > 0:
            out.write(block[: min(left, len(block))])
            left -= min(left, len(block))


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class MemoryWatch:
    """Samples a process's resident memory every 20 ms while active."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def __enter__(self) -> MemoryWatch:
        self.baseline = rss_bytes(self.pid)
        self.peak = self.baseline
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


PHASES: dict[str, list[float]] = {"parts": [], "complete": []}


def multipart(web: str, auth: dict[str, str], shot_id: int, film: Path, parallel: int) -> str:
    size = film.stat().st_size
    with httpx.Client(base_url=web, headers=auth, timeout=600) as api:
        made = api.post(
            "/v1/uploads",
            json={"purpose": "take", "shot_id": shot_id, "size": size, "content_type": "video/mp4"},
        )
        assert made.status_code == 201, made.text
        upload = made.json()
        part = upload["part_size"]
        numbers = list(range(1, upload["part_count"] + 1))
        urls: dict[str, str] = {}
        for start in range(0, len(numbers), 100):
            batch = numbers[start : start + 100]
            urls |= api.post(f"/v1/uploads/{upload['id']}/parts", json={"numbers": batch}).json()[
                "urls"
            ]

        def put(number: int) -> tuple[int, str]:
            with film.open("rb") as handle:
                handle.seek((number - 1) * part)
                body = handle.read(part)
            response = httpx.put(urls[str(number)], content=body, timeout=600)
            assert response.status_code == 200, response.text
            return number, response.headers["etag"]

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            etags = sorted(pool.map(put, numbers))
        PHASES["parts"].append(time.perf_counter() - started)
        started = time.perf_counter()
        done = api.post(
            f"/v1/uploads/{upload['id']}/complete",
            json={"parts": [{"number": n, "etag": e} for n, e in etags]},
        )
        PHASES["complete"].append(time.perf_counter() - started)
        assert done.status_code == 200, done.text
        return str(upload["id"])


def wait_checked(web: str, auth: dict[str, str], upload_id: str) -> str:
    while True:
        state = httpx.get(f"{web}/v1/uploads/{upload_id}", headers=auth, timeout=60).json()
        if state["status"] not in ("uploading", "checking"):
            return str(state["status"])
        time.sleep(0.5)


def plain_put(endpoint: str, film: Path, key: str) -> None:
    # SigV4, as the studio signs its part URLs.
    s3 = boto3.client("s3", endpoint_url=endpoint, config=Config(signature_version="s3v4"))
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "bench", "Key": key}, ExpiresIn=3600
    )
    with film.open("rb") as body:
        response = httpx.put(url, content=body, timeout=600)
    assert response.status_code == 200, response.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--part-mib", type=int, default=16, help="STUDIO_UPLOAD_PART_BYTES")
    parser.add_argument("--store", choices=STORES, default="moto", help="the S3 server")
    parser.add_argument("--weed", default="/opt/seaweedfs/bin/weed", help="SeaweedFS binary")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="studio-upload-bench-"))
    s3_server, endpoint = start_s3(store=args.store, weed=args.weed, data_dir=tmp / "store")
    web_proc = None
    try:
        film = tmp / "film.mp4"
        make_film(film, args.size_mib * MIB)
        port = free_port()
        web = f"http://127.0.0.1:{port}"
        url = f"sqlite:///{tmp / 'studio.db'}"
        env = {
            **os.environ,
            "STUDIO_DATA_DIR": str(tmp / "web"),
            "STUDIO_DATABASE_URL": url,
            "STUDIO_SECRET_KEY": SECRET,
            "STUDIO_BASE_URL": web,
            "STUDIO_STORAGE_URL": "s3://bench/media",
            "STUDIO_S3_ENDPOINT_URL": endpoint,
            "STUDIO_MAX_UPLOAD_BYTES": str(film.stat().st_size + MIB),
            "STUDIO_UPLOAD_PART_BYTES": str(args.part_mib * MIB),
            # The probe runs after the timed part: a job (the embedded runner's).
            "STUDIO_UPLOAD_PROBE_INLINE_BYTES": "1",
        }
        web_proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("studio")), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(600):
            try:
                if httpx.get(web + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        db = Database(url)
        with db.session_scope() as session:
            user = accounts.create_user(session, email="bench@studio.example")
            actor = Actor(user=user)
            workspace = accounts.create_workspace(session, actor, name="Upload bench")
            key = apikeys.create_key(session, actor, workspace_id=workspace.id, name="bench").secret
        auth = {"Authorization": f"Bearer {key}"}
        project = httpx.post(web + "/v1/projects", json={"title": "Bench"}, headers=auth).json()
        shot = httpx.post(
            f"{web}/v1/projects/{project['id']}/shots", json={"description": "x"}, headers=auth
        ).json()

        studio, plain, growth, statuses = [], [], [], []
        for run in range(args.rounds):
            started = time.perf_counter()
            plain_put(endpoint, film, f"plain/{run}.mp4")
            plain.append(time.perf_counter() - started)
            with MemoryWatch(web_proc.pid) as watch:
                started = time.perf_counter()
                upload_id = multipart(web, auth, shot["id"], film, args.parallel)
                studio.append(time.perf_counter() - started)
            growth.append(watch.peak - watch.baseline)
            statuses.append(wait_checked(web, auth, upload_id))  # the probe, untimed
        ratio = statistics.median(studio) / statistics.median(plain)
        size = film.stat().st_size
        print(
            f"{size / MIB:.0f} MiB film; {args.rounds} rounds; parts of {args.part_mib} MiB, "
            f"{args.parallel} at a time; store: {args.store} S3 server (own process); "
            f"uploads checked: {statuses}"
        )
        print()
        print("| figure | measured | goal | verdict |")
        print("| --- | --- | --- | --- |")
        print(
            f"| presigned multipart (start + parts + complete) / one plain PUT, median | "
            f"{statistics.median(studio):.2f} s / {statistics.median(plain):.2f} s = "
            f"**{ratio:.2f}x** | <= 1.1 | {'ok' if ratio <= 1.1 else 'MISSED'} |"
        )
        worst = max(growth)
        print(
            f"| web process resident memory growth during the upload, worst round | "
            f"**{worst / MIB:.1f} MB** | < 50 MB | {'ok' if worst < 50 * MIB else 'MISSED'} |"
        )
        print(
            f"| of which: parts PUT / complete (the store joins the parts), median | "
            f"{statistics.median(PHASES['parts']):.2f} s / "
            f"{statistics.median(PHASES['complete']):.2f} s | | |"
        )
        print()
        pairs = zip(studio, plain, growth, strict=True)
        print(
            "rounds, multipart / plain / web growth:",
            ", ".join(f"{a:.2f}/{b:.2f} s/{g / MIB:.1f} MB" for a, b, g in pairs),
        )
    finally:
        if web_proc is not None:
            web_proc.send_signal(signal.SIGTERM)
            web_proc.wait(timeout=30)
        s3_server.terminate()
        s3_server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
