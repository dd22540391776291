"""Media files on disk, addressed by server-made keys.

A key looks like ``ws12/jobs/3f2a.../output.mp4``: slash-separated segments of
letters, digits, ``.``, ``_`` and ``-`` that never start with a dot. Keys are
built from server ids (job_key, asset_key), never from a user's file name, and
are validated again here so that nothing can point outside the root.

Pure: no settings, no database; the root comes in as an argument.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}"
KEY_RE = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT}){{0,15}}")
SEGMENT_RE = re.compile(_SEGMENT)
KEY_MAX = 512


class StorageKeyError(ValueError):
    """A key that is not one the server would make."""


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


class Storage:
    """Files under one root directory. All writes are atomic."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def path_for(self, key: str) -> Path:
        """The absolute path of ``key``; refuses anything that would leave the root."""
        check_key(key)
        path = (self.root / key).resolve()
        if path == self.root or not path.is_relative_to(self.root):
            raise StorageKeyError(f"Storage key {key!r} leaves the storage root.")
        return path

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def size(self, key: str) -> int:
        """Size in bytes; FileNotFoundError when missing."""
        return self.path_for(key).stat().st_size

    def read_bytes(self, key: str) -> bytes:
        return self.path_for(key).read_bytes()

    def write_bytes(self, key: str, data: bytes) -> Path:
        with self.temp_path(key) as tmp:
            tmp.write_bytes(data)
        return self.path_for(key)

    def temp_path(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A temporary path to write ``key`` through (e.g. for ffmpeg); renamed on success."""
        return atomic_path(self.path_for(key))

    @contextlib.contextmanager
    def open_write(self, key: str) -> Iterator[BinaryIO]:
        """A binary file to stream ``key`` into; it appears only when the block succeeds."""
        with self.temp_path(key) as tmp, open(tmp, "wb") as handle:
            yield handle

    def delete(self, key: str) -> bool:
        """Remove one file; False when it was not there."""
        path = self.path_for(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def delete_prefix(self, prefix: str) -> bool:
        """Remove a whole folder, e.g. ``ws12/jobs/<job id>``; False when it was not there."""
        path = self.path_for(prefix)
        if not path.is_dir():
            return False
        shutil.rmtree(path)
        return True
