"""The pages' uploads: owned, bounded, swept, and never a way to fetch a URL.

Gradio stores every page upload under one folder (`GRADIO_TEMP_DIR`, by
default /tmp/gradio), as `<content hash>/<file name>`, and would serve any
of them (`/gradio_api/file=<path>`) to anyone signed in who names the path.
It also fetches addresses a caller names: `/gradio_api/file=<http URL>`
streams a public URL, and a file input whose `path` is a URL is downloaded
before the handler runs. Here:

- `PageFileGuard` (ASGI, around the Gradio mount) records the owner of each
  upload as it arrives (`/gradio_api/upload`), after checking the person's
  window (count and bytes, studio/media/page_uploads.py): 411 without a
  Content-Length, 413 / 429 over the limit, and nothing is stored then. It
  serves `/gradio_api/file=` only for a file of the upload folder that the
  caller owns (404 otherwise); refuses URLs there and in any event's file
  inputs, and the Gradio routes that proxy or fetch (`/proxy=`, run history,
  MCP, recordings).
- `caller_owns` lets `ui/widgets.uploaded_file`, the check every handler
  that reads a file goes through, refuse a file someone else uploaded.
- `owned_download` writes a file a handler returns for download (a CSV
  export) into the folder, owned by the caller.
- studio/ui/upload_sweep.py removes files older than `STUDIO_UPLOAD_TTL_SECONDS`
  at start-up and then every `STUDIO_UPLOAD_SWEEP_INTERVAL_SECONDS`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import utils as gradio_utils
from gradio.context import LocalContext
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studio.auth.sessions import resolve_actor
from studio.config import Settings
from studio.db.base import utcnow
from studio.db.session import Database
from studio.errors import NotAuthenticated, StudioError
from studio.media import page_uploads
from studio.ui.actions import SIGNED_OUT, actor_from_username

log = logging.getLogger(__name__)

API = "/gradio_api"  # where mount_gradio_app puts Gradio's routes (mounted at "/")
UPLOAD_PATH = f"{API}/upload"
FILE_PREFIXES = (f"{API}/file=", f"{API}/file/")
# Gradio routes that fetch or proxy other addresses (run history talks to the
# Hugging Face hub), or take files past the upload route: no Studio page uses
# them (MCP is also off at the mount).
REFUSED_PREFIXES = (
    f"{API}/proxy=",
    f"{API}/run-history",
    f"{API}/runs",
    f"{API}/mcp",
    f"{API}/process_recording",
    f"{API}/vibe-edit",
)
# Event bodies are small JSON (files travel through the upload route); one
# bigger than this is refused before it is read whole.
MAX_EVENT_BODY = 16 * 1024 * 1024
# A scheme ("http:", "data:", "file:"), or a network path ("//host", "\\host").
LINK = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:|//|\\\\|\\/|/\\)")

NOT_YOURS = "No such file."
LINK_REFUSED = (
    "Studio does not fetch files from links or other servers: upload the file from "
    "your computer instead."
)


def names_a_link(path: str) -> bool:
    return bool(LINK.match(path))


class PageFiles:
    """The pages' upload folder, its owners and the limits (one per app)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        # Gradio's own choice (GRADIO_TEMP_DIR or <tmp>/gradio), read the way
        # its App reads it, so the strings match the paths Gradio hands out.
        self.folder = Path(gradio_utils.get_upload_folder())
        self.limits = page_uploads.UploadLimits(
            max_files=settings.upload_max_files_per_window,
            max_bytes=settings.upload_max_bytes_per_window,
            window_seconds=settings.upload_window_seconds,
        )
        self.ttl_seconds = settings.upload_ttl_seconds

    def inside(self, raw: str | os.PathLike[str]) -> Path | None:
        """The resolved file a path names, if it is a file of the upload folder."""
        try:
            path = Path(os.path.realpath(raw))
            folder = Path(os.path.realpath(self.folder))
        except (OSError, ValueError):
            return None
        if path == folder or folder not in path.parents or not path.is_file():
            return None
        return path

    def owned_by(self, user_id: int, path: Path) -> bool:
        with self.db.session_scope() as session:
            return page_uploads.is_owner(session, user_id, str(path))

    def user_for(self, username: str | None) -> int | None:
        """The person behind a Gradio request's username (user:<id> or key:<id>)."""
        try:
            with self.db.session_scope() as session:
                return actor_from_username(session, username).user_id
        except NotAuthenticated:
            return None


# Which PageFiles a running Blocks uses: handlers find it through Gradio's
# LocalContext (a test process runs several apps side by side).
_BY_BLOCKS: weakref.WeakKeyDictionary[gr.Blocks, PageFiles] = weakref.WeakKeyDictionary()


def attach(blocks: gr.Blocks, files: PageFiles) -> None:
    _BY_BLOCKS[blocks] = files


def _handler_context() -> tuple[PageFiles | None, str | None]:
    """The app's PageFiles and the caller's username, inside a Gradio event handler."""
    blocks = LocalContext.blocks.get(None)
    request = LocalContext.request.get(None)
    files = _BY_BLOCKS.get(blocks) if blocks is not None else None
    return files, getattr(request, "username", None) if request is not None else None


def caller_owns(path: Path) -> bool:
    """Inside an event handler: did the caller upload (or receive) this file?
    Outside one, or for a file without an owner, no."""
    files, username = _handler_context()
    if files is None:
        return False
    user_id = files.user_for(username)
    return user_id is not None and files.owned_by(user_id, path)


def owned_download(name: str, text: str) -> str:
    """Inside an event handler: a file for the caller to download, in the upload
    folder (so the sweep removes it) and readable by them alone. Returns its path."""
    files, username = _handler_context()
    user_id = files.user_for(username) if files is not None else None
    if files is None or user_id is None:
        raise gr.Error(SIGNED_OUT)
    folder = files.folder / secrets.token_hex(32)
    folder.mkdir(parents=True)
    path = folder / (Path(name).name or "download")
    path.write_text(text, encoding="utf-8")
    with files.db.session_scope() as session:
        page_uploads.record_output(
            session, user_id, str(path.resolve()), path.stat().st_size, now=utcnow()
        )
    return str(path)


class PageFileGuard:
    """ASGI middleware for Gradio's file routes (see the module docstring).

    Add it inside SessionMiddleware (it needs the session to know the caller)
    and inside the Origin check (a cross-site upload is refused before this).
    """

    def __init__(self, app: ASGIApp, files: PageFiles) -> None:
        self.app = app
        self.files = files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API + "/"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if path.startswith(REFUSED_PREFIXES):
            await _answer(send, 404, "not_found", "Not found.")
        elif path.rstrip("/") == UPLOAD_PATH and method == "POST":
            await self._upload(scope, receive, send)
        elif path.startswith(FILE_PREFIXES):
            prefix = next(p for p in FILE_PREFIXES if path.startswith(p))
            await self._file(scope, receive, send, path[len(prefix) :])
        elif method == "POST":
            await self._event(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _caller(self, scope: Scope) -> int | None:
        actor = await run_in_threadpool(resolve_actor, self.files.db, HTTPConnection(scope))
        return actor.user_id if actor is not None else None

    async def _file(self, scope: Scope, receive: Receive, send: Send, raw: str) -> None:
        if names_a_link(raw):
            await _answer(send, 403, "link_refused", LINK_REFUSED)
            return
        user_id = await self._caller(scope)
        if user_id is None:
            await _answer(send, 401, "unauthorized", SIGNED_OUT)
            return
        target = self.files.inside(raw)
        if target is None or not await run_in_threadpool(self.files.owned_by, user_id, target):
            await _answer(send, 404, "not_found", NOT_YOURS)
            return
        await self.app(scope, receive, send)

    async def _event(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Any other POST: a file input may name only an upload (see _file_links)."""
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_EVENT_BODY:
                await _answer(send, 413, "payload_too_large", "The request is too large.")
                return
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            data = None  # not ours to judge: Gradio answers what it cannot read
        except RecursionError:  # nested deeper than any reader here can follow
            await _answer(send, 400, "invalid_json", "The request is not JSON Studio can read.")
            return
        links = list(_file_links(data)) if data is not None else []
        if links:
            log.warning("refused %s naming %s as a file", scope["path"], links[0][:200])
            await _answer(send, 422, "link_refused", LINK_REFUSED)
            return
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        user_id = await self._caller(scope)
        if user_id is None:
            await _answer(send, 401, "unauthorized", SIGNED_OUT)
            return
        length = HTTPConnection(scope).headers.get("content-length", "")
        if not length.isdigit():
            await _answer(
                send, 411, "length_required", "Send the upload with a Content-Length header."
            )
            return
        try:
            reservation = await run_in_threadpool(self._reserve, user_id, int(length))
        except StudioError as exc:
            await _answer(send, exc.status, exc.code, exc.message, _retry_after(exc))
            return
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        try:
            await self.app(scope, receive, keep)
        except BaseException:
            await run_in_threadpool(self._release, reservation)
            raise
        status = messages[0]["status"] if messages else 500
        body = b"".join(m.get("body", b"") for m in messages[1:])
        if status != 200:
            await run_in_threadpool(self._release, reservation)
        else:
            refusal = await run_in_threadpool(self._settle, reservation, body)
            if refusal is not None:
                await _answer(
                    send, refusal.status, refusal.code, refusal.message, _retry_after(refusal)
                )
                return
        for message in messages:
            await send(message)

    def _reserve(self, user_id: int, length: int) -> int:
        with self.files.db.session_scope() as session:
            return page_uploads.reserve_upload(
                session, user_id, length, self.files.limits, now=utcnow()
            )

    def _release(self, reservation: int) -> None:
        with self.files.db.session_scope() as session:
            page_uploads.release_upload(session, reservation)

    def _settle(self, reservation: int, body: bytes) -> StudioError | None:
        """Record the stored files for their sender; on a refusal, remove them."""
        stored = [p for p in map(self.files.inside, _strings(body)) if p is not None]
        files = [(str(p), p.stat().st_size) for p in stored]
        with self.files.db.session_scope() as session:
            refusal = page_uploads.settle_upload(
                session, reservation, files, self.files.limits, now=utcnow()
            )
            keep = (
                page_uploads.paths_with_owners(session, (p for p, _ in files)) if refusal else set()
            )
        if refusal is not None:
            for path, _ in files:
                if path not in keep:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
        return refusal


def _file_links(data: Any) -> Iterator[str]:
    """What an event's JSON names as a file that is not an upload here: a `path`
    with a scheme or a network path (Gradio would download it), or a `data:`
    `url` (Gradio would write it to its folder, past the upload limits)."""
    pending = [data]
    while pending:  # a loop, not recursion: the nesting is the caller's choice
        item = pending.pop()
        if isinstance(item, dict):
            path, url = item.get("path"), item.get("url")
            if isinstance(path, str) and names_a_link(path):
                yield path
            if isinstance(url, str) and url[:5].lower() == "data:":
                yield url
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _strings(body: bytes) -> list[str]:
    try:
        data = json.loads(body)
    except ValueError:
        return []
    return [p for p in data if isinstance(p, str)] if isinstance(data, list) else []


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _retry_after(exc: StudioError) -> dict[str, str]:
    seconds = getattr(exc, "retry_after", None)
    return {"Retry-After": str(seconds)} if seconds else {}


async def _answer(
    send: Send, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps({"error": code, "message": message}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
