"""What a browser fetches to paint the page: static files, caching, a lean first HTML.

- `/static` is ours (logo, CSS, scripts) and Gradio's too: its page asks for
  `/static/js/iframeResizer.contentWindow.min.js`, which our mount used to
  shadow (a 404 on every load). `StaticAssets` serves our folder first, then
  Gradio's own static folder.
- Caching: our files for an hour, then revalidated by ETag (their names carry
  no hash); Gradio's `/assets/` build files carry a content hash in their
  names, so they are cached for good.
- The page's inline API description: Gradio writes the whole API description
  of every named event into the HTML (about half of it). The page's own
  client calls events by number and reads nothing from it for plain values,
  so the page gets an empty one; programs still read the full one from
  `/gradio_api/info`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studio.ui import addresses

# The pages' own addresses (ui/app.py serves one Gradio page at each).
PAGE_PATHS = frozenset(addresses.PAGE_PATHS.values())
STATIC_MAX_AGE = 3600
HASHED_ASSETS = "public, max-age=31536000, immutable"
API_INFO_START = b"window.gradio_api_info = "
API_INFO_END = b";</script>"
EMPTY_API_INFO = b'{"named_endpoints": {}, "unnamed_endpoints": {}}'


class StaticAssets(StaticFiles):
    """Our static folder, then Gradio's; cached for an hour, then revalidated."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, packages=[("gradio", "templates/frontend/static")])

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}"
        return response


class LeanPage:
    """ASGI middleware: immutable caching for Gradio's hashed `/assets/`, and the
    pages' HTML (`GET /`, `/projects`, ...) without Gradio's inline API description."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith("/assets/"):
            await self.app(scope, receive, _with_header(send, "Cache-Control", HASHED_ASSETS))
        elif path in PAGE_PATHS and scope["method"] == "GET":
            await self.app(scope, receive, _PageRewrite(send))
        else:
            await self.app(scope, receive, send)


def _with_header(send: Send, name: str, value: str) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            MutableHeaders(scope=message)[name] = value
        await send(message)

    return sending


class _PageRewrite:
    """Holds the page's HTML response, swaps the inline API description, sends it."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None
        self.body: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            if message["status"] != 200 or not headers.get("content-type", "").startswith(
                "text/html"
            ):
                self.start = None  # not the page: passed through untouched
                await self.send(message)
                return
            self.start = message
            return
        if self.start is None or message["type"] != "http.response.body":
            await self.send(message)
            return
        self.body.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        html = lean_html(b"".join(self.body))
        headers = MutableHeaders(scope=self.start)
        headers["Content-Length"] = str(len(html))
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": html, "more_body": False})


def lean_html(html: bytes) -> bytes:
    start = html.find(API_INFO_START)
    if start < 0:
        return html
    start += len(API_INFO_START)
    end = html.find(API_INFO_END, start)
    if end < 0:
        return html
    return html[:start] + EMPTY_API_INFO + html[end:]
