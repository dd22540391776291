"""A direct-upload client, as an API user would write one: start, PUT the parts
(in parallel) to the URLs the server hands out, complete, wait for the check."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx


def start(http: httpx.Client, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = http.post("/v1/uploads", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


def put_parts(
    http: httpx.Client,
    auth: dict[str, str],
    upload: dict[str, Any],
    data: bytes,
    numbers: list[int] | None = None,
    workers: int = 4,
) -> list[tuple[int, str]]:
    size = upload["part_size"]
    numbers = numbers or list(range(1, upload["part_count"] + 1))
    urls = http.post(
        f"/v1/uploads/{upload['id']}/parts", json={"numbers": numbers}, headers=auth
    ).json()["urls"]

    def put(number: int) -> tuple[int, str]:
        chunk = data[(number - 1) * size : number * size]
        response = httpx.put(urls[str(number)], content=chunk, timeout=120)
        assert response.status_code == 200, response.text
        return number, response.headers["etag"]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(put, numbers))


def complete(
    http: httpx.Client, auth: dict[str, str], upload_id: str, **body: Any
) -> httpx.Response:
    return http.post(f"/v1/uploads/{upload_id}/complete", json=body, headers=auth, timeout=120)


def wait_checked(
    http: httpx.Client, auth: dict[str, str], upload_id: str, timeout: float = 90
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        state: dict[str, Any] = http.get(f"/v1/uploads/{upload_id}", headers=auth).json()
        if state["status"] not in ("uploading", "checking"):
            return state
        assert time.monotonic() < deadline, f"upload still {state['status']}"
        time.sleep(0.2)


def upload(http: httpx.Client, auth: dict[str, str], data: bytes, **body: Any) -> dict[str, Any]:
    """The whole flow; the upload's final state."""
    entry = body.pop("entry", None)
    made = start(http, auth, size=len(data), **body)
    parts = put_parts(http, auth, made, data)
    extra: dict[str, Any] = {"parts": [{"number": n, "etag": e} for n, e in sorted(parts)]}
    if entry is not None:
        extra["entry"] = entry
    response = complete(http, auth, made["id"], **extra)
    assert response.status_code == 200, response.text
    return wait_checked(http, auth, made["id"])
