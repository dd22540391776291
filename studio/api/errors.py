"""Every API error has one shape: {"error": "<code>", "message": "<text>"}."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from studio.errors import StudioError, TooManyRequests

log = logging.getLogger(__name__)

_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def _in_path(errors: list[dict[str, object]]) -> bool:
    """A malformed or out-of-range id in the path names nothing that exists."""
    return any(
        isinstance(e.get("loc"), (list, tuple)) and e["loc"][0] == "path"  # type: ignore[index]
        for e in errors
    )


def allowed_methods(app: FastAPI, path: str, *, besides: str | None = None) -> list[str]:
    """Every method the API documents at this path (Starlette names only the first
    route's); `besides` leaves out the route template whose parameters did not fit."""
    methods: set[str] = set()
    for template, operations in app.openapi().get("paths", {}).items():
        if template == besides:
            continue
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods |= {m.upper() for m in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _describe(errors: list[dict[str, object]]) -> tuple[str, str]:
    """Turn pydantic's error list into one sentence a person can act on."""
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return "invalid_json", "The request body is not valid JSON."
    parts = []
    for err in errors[:5]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]  # type: ignore[attr-defined]
        where = ".".join(loc) or "body"
        if err.get("type") == "missing":
            parts.append(f"'{where}' is required")
        elif err.get("type") == "extra_forbidden":
            parts.append(f"'{where}' is not a known field")
        else:
            parts.append(f"'{where}': {err.get('msg')}")
    return "invalid_input", "; ".join(parts) + "."


def install(app: FastAPI, *, catch_all: bool = True) -> None:
    """The error shape for `app`. catch_all=False leaves unexpected errors to the
    server (for the outer app, whose mounted sub-apps handle their own)."""

    @app.exception_handler(StudioError)
    async def studio_error(_: Request, exc: StudioError) -> JSONResponse:
        response = error_response(exc.status, exc.code, exc.message)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        code, message = _describe(errors)
        if _in_path(errors):
            # /takes/compare is not take "compare": if another route serves this
            # path (with other methods), the method is what is wrong.
            route = request.scope.get("route")
            path = request.url.path.removeprefix(request.scope.get("root_path", ""))
            others = allowed_methods(app, path, besides=getattr(route, "path", None))
            if others:
                return error_response(
                    405,
                    "method_not_allowed",
                    f"{request.method} is not allowed here; use {' or '.join(others)}.",
                    {"Allow": ", ".join(others)},
                )
            return error_response(404, "not_found", f"There is nothing at this address: {message}")
        return error_response(400 if code == "invalid_json" else 422, code, message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and message == "Not Found":
            message = "There is nothing at this address."
        if exc.status_code == 405:
            allow = allowed_methods(
                app, request.url.path.removeprefix(request.scope.get("root_path", ""))
            )
            headers["Allow"] = ", ".join(allow)
            message = f"{request.method} is not allowed here; use {' or '.join(allow)}."
        return error_response(exc.status_code, code, message, headers)

    if not catch_all:
        return

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        reference = uuid.uuid4().hex[:12]
        log.exception("unexpected API error (reference %s)", reference, exc_info=exc)
        return error_response(
            500, "internal_error", f"Something went wrong on our side (reference {reference})."
        )
