"""Reading raw upload bodies without trusting the client about their size.

Content-Length is checked first (cheap refusal), but a chunked body has
none, so the stream is counted as it arrives and refused the moment it
passes the limit: a request never makes the server hold more than `limit`
bytes.
"""

from __future__ import annotations

from fastapi import Request

from studio.errors import InvalidInput, StudioError


class PayloadTooLarge(StudioError):
    status = 413
    code = "payload_too_large"


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):.0f} MB"


async def read_body(request: Request, limit: int, what: str = "The upload") -> bytes:
    message = f"{what} is larger than {_megabytes(limit)}."
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(message)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(message)
        chunks.append(chunk)
    if size == 0:
        raise InvalidInput(
            f"{what} is empty: send the file as the request body.", code="empty_upload"
        )
    return b"".join(chunks)
