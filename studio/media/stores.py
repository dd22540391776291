"""Which store a deployment uses, from its settings' URL (kept apart from
`storage`, which the S3 backend builds on, so that neither imports the other)."""

from __future__ import annotations

from pathlib import Path

from studio.media.storage import LocalStorage, Storage


def open_storage(
    url: str,
    *,
    media_dir: Path,
    endpoint_url: str | None = None,
    public_endpoint_url: str | None = None,
    region: str | None = None,
) -> Storage:
    """The store a URL names: "" or ``file:`` -> the local folder ``media_dir``;
    ``s3://bucket/prefix`` -> that bucket through boto3 (``endpoint_url`` for
    MinIO, R2, Ceph...; credentials the standard AWS way)."""
    url = (url or "").strip()
    if not url or url.startswith("file:"):
        return LocalStorage(media_dir)
    if url.startswith("s3://"):
        from studio.media.s3 import S3Storage  # boto3 only where S3 is used

        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        return S3Storage(
            bucket,
            prefix.strip("/"),
            endpoint_url=endpoint_url or None,
            public_endpoint_url=public_endpoint_url or None,
            region=region or None,
        )
    raise ValueError(f"Unsupported storage URL {url!r}: use s3://bucket/prefix or leave it empty.")
