"""One contract, two backends: the local folder and S3 (boto3 against moto's
real HTTP server on loopback). Whatever a web host or worker does with media,
it does through these methods, so both must behave the same."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from studio.media.storage import (
    MIN_PART_BYTES,
    LocalStorage,
    ObjectMissing,
    Storage,
    StorageError,
    StorageKeyError,
)
from studio.media.stores import open_storage
from tests.s3 import make_bucket


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "local":
        yield open_storage("", media_dir=tmp_path / "media")
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = make_bucket(endpoint)
    yield open_storage(
        f"s3://{bucket}/studio", media_dir=tmp_path / "unused", endpoint_url=endpoint
    )


def key(name: str = "clip.mp4") -> str:
    return f"ws1/jobs/{secrets.token_hex(8)}/{name}"


def test_objects_round_trip_and_missing_ones_say_so(store: Storage, tmp_path: Path) -> None:
    k = key()
    assert not store.exists(k)
    with pytest.raises(ObjectMissing) as missing:
        store.size(k)
    assert str(tmp_path) not in str(missing.value)  # names the key, never a server path
    with pytest.raises(ObjectMissing):
        store.read_bytes(k)
    with pytest.raises(ObjectMissing), store.local_copy(k):
        pass
    store.write_bytes(k, b"hello")
    assert store.exists(k) and store.size(k) == 5 and store.read_bytes(k) == b"hello"
    source = tmp_path / "source.bin"
    source.write_bytes(b"x" * 70_000)
    store.put_file(k, source)
    assert store.read_bytes(k) == b"x" * 70_000 and source.exists()
    target = tmp_path / "copy.bin"
    store.download(k, target)
    assert target.read_bytes() == b"x" * 70_000
    with store.local_copy(k) as path:
        assert path.read_bytes() == b"x" * 70_000
    assert store.delete(k) is True and store.delete(k) is False and not store.exists(k)


def test_writer_makes_the_object_only_when_the_block_succeeds(store: Storage) -> None:
    k = key("out.mp4")
    with pytest.raises(RuntimeError), store.writer(k) as path:
        path.write_bytes(b"half")
        raise RuntimeError("ffmpeg crashed")
    assert not store.exists(k)
    with store.writer(k) as path:
        path.write_bytes(b"whole")
    assert store.read_bytes(k) == b"whole"


def test_delete_prefix_removes_one_folder(store: Storage) -> None:
    job = secrets.token_hex(8)
    store.write_bytes(f"ws1/jobs/{job}/a.mp4", b"a")
    store.write_bytes(f"ws1/jobs/{job}/b.jpg", b"b")
    store.write_bytes(f"ws1/jobs/{job}x/a.mp4", b"c")
    assert store.delete_prefix(f"ws1/jobs/{job}") == 2
    assert store.exists(f"ws1/jobs/{job}x/a.mp4")
    with pytest.raises(StorageKeyError):
        store.delete_prefix("..")


def test_check_proves_write_read_delete(store: Storage) -> None:
    store.check()


def test_bad_keys_are_refused_by_every_method(store: Storage) -> None:
    for bad in ["../x", "ws1/../../etc/passwd", "/etc/passwd", ".env"]:
        with pytest.raises(StorageKeyError):
            store.write_bytes(bad, b"x")
        with pytest.raises(StorageKeyError):
            store.exists(bad)
        with pytest.raises(StorageKeyError):
            store.download_url(bad, expires_in=60)


def _put_part(store: Storage, k: str, upload_id: str, number: int, data: bytes) -> str:
    url = store.part_url(k, upload_id, number, expires_in=600)
    if url is None:  # the local folder: the web app takes parts itself
        return store.write_part(k, upload_id, number, [data], max_bytes=len(data)).etag
    response = httpx.put(url, content=data, timeout=60)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def test_multipart_upload_resumes_and_joins_in_order(store: Storage) -> None:
    k = key("film.mp4")
    first, second = secrets.token_bytes(MIN_PART_BYTES), secrets.token_bytes(1234)
    upload_id = store.create_upload(k, "video/mp4")
    tag2 = _put_part(store, k, upload_id, 2, second)  # parts arrive in any order
    assert [(p.number, p.size) for p in store.list_parts(k, upload_id)] == [(2, 1234)]
    tag1 = _put_part(store, k, upload_id, 1, first)
    # A client that lost its state asks the store what arrived (resume).
    assert [(p.number, p.size) for p in store.list_parts(k, upload_id)] == [
        (1, MIN_PART_BYTES),
        (2, 1234),
    ]
    assert not store.exists(k)
    store.complete_upload(k, upload_id, [(1, tag1), (2, tag2)])
    assert store.size(k) == MIN_PART_BYTES + 1234
    with store.local_copy(k) as path:
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(first + second).digest()


def test_multipart_refuses_small_middle_parts_and_aborts_cleanly(store: Storage) -> None:
    k = key("film.mp4")
    upload_id = store.create_upload(k, "video/mp4")
    tag1 = _put_part(store, k, upload_id, 1, b"a" * 1000)
    tag2 = _put_part(store, k, upload_id, 2, b"b" * 1000)
    with pytest.raises(StorageError):
        store.complete_upload(k, upload_id, [(1, tag1), (2, tag2)])
    assert not store.exists(k)
    store.abort_upload(k, upload_id)
    store.abort_upload(k, upload_id)  # twice is fine
    with pytest.raises(StorageError):
        store.list_parts(k, upload_id)


def test_local_parts_are_capped_and_staging_is_out_of_key_space(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    k = key()
    upload_id = store.create_upload(k, "video/mp4")
    with pytest.raises(StorageError):
        store.write_part(k, upload_id, 1, [b"x" * 10, b"y" * 10], max_bytes=15)
    assert store.list_parts(k, upload_id) == []
    with pytest.raises(StorageKeyError):
        store.path_for(".uploads/" + upload_id + "/key")
    with pytest.raises(StorageError):  # another key cannot borrow the upload
        store.write_part(key(), upload_id, 1, [b"x"], max_bytes=15)
    with pytest.raises(StorageKeyError):
        store.write_part(k, "../../etc", 1, [b"x"], max_bytes=15)


def test_presigned_get_serves_ranges(tmp_path: Path, s3_endpoint: str) -> None:
    bucket = make_bucket(s3_endpoint)
    store = open_storage(f"s3://{bucket}", media_dir=tmp_path, endpoint_url=s3_endpoint)
    k = key()
    data = bytes(range(256)) * 100
    store.write_bytes(k, data)
    url = store.download_url(k, expires_in=60, mime="video/mp4")
    assert url is not None and "Signature" in url
    whole = httpx.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "video/mp4"
    part = httpx.get(url, headers={"Range": "bytes=1000-1099"})
    assert part.status_code == 206 and part.content == data[1000:1100]
    # The local folder has no URL of its own: the web app serves its files.
    assert LocalStorage(tmp_path / "m").download_url(k, expires_in=60) is None


def test_storage_urls_are_understood(tmp_path: Path) -> None:
    assert isinstance(open_storage("", media_dir=tmp_path), LocalStorage)
    assert isinstance(open_storage("file:", media_dir=tmp_path), LocalStorage)
    with pytest.raises(ValueError):
        open_storage("ftp://x", media_dir=tmp_path)
    with pytest.raises(ValueError):
        open_storage("s3://", media_dir=tmp_path)


def test_fetch_all_reads_many_and_names_the_first_missing(store: Storage, tmp_path: Path) -> None:
    keys = [key(f"{n}.mp4") for n in range(5)]
    for n, k in enumerate(keys):
        store.write_bytes(k, bytes([n]) * (n + 1))
    folder = tmp_path / "scratch"
    folder.mkdir()
    paths = store.fetch_all([*keys, keys[0]], folder)  # a repeated take is fetched once
    assert [paths[k].read_bytes() for k in keys] == [bytes([n]) * (n + 1) for n in range(5)]
    store.delete(keys[3])
    store.delete(keys[1])
    with pytest.raises(ObjectMissing) as missing:
        store.fetch_all(keys, folder)
    assert missing.value.key == keys[1]
