"""Reading raw upload bodies without trusting the client about their size or kind.

Content-Type is checked first: a body declared as something this endpoint
does not take (JSON, a form, another kind of file) is refused with 415; no
Content-Type, or application/octet-stream, leaves it to the file checks.
Content-Length is checked next (cheap refusal), but a chunked body has
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


class UnsupportedMediaType(StudioError):
    status = 415
    code = "unsupported_media_type"


def check_content_type(request: Request, accept: tuple[str, ...], what: str) -> None:
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not declared or declared == "application/octet-stream":
        return
    if declared in accept or any(a.endswith("/*") and declared.startswith(a[:-1]) for a in accept):
        return
    raise UnsupportedMediaType(
        f"{what} was sent as {declared}; send the file itself as the body, with "
        f"Content-Type {', '.join(accept)} or application/octet-stream."
    )


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):.0f} MB"


async def read_body(
    request: Request, limit: int, what: str = "The upload", *, accept: tuple[str, ...] = ()
) -> bytes:
    if accept:
        check_content_type(request, accept, what)
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
