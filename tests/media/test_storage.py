"""Storage keys never leave the root; writes are atomic; both backends keep one contract."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from studio.media.storage import (
    LocalStorage,
    StorageKeyError,
    asset_key,
    atomic_path,
    check_key,
    job_key,
)

JOB = "3f2a9c0d4b5e4f6a8b7c6d5e4f3a2b1c"


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media")


def test_job_key_and_path(storage: LocalStorage) -> None:
    key = job_key(12, JOB, "output.mp4")
    assert key == f"ws12/jobs/{JOB}/output.mp4"
    assert storage.path_for(key) == storage.root / "ws12" / "jobs" / JOB / "output.mp4"
    assert asset_key(3, "a1b2", "original.png") == "ws3/assets/a1b2/original.png"


@pytest.mark.parametrize(
    "key",
    [
        "../x",
        "ws1/../../etc/passwd",
        "ws1/jobs/../x",
        "/etc/passwd",
        "ws1//x",
        "ws1/./x",
        "ws1/x/",
        ".hidden",
        "ws1/.env",
        "ws1/a b.mp4",
        "ws1\\..\\x",
        "ws1/ü.mp4",
        "ws1/x\x00.mp4",
        "ws1/x\n.mp4",
        "C:/x",
        "~/x",
        "",
        "a/" * 20 + "x",
        "x" * 600,
    ],
)
def test_refuses_bad_keys(storage: LocalStorage, key: str) -> None:
    with pytest.raises(StorageKeyError):
        storage.path_for(key)
    with pytest.raises(StorageKeyError):
        check_key(key)


@pytest.mark.parametrize(
    ("workspace", "job", "name"),
    [
        (0, JOB, "output.mp4"),
        (-1, JOB, "output.mp4"),
        (True, JOB, "output.mp4"),
        ("12", JOB, "output.mp4"),
        (12, "../x", "output.mp4"),
        (12, "a/b", "output.mp4"),
        (12, "", "output.mp4"),
        (12, JOB, "../output.mp4"),
        (12, JOB, "sub/output.mp4"),
        (12, JOB, ".output.mp4"),
        (12, JOB, "my video.mp4"),
    ],
)
def test_job_key_refuses_bad_parts(workspace: object, job: str, name: str) -> None:
    with pytest.raises(StorageKeyError):
        job_key(workspace, job, name)  # type: ignore[arg-type]


def test_a_symlink_cannot_lead_outside_the_root(storage: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (storage.root / "ws1").mkdir(parents=True)
    os.symlink(outside, storage.root / "ws1" / "jobs")
    with pytest.raises(StorageKeyError):
        storage.path_for("ws1/jobs/x.mp4")


def test_write_read_size_delete(storage: LocalStorage) -> None:
    key = job_key(1, JOB, "poster.jpg")
    assert not storage.exists(key)
    storage.write_bytes(key, b"hello")
    assert storage.path_for(key).read_bytes() == b"hello"
    assert storage.exists(key) and storage.size(key) == 5
    assert storage.read_bytes(key) == b"hello"
    storage.write_bytes(key, b"replaced")
    assert storage.read_bytes(key) == b"replaced"
    assert storage.delete(key) is True
    assert storage.delete(key) is False
    assert not storage.exists(key)
    with pytest.raises(FileNotFoundError):
        storage.size(key)


def test_open_write_is_atomic(storage: LocalStorage) -> None:
    key = job_key(1, JOB, "output.mp4")
    with storage.open_write(key) as handle:
        handle.write(b"complete")
    assert storage.read_bytes(key) == b"complete"
    with pytest.raises(RuntimeError), storage.open_write(key) as handle:
        handle.write(b"half")
        raise RuntimeError("crashed mid-write")
    assert storage.read_bytes(key) == b"complete"
    assert sorted(p.name for p in storage.path_for(key).parent.iterdir()) == ["output.mp4"]


def test_temp_path_renames_on_success(storage: LocalStorage) -> None:
    key = job_key(1, JOB, "frame.png")
    with storage.temp_path(key) as tmp:
        assert tmp.parent == storage.path_for(key).parent
        assert tmp != storage.path_for(key)
        assert not storage.exists(key)
        tmp.write_bytes(b"png")
    assert storage.read_bytes(key) == b"png"


def test_atomic_path_needs_a_written_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), atomic_path(tmp_path / "x.bin"):
        pass
    assert list(tmp_path.iterdir()) == []


def test_delete_prefix(storage: LocalStorage) -> None:
    storage.write_bytes(job_key(1, JOB, "a.mp4"), b"a")
    storage.write_bytes(job_key(1, JOB, "b.jpg"), b"b")
    storage.write_bytes(job_key(1, "other", "a.mp4"), b"c")
    assert storage.delete_prefix(f"ws1/jobs/{JOB}") == 2
    assert not storage.exists(job_key(1, JOB, "a.mp4"))
    assert storage.exists(job_key(1, "other", "a.mp4"))
    assert storage.delete_prefix(f"ws1/jobs/{JOB}") == 0
    with pytest.raises(StorageKeyError):
        storage.delete_prefix("..")
