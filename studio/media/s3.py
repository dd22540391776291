"""The S3 backend: plain boto3 against an endpoint URL (AWS S3, MinIO, R2, Ceph RGW).

Credentials come the standard AWS way (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
a profile, an instance role); nothing here knows which store is on the other
end. Browsers get presigned URLs signed for `public_endpoint_url` when the
store's address as seen by browsers differs from the one hosts use (for
example http://minio:9000 inside compose, https://media.example.com outside).

Pure: no settings, no database.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from studio.media.storage import (
    ObjectMissing,
    Part,
    Storage,
    StorageError,
    check_key,
    check_part_number,
    check_upload_id,
)

_MISSING = {"404", "NoSuchKey", "NotFound"}
# Large objects move in parallel 16 MiB parts; small ones in one request.
_TRANSFER = TransferConfig(multipart_threshold=64 * 1024 * 1024, multipart_chunksize=16 << 20)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Storage(Storage):
    kind = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        public_endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("The storage URL names no bucket: use s3://bucket/prefix.")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            check_key(self.prefix)
        self.endpoint_url = endpoint_url
        self.client = self._client(endpoint_url, region)
        # Presigned URLs carry the host they were signed for: sign with the browsers' one.
        public = public_endpoint_url or endpoint_url
        self.presigner = self.client if public == endpoint_url else self._client(public, region)

    @staticmethod
    def _client(endpoint_url: str | None, region: str | None) -> Any:
        # Path-style addressing for custom endpoints (MinIO and most others need it).
        style = "path" if endpoint_url else "auto"
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": style},
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=10,
            read_timeout=120,
        )
        return boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region or "us-east-1", config=config
        )

    def describe(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{where}"

    def object_name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    # ------------------------------------------------------------ objects

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_name(key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise
        return True

    def size(self, key: str) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.object_name(key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise ObjectMissing(key) from None
            raise
        return int(head["ContentLength"])

    def read_bytes(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_name(key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise ObjectMissing(key) from None
            raise
        with contextlib.closing(response["Body"]) as body:
            return bytes(body.read())

    def write_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.object_name(key), Body=data)

    def put_file(self, key: str, path: Path) -> None:
        self.client.upload_file(str(path), self.bucket, self.object_name(key), Config=_TRANSFER)

    def download(self, key: str, path: Path) -> None:
        try:
            self.client.download_file(
                self.bucket, self.object_name(key), str(path), Config=_TRANSFER
            )
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise ObjectMissing(key) from None
            raise

    def delete(self, key: str) -> bool:
        if not self.exists(key):
            return False
        self.client.delete_object(Bucket=self.bucket, Key=self.object_name(key))
        return True

    def delete_prefix(self, prefix: str) -> int:
        start = self.object_name(prefix) + "/"
        removed = 0
        for page in self._pages(start):
            batch = [{"Key": item["Key"]} for item in page]
            if batch:
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
                removed += len(batch)
        return removed

    def _pages(self, start: str) -> Iterator[list[dict[str, Any]]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
            yield list(page.get("Contents", []))

    # ------------------------------------------------------------ delivery

    def download_url(
        self, key: str, *, expires_in: int, mime: str | None = None, filename: str | None = None
    ) -> str | None:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self.object_name(key)}
        if mime:
            params["ResponseContentType"] = mime
        disposition = "inline"
        if filename:
            disposition += f'; filename="{filename}"'
        params["ResponseContentDisposition"] = disposition
        url: str = self.presigner.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=max(1, int(expires_in))
        )
        return url

    # ------------------------------------------------------------ multipart

    def create_upload(self, key: str, mime: str) -> str:
        made = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=self.object_name(key), ContentType=mime
        )
        return str(made["UploadId"])

    def part_url(self, key: str, upload_id: str, number: int, *, expires_in: int) -> str | None:
        url: str = self.presigner.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.bucket,
                "Key": self.object_name(key),
                "UploadId": check_upload_id(upload_id),
                "PartNumber": check_part_number(number),
            },
            ExpiresIn=max(1, int(expires_in)),
        )
        return url

    def list_parts(self, key: str, upload_id: str) -> list[Part]:
        parts: list[Part] = []
        marker = 0
        while True:
            try:
                page = self.client.list_parts(
                    Bucket=self.bucket,
                    Key=self.object_name(key),
                    UploadId=check_upload_id(upload_id),
                    PartNumberMarker=marker,
                )
            except ClientError as exc:
                if _code(exc) == "NoSuchUpload":
                    raise StorageError(
                        "no such upload (finished, aborted or never started)"
                    ) from None
                raise
            for item in page.get("Parts", []):
                parts.append(Part(int(item["PartNumber"]), str(item["ETag"]), int(item["Size"])))
            if not page.get("IsTruncated"):
                return parts
            marker = int(page["NextPartNumberMarker"])

    def complete_upload(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.object_name(key),
                UploadId=check_upload_id(upload_id),
                MultipartUpload={
                    "Parts": [
                        {"PartNumber": check_part_number(n), "ETag": etag} for n, etag in parts
                    ]
                },
            )
        except ClientError as exc:
            raise StorageError(f"the store refused to complete the upload: {_code(exc)}") from exc

    def abort_upload(self, key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self.object_name(key), UploadId=check_upload_id(upload_id)
            )
        except ClientError as exc:
            if _code(exc) not in {"NoSuchUpload", "404"}:
                raise
