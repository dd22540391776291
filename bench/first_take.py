"""How long a fresh embedded install takes to turn a prompt into an animatic take.

    .venv/bin/python bench/first_take.py

Starts `studio serve` exactly as `make run` does (SQLite, no Redis, no GPU)
in a scratch data folder, then submits a 4 s 1280x720 text-to-video prompt
with a camera move and times submit -> SUCCEEDED. Goal: under 30 s.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

STUDIO = str(Path(sys.executable).with_name("studio"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="studio-first-take-"))
    port = free_port()
    env = {
        **os.environ,
        "STUDIO_DATA_DIR": str(data),
        "STUDIO_PORT": str(port),
        "STUDIO_BASE_URL": f"http://127.0.0.1:{port}",
    }
    for name in ("STUDIO_DATABASE_URL", "STUDIO_REDIS_URL", "STUDIO_SECRET_KEY"):
        env.pop(name, None)
    subprocess.run([STUDIO, "demo"], env=env, check=True, capture_output=True)
    key = subprocess.run(
        [
            STUDIO,
            "apikeys",
            "create",
            "--user",
            "demo@studio.example",
            "--workspace",
            "demo-studio",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    server = subprocess.Popen(
        [STUDIO, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        auth = {"Authorization": f"Bearer {key}"}
        body = {
            "promptText": "A lighthouse keeper climbs the stairs at dusk",
            "model": "animatic",
            "ratio": "1280:720",
            "duration": 4,
            "cameraMove": "zoom_in",
        }
        started = time.monotonic()
        task_id = httpx.post(f"{base}/v1/text_to_video", json=body, headers=auth).json()["id"]
        while True:
            task = httpx.get(f"{base}/v1/tasks/{task_id}", headers=auth).json()
            if task["status"] in ("SUCCEEDED", "FAILED"):
                break
            time.sleep(0.1)
        took = time.monotonic() - started
        verdict = "ok" if task["status"] == "SUCCEEDED" and took < 30 else "MISSED"
        print("| figure | measured | goal | verdict |")
        print("| --- | --- | --- | --- |")
        print(
            f"| prompt -> animatic take (1280x720, 4 s, 24 fps, zoom in), embedded default "
            f"| **{took:.1f} s** ({task['status']}) | < 30 s | {verdict} |"
        )
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
