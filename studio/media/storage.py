"""Where media lives: one interface, two backends (a local folder, any S3 API).

A key looks like ``ws12/jobs/3f2a.../output.mp4``: slash-separated segments of
letters, digits, ``.``, ``_`` and ``-`` that never start with a dot. Keys are
built from server ids (job_key, asset_key), never from a user's file name, and
are validated again here so that nothing can point outside the root.

Web and workers read and write media only through a `Storage`. Engines and
ffmpeg need paths, so a worker works on scratch copies while a job runs:
`local_copy(key)` gives a readable path (the file itself for the local folder,
a downloaded scratch file for S3) and `writer(key)` gives a path to write that
becomes the object when the block succeeds.

Browsers talk to the store directly where it can: `download_url` (a presigned
GET; None means "serve `local_path` yourself") and presigned multipart uploads
(`create_upload`, `part_url`, `list_parts`, `complete_upload`,
`abort_upload`). The local folder has no HTTP server of its own, so there the
web app serves the same protocol (`part_url` gives None, `write_part` stores
a part); the page code is one path either way.

Pure: no settings, no database; the root, bucket and endpoint come in as
arguments (`stores.open_storage`). The S3 backend is in `studio.media.s3`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}"
KEY_RE = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT}){{0,15}}")
SEGMENT_RE = re.compile(_SEGMENT)
KEY_MAX = 512
UPLOAD_ID_RE = re.compile(r"[A-Za-z0-9._~=+/-]{1,1024}")
# S3's multipart rules: parts of at least 5 MiB except the last, at most 10,000 parts.
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PARTS = 10_000
_COPY_CHUNK = 1 << 20


class StorageKeyError(ValueError):
    """A key that is not one the server would make."""


class ObjectMissing(FileNotFoundError):
    """The object is not in the store. The message names the key, never a server path."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} is not in the media store")
        self.key = key


class StorageError(RuntimeError):
    """The store refused or failed an operation (the message is for operators' logs)."""


@dataclass(frozen=True)
class Part:
    number: int
    etag: str
    size: int


class PartWriter:
    """Counts and hashes a part as it is written; refuses it past ``max_bytes``."""

    def __init__(self, number: int, handle: BinaryIO, max_bytes: int) -> None:
        self.number = number
        self.handle = handle
        self.max_bytes = max_bytes
        self.size = 0
        self._md5 = hashlib.md5(usedforsecurity=False)

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise StorageError(f"part {self.number} is larger than {self.max_bytes} bytes")
        self._md5.update(chunk)
        self.handle.write(chunk)

    def result(self) -> Part:
        return Part(self.number, f'"{self._md5.hexdigest()}"', self.size)


def atomic_path(path: Path) -> contextlib.AbstractContextManager[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``.

    On an exception the temporary file is removed and ``path`` is untouched, so
    a reader never sees a half-written file.
    """
    return _atomic_path(Path(path))


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp}")
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def check_key(key: str) -> str:
    """Return ``key`` if it is a well-formed storage key, else StorageKeyError."""
    if not isinstance(key, str) or len(key) > KEY_MAX or KEY_RE.fullmatch(key) is None:
        raise StorageKeyError(f"Invalid storage key {key!r}.")
    return key


def _segment(value: str, what: str) -> str:
    if not isinstance(value, str) or SEGMENT_RE.fullmatch(value) is None:
        raise StorageKeyError(f"Invalid {what} {value!r} for a storage key.")
    return value


def workspace_key(workspace_id: int, *parts: str) -> str:
    """``ws<id>/<part>/...`` with every part checked as a key segment."""
    if isinstance(workspace_id, bool) or not isinstance(workspace_id, int) or workspace_id < 1:
        raise StorageKeyError(f"Invalid workspace id {workspace_id!r} for a storage key.")
    return check_key("/".join([f"ws{workspace_id}", *(_segment(p, "part") for p in parts)]))


def job_key(workspace_id: int, job_id: str, name: str) -> str:
    """Where a job's file lives: ``ws12/jobs/<job id>/<name>``."""
    return workspace_key(workspace_id, "jobs", _segment(job_id, "job id"), _segment(name, "name"))


def asset_key(workspace_id: int, asset_id: str, name: str) -> str:
    """Where an uploaded asset lives: ``ws12/assets/<asset id>/<name>``."""
    return workspace_key(
        workspace_id, "assets", _segment(asset_id, "asset id"), _segment(name, "name")
    )


def check_upload_id(upload_id: str) -> str:
    if not isinstance(upload_id, str) or UPLOAD_ID_RE.fullmatch(upload_id) is None:
        raise StorageKeyError("Invalid upload id.")
    return upload_id


def check_part_number(number: int) -> int:
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_PARTS:
        raise StorageKeyError(f"Part numbers go from 1 to {MAX_PARTS}.")
    return number


class Storage(ABC):
    """The media store. Every method takes server-made keys (checked again here)."""

    kind: str  # "local" or "s3"

    # ------------------------------------------------------------ objects

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int:
        """Size in bytes; ObjectMissing when absent."""

    @abstractmethod
    def read_bytes(self, key: str) -> bytes:
        """The whole object (small files only: images, posters); ObjectMissing when absent."""

    @abstractmethod
    def write_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` at ``key``; readers never see a partial object."""

    @abstractmethod
    def put_file(self, key: str, path: Path) -> None:
        """Store the file at ``path`` (left in place) as ``key``."""

    @abstractmethod
    def download(self, key: str, path: Path) -> None:
        """Write the object into the file ``path``; ObjectMissing when absent."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove one object; False when it was not there."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under ``prefix/``; how many were removed."""

    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A readable path holding the object, valid inside the block (scratch for S3)."""
        return self._scratch_copy(key)

    @contextlib.contextmanager
    def _scratch_copy(self, key: str) -> Iterator[Path]:
        check_key(key)
        with tempfile.TemporaryDirectory(prefix="studio-in-") as scratch:
            path = Path(scratch) / key.rsplit("/", 1)[-1]
            self.download(key, path)
            yield path

    def fetch_all(self, keys: list[str], folder: Path, *, parallel: int = 4) -> dict[str, Path]:
        """Readable paths for many objects at once (a job's inputs), downloaded side by
        side into ``folder``, which the caller removes; ObjectMissing names the first
        missing key in the order given."""
        for key in keys:
            check_key(key)
        unique = list(dict.fromkeys(keys))
        paths = {
            key: Path(folder) / f"{index:04d}-{key.rsplit('/', 1)[-1]}"
            for index, key in enumerate(unique)
        }
        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            futures = {key: pool.submit(self.download, key, paths[key]) for key in unique}
            for key in unique:  # in order: the first missing one is the one named
                futures[key].result()
        return paths

    def writer(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A scratch path to write (e.g. by ffmpeg); it becomes ``key`` when the block succeeds."""
        return self._scratch_writer(key)

    @contextlib.contextmanager
    def _scratch_writer(self, key: str) -> Iterator[Path]:
        check_key(key)
        with tempfile.TemporaryDirectory(prefix="studio-out-") as scratch:
            path = Path(scratch) / key.rsplit("/", 1)[-1]
            yield path
            if not path.exists():
                raise FileNotFoundError(f"nothing was written for {key}")
            self.put_file(key, path)

    # ------------------------------------------------------------ delivery

    @abstractmethod
    def download_url(
        self, key: str, *, expires_in: int, mime: str | None = None, filename: str | None = None
    ) -> str | None:
        """A URL a browser can GET (with Range) until it expires; None: serve local_path."""

    def local_path(self, key: str) -> Path | None:
        """The file behind ``key`` when the store is a local folder; None otherwise."""
        return None

    # ------------------------------------------------------------ multipart uploads

    @abstractmethod
    def create_upload(self, key: str, mime: str) -> str:
        """Start a multipart upload to ``key``; its upload id."""

    @abstractmethod
    def part_url(self, key: str, upload_id: str, number: int, *, expires_in: int) -> str | None:
        """A presigned PUT for one part; None when the web app takes parts itself."""

    def write_part(
        self, key: str, upload_id: str, number: int, chunks: Iterable[bytes], *, max_bytes: int
    ) -> Part:
        """Store one part from a stream (backends without presigned part URLs)."""
        raise StorageError(f"{self.kind} storage takes parts directly from clients")

    @abstractmethod
    def list_parts(self, key: str, upload_id: str) -> list[Part]:
        """The parts received so far, by number (for resuming and for the size check)."""

    @abstractmethod
    def complete_upload(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        """Join the parts (number, ETag) into the object ``key``."""

    @abstractmethod
    def abort_upload(self, key: str, upload_id: str) -> None:
        """Drop an unfinished upload and its parts (no error when already gone)."""

    # ------------------------------------------------------------ health

    def check(self) -> None:
        """Prove this host can write, read and delete in the store; StorageError otherwise."""
        key = f"health/{secrets.token_hex(8)}.txt"
        payload = secrets.token_bytes(32)
        try:
            self.write_bytes(key, payload)
            if self.read_bytes(key) != payload:
                raise StorageError("the store returned other bytes than were written")
            if not self.delete(key) or self.exists(key):
                raise StorageError("the store did not delete a test object")
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(f"{type(exc).__name__}: {exc}") from exc

    def describe(self) -> str:
        return self.kind


class LocalStorage(Storage):
    """Files under one root directory. All writes are atomic.

    Multipart uploads are staged under ``<root>/.uploads/<upload id>/`` (no key
    can address it: keys never start with a dot), one file per part, and
    joined into the object by `complete_upload`.
    """

    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def describe(self) -> str:
        return f"local folder {self.root}"

    def path_for(self, key: str) -> Path:
        """The absolute path of ``key``; refuses anything that would leave the root."""
        check_key(key)
        path = (self.root / key).resolve()
        if path == self.root or not path.is_relative_to(self.root):
            raise StorageKeyError(f"Storage key {key!r} leaves the storage root.")
        return path

    def local_path(self, key: str) -> Path | None:
        return self.path_for(key)

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path_for(key).stat().st_size
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    def read_bytes(self, key: str) -> bytes:
        try:
            return self.path_for(key).read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    def write_bytes(self, key: str, data: bytes) -> None:
        with self.temp_path(key) as tmp:
            tmp.write_bytes(data)

    def put_file(self, key: str, path: Path) -> None:
        with self.temp_path(key) as tmp:
            shutil.copyfile(path, tmp)

    def download(self, key: str, path: Path) -> None:
        try:
            shutil.copyfile(self.path_for(key), path)
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    @contextlib.contextmanager
    def _no_copy(self, key: str) -> Iterator[Path]:
        path = self.path_for(key)
        if not path.is_file():
            raise ObjectMissing(key)
        yield path

    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]:
        # The file itself: readers must not write to it.
        return self._no_copy(key)

    def fetch_all(self, keys: list[str], folder: Path, *, parallel: int = 4) -> dict[str, Path]:
        paths = {}
        for key in keys:  # the files themselves, in order: the first missing one is named
            path = self.path_for(key)
            if not path.is_file():
                raise ObjectMissing(key)
            paths[key] = path
        return paths

    def writer(self, key: str) -> contextlib.AbstractContextManager[Path]:
        return self.temp_path(key)

    def temp_path(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A temporary path to write ``key`` through (e.g. for ffmpeg); renamed on success."""
        return atomic_path(self.path_for(key))

    @contextlib.contextmanager
    def open_write(self, key: str) -> Iterator[BinaryIO]:
        """A binary file to stream ``key`` into; it appears only when the block succeeds."""
        with self.temp_path(key) as tmp, open(tmp, "wb") as handle:
            yield handle

    def delete(self, key: str) -> bool:
        path = self.path_for(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def delete_prefix(self, prefix: str) -> int:
        path = self.path_for(prefix)
        if not path.is_dir():
            return 0
        count = sum(1 for p in path.rglob("*") if p.is_file())
        shutil.rmtree(path)
        return count

    def download_url(
        self, key: str, *, expires_in: int, mime: str | None = None, filename: str | None = None
    ) -> str | None:
        check_key(key)
        return None

    # ------------------------------------------------------------ multipart

    def _staging(self, upload_id: str) -> Path:
        check_upload_id(upload_id)
        if not re.fullmatch(r"[0-9a-f]{32}", upload_id):
            raise StorageKeyError("Invalid upload id.")
        return self.root / ".uploads" / upload_id

    def create_upload(self, key: str, mime: str) -> str:
        check_key(key)
        upload_id = secrets.token_hex(16)
        folder = self._staging(upload_id)
        folder.mkdir(parents=True)
        (folder / "key").write_text(key)
        return upload_id

    def _open_upload(self, key: str, upload_id: str) -> Path:
        folder = self._staging(upload_id)
        try:
            staged_key = (folder / "key").read_text()
        except FileNotFoundError:
            raise StorageError("no such upload (finished, aborted or never started)") from None
        if staged_key != check_key(key):
            raise StorageError("the upload belongs to another key")
        return folder

    def part_url(self, key: str, upload_id: str, number: int, *, expires_in: int) -> str | None:
        self._open_upload(key, upload_id)
        check_part_number(number)
        return None

    def write_part(
        self, key: str, upload_id: str, number: int, chunks: Iterable[bytes], *, max_bytes: int
    ) -> Part:
        with self.open_part(key, upload_id, number, max_bytes=max_bytes) as part:
            for chunk in chunks:
                part.write(chunk)
        return part.result()

    def open_part(
        self, key: str, upload_id: str, number: int, *, max_bytes: int
    ) -> contextlib.AbstractContextManager[PartWriter]:
        """A part being received chunk by chunk (never held whole); kept when the block ends."""
        folder = self._open_upload(key, upload_id)
        return self._part(folder, check_part_number(number), max_bytes)

    @contextlib.contextmanager
    def _part(self, folder: Path, number: int, max_bytes: int) -> Iterator[PartWriter]:
        with atomic_path(folder / f"{number:05d}.part") as tmp, open(tmp, "wb") as handle:
            writer = PartWriter(number, handle, max_bytes)
            yield writer
            handle.flush()
        (folder / f"{number:05d}.etag").write_text(writer.result().etag)

    def list_parts(self, key: str, upload_id: str) -> list[Part]:
        folder = self._open_upload(key, upload_id)
        parts = []
        for part in sorted(folder.glob("*.part")):
            etag_file = part.with_suffix(".etag")
            if etag_file.exists():
                parts.append(Part(int(part.stem), etag_file.read_text(), part.stat().st_size))
        return parts

    def complete_upload(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        folder = self._open_upload(key, upload_id)
        have = {p.number: p for p in self.list_parts(key, upload_id)}
        numbers = [number for number, _ in parts]
        if not parts or numbers != sorted(set(numbers)):
            raise StorageError("parts must be listed once each, in ascending order")
        for index, (number, etag) in enumerate(parts):
            part = have.get(number)
            if part is None or part.etag.strip('"') != str(etag).strip('"'):
                raise StorageError(f"part {number} was not received (or its ETag differs)")
            if index < len(parts) - 1 and part.size < MIN_PART_BYTES:
                raise StorageError(f"part {number} is smaller than the 5 MiB minimum")
        with self.temp_path(key) as tmp, open(tmp, "wb") as out:
            for number, _ in parts:
                with open(folder / f"{number:05d}.part", "rb") as handle:
                    shutil.copyfileobj(handle, out, _COPY_CHUNK)
        shutil.rmtree(folder, ignore_errors=True)

    def abort_upload(self, key: str, upload_id: str) -> None:
        try:
            folder = self._open_upload(key, upload_id)
        except StorageError:
            return
        shutil.rmtree(folder, ignore_errors=True)
