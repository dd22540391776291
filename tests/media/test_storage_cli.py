"""`studio storage check` and the start-up check: a host proves it can write, read and
delete in the store, or says plainly why not (and does not start)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import TEST_SECRET
from tests.generation.celery_stack import STUDIO
from tests.s3 import make_bucket


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        "STUDIO_DATA_DIR": str(tmp_path / "data"),
        "STUDIO_SECRET_KEY": TEST_SECRET,
        **env,
    }
    return subprocess.run([STUDIO, *args], env=full, capture_output=True, text=True, timeout=120)


def test_storage_check_on_both_backends_and_a_refusing_store(
    s3_endpoint: str, tmp_path: Path
) -> None:
    local = run(["storage", "check"], tmp_path)
    assert local.returncode == 0 and "local folder" in local.stdout, local.stderr
    bucket = make_bucket(s3_endpoint)
    s3 = {"STUDIO_STORAGE_URL": f"s3://{bucket}/studio", "STUDIO_S3_ENDPOINT_URL": s3_endpoint}
    good = run(["storage", "check"], tmp_path, **s3)
    assert good.returncode == 0 and f"s3://{bucket}/studio" in good.stdout, good.stderr
    missing = {**s3, "STUDIO_STORAGE_URL": "s3://no-such-bucket/studio"}
    bad = run(["storage", "check"], tmp_path, **missing)
    assert bad.returncode == 2 and "not usable from this host" in bad.stderr, bad.stderr
    assert "NoSuchBucket" in bad.stderr
    # A web host with a store it cannot use refuses to start, before touching the database.
    serve = run(
        ["serve", "--port", "1"],
        tmp_path,
        **missing,
        STUDIO_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
    )
    assert serve.returncode == 2 and "not usable from this host" in serve.stderr, serve.stderr
