"""A jam film sent as the raw body is streamed to disk, never held in the web process.

Jams take films of up to 2 GiB on that endpoint; a web process that joined the
body in memory would hold the film (twice, while joining) for every team
uploading at the deadline. The server here runs in this process (a thread),
so tracemalloc sees what it allocates while the film arrives.
"""

from __future__ import annotations

import hashlib
import struct
import tracemalloc
from collections.abc import Iterator

import httpx

from studio.db.session import Database
from studio.media.models import Asset
from tests.factories import bearer
from tests.jams.helpers import film_bytes, running_jam_team

MB = 1024 * 1024
PADDING = 48 * MB  # a `free` box: players and probes skip it, the upload carries it


def padded_film() -> bytes:
    return film_bytes() + struct.pack(">I", PADDING + 8) + b"free" + bytes(PADDING)


def chunks(data: bytes, size: int = MB) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield bytes(view[start : start + size])


def test_a_large_film_streams_through_the_web_process(db: Database, http: httpx.Client) -> None:
    slug, _team, key = running_jam_team(db, film_max_bytes=100 * MB)
    film = padded_film()

    tracemalloc.start()
    try:
        response = http.post(
            f"/v1/jams/{slug}/entry/film",
            content=chunks(film),  # chunked: no Content-Length to trust
            headers={**bearer(key), "Content-Type": "video/mp4"},
            timeout=120,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 201, response.text
    assert response.json()["bytes"] == len(film)
    with db.session_scope() as session:
        asset = session.get(Asset, response.json()["asset_id"])
        assert asset is not None
        assert asset.bytes == len(film)
        assert asset.sha256 == hashlib.sha256(film).hexdigest()
    # Client and server together: a few chunks in flight, never the 48 MB film.
    assert peak < 16 * MB, f"peak {peak / MB:.0f} MB while a {len(film) / MB:.0f} MB film arrived"


def test_a_film_over_the_limit_is_refused_while_it_streams(
    db: Database, http: httpx.Client
) -> None:
    slug, team, key = running_jam_team(db, film_max_bytes=8 * MB)
    response = http.post(
        f"/v1/jams/{slug}/entry/film",
        content=chunks(padded_film()),
        headers={**bearer(key), "Content-Type": "video/mp4"},
        timeout=120,
    )
    assert response.status_code == 413, response.text
    assert "larger than 8 MB" in response.json()["message"]
    with db.session_scope() as session:
        assert session.query(Asset).filter_by(workspace_id=team.workspace_id).count() == 0
