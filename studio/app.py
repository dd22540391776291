"""create_app(settings) -> FastAPI: sessions, sign-in routes, /v1, then Gradio at /."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path as FilePath
from typing import Annotated

import gradio as gr
from fastapi import FastAPI, Path, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studio import __version__
from studio.api import errors as api_errors
from studio.api.app import create_api
from studio.api.arrival import RecordArrival
from studio.auth.oidc import Providers
from studio.auth.origins import OriginCheck, origin_of, trusted_origins
from studio.auth.routes import build_router, login_redirect, page_address
from studio.auth.sessions import resolve_actor
from studio.config import Settings, get_settings
from studio.db.base import ID_MAX
from studio.db.session import Database
from studio.errors import StudioError
from studio.generation import farm
from studio.generation.context import build_generation
from studio.job_kinds import register_all
from studio.media import signing
from studio.media.models import Asset
from studio.media.storage import LocalStorage, StorageError
from studio.ui import addresses
from studio.ui.actions import username_for
from studio.ui.app import build_blocks
from studio.ui.live_routes import build_live_router
from studio.ui.page_assets import LeanPage, StaticAssets
from studio.ui.theme import FORCE_DARK_JS, studio_theme
from studio.ui.upload_guard import PageFileGuard, PageFiles, attach
from studio.ui.upload_sweep import UploadSweeper
from studio.uploads import service as uploads

log = logging.getLogger(__name__)

STATIC_DIR = FilePath(__file__).resolve().parents[1] / "static"
SESSION_COOKIE = "studio_session"
SESSION_MAX_AGE = 14 * 24 * 3600
# Paths anyone may open; everything else in a browser needs a session.
PUBLIC_PREFIXES = ("/login", "/logout", "/auth/", "/static/", "/v1", "/healthz", "/media/")
# The largest file the pages accept at all: a jam film at the jams' default limit.
PAGE_UPLOAD_MAX_BYTES = 2 * 1024**3
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    secret_key = settings.resolved_secret_key()  # refuses to start with a weak one
    db = Database(settings.database_url)
    providers = Providers(settings)
    register_all()  # the job kinds the in-process runner (or the workers) run
    generation = build_generation(db, settings)
    page_files = PageFiles(db, settings)
    sweeper = UploadSweeper(page_files, settings.upload_sweep_interval_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        generation.start()  # the embedded runner thread (nothing with Redis)
        sweeper.start()  # page uploads past their TTL: now, then every interval
        try:
            yield
        finally:
            await sweeper.stop()
            generation.stop()

    app = FastAPI(
        title="Studio",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.generation = generation
    api_errors.install(app, catch_all=False)  # the one error shape on /media, /login too

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        """The web process is up (200) or its database is not (503); `queues`
        and `problems` tell an operator about the job farm (still 200: the web
        serves fine without workers)."""
        try:
            with db.session_scope() as session:
                session.execute(text("SELECT 1"))
                queues = farm.queue_health(session)
        except Exception:
            log.exception("health check: database unreachable")
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse(
            {
                "ok": True,
                "version": __version__,
                "queues": {
                    q.queue: {
                        "waiting": q.waiting,
                        "throttled": q.throttled,
                        "running": q.running,
                        "workers": q.workers,
                    }
                    for q in queues
                },
                "problems": [farm.unserved_text(q) for q in queues if q.unserved],
            }
        )

    @app.get("/media/{asset_id}", include_in_schema=False)
    def media_file(
        asset_id: Annotated[int, Path(ge=1, le=ID_MAX)],
        exp: int = 0,
        sig: Annotated[str, Query(max_length=128)] = "",
    ) -> Response:
        """Signed, expiring links only: the link is the permission (made after an access check)."""
        if not signing.verify(asset_id, exp, sig, secret_key, now=time.time()):
            return JSONResponse(
                {"error": "link_expired", "message": "This media link is invalid or has expired."},
                status_code=403,
            )
        with db.session_scope() as session:
            asset = session.get(Asset, asset_id)
            key, mime = (asset.storage_key, asset.mime) if asset else (None, None)
        missing = JSONResponse({"error": "not_found", "message": "No such media."}, status_code=404)
        if key is None:
            return missing
        storage = generation.storage
        # Object storage serves the bytes itself (Range, seeking): send the browser
        # there with a presigned GET that expires with this link.
        remaining = max(1, exp - int(time.time()))
        url = storage.download_url(key, expires_in=remaining, mime=mime)
        if url is not None:
            return RedirectResponse(
                url,
                status_code=307,
                headers={"Cache-Control": f"private, max-age={min(remaining, 300)}"},
            )
        path = storage.local_path(key)
        if path is None or not path.is_file():
            return missing
        return FileResponse(
            path,
            media_type=mime,
            headers={"Cache-Control": "private, max-age=600", "Content-Disposition": "inline"},
        )

    @app.put("/uploads/{upload_id}/parts/{number}", include_in_schema=False)
    async def upload_part(
        upload_id: str, number: int, request: Request, exp: int = 0, sig: str = ""
    ) -> Response:
        """One part of a direct upload, for stores without presigned URLs (the local
        folder): the signed URL is the permission; written to disk as it arrives."""
        if not signing.verify_part(upload_id, number, exp, sig, secret_key, now=time.time()):
            return JSONResponse(
                {"error": "link_expired", "message": "This upload link is invalid or expired."},
                status_code=403,
            )

        def target() -> uploads.PartTarget:
            with db.session_scope() as session:
                return uploads.part_target(session, upload_id, number)

        try:
            where = await run_in_threadpool(target)
        except StudioError as exc:
            return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)
        storage = generation.storage
        if not isinstance(storage, LocalStorage):
            return JSONResponse(
                {"error": "use_store", "message": "Send parts to the store's own URLs."},
                status_code=409,
            )
        length = request.headers.get("content-length", "")
        too_big = JSONResponse(
            {"error": "payload_too_large", "message": "This part is larger than agreed."},
            status_code=413,
        )
        if length.isdigit() and int(length) > where.max_bytes:
            return too_big
        try:
            with storage.open_part(
                where.key, where.store_upload_id, number, max_bytes=where.max_bytes
            ) as part:
                async for chunk in request.stream():
                    part.write(chunk)
        except StorageError:
            return too_big
        return Response(status_code=200, headers={"ETag": part.result().etag})

    app.include_router(build_router(settings, db, providers))
    app.include_router(build_live_router(db, generation, secret_key))  # the pages' polls
    app.mount("/v1", create_api(db, generation, secret_key))
    # Ours first, then Gradio's own /static (its page loads a script from there).
    app.mount("/static", StaticAssets(STATIC_DIR), name="static")

    app.add_middleware(BrowserGate, db=db)

    # Cache headers for Gradio's hashed build files; a leaner page HTML.
    app.add_middleware(LeanPage)

    # Gradio's file routes: uploads owned and bounded per person, files served
    # to their owner only, no URL ever fetched (inside the session and the
    # Origin check below, which are added after it and so run before it).
    app.add_middleware(PageFileGuard, files=page_files)

    # Cross-site requests: refused unless from our own origin or the allow-list;
    # CORS is the same explicit list (Gradio then adds no CORS headers of its own).
    trusted = trusted_origins(settings.base_url, settings.cors_origins)
    app.add_middleware(OriginCheck, trusted=trusted)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=sorted({o for o in map(origin_of, settings.cors_origins) if o}),
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "If-Match",
            "X-Runway-Version",
        ],
    )

    # Added last, so outermost: the session exists for everything above.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    # Outermost of all: the moment a request arrived, before any queue or lock,
    # dates jam entries (api/arrival.py).
    app.add_middleware(RecordArrival)

    async def gradio_user(request: Request) -> str | None:
        actor = await run_in_threadpool(resolve_actor, db, request)
        return username_for(actor) if actor is not None else None

    blocks = build_blocks(db, generation, secret_key)
    attach(blocks, page_files)
    sweeper.blocks = blocks
    mounted = gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        auth_dependency=gradio_user,
        ssr_mode=False,
        allowed_paths=[],
        footer_links=[],
        # Gradio features that fetch other servers or add routes no page uses.
        # (Run history stays on: it lives in the browser, and its server routes,
        # which would talk to the Hugging Face hub, are refused by PageFileGuard.
        # run_history=False also broke the shot list's row clicks in Gradio 6.31.)
        mcp_server=False,
        enable_monitoring=False,
        pwa=False,
        # Gradio streams uploads to disk; each handler then applies its own
        # limit (references and clips: max_upload_bytes; jam films: the jam's).
        max_file_size=max(settings.max_upload_bytes, PAGE_UPLOAD_MAX_BYTES),
        theme=studio_theme(),
        css_paths=[STATIC_DIR / "studio.css"],
        js=FORCE_DARK_JS,
        head='<script src="/static/studio.js" defer></script>'
        '<script src="/static/upload.js" defer></script>',
        favicon_path=str(STATIC_DIR / "favicon.svg"),
    )
    # Gradio refuses file inputs that name a path it did not receive as an
    # upload only once `has_launched` is set, which launch() does and
    # mount_gradio_app does not. Without it, any signed-in caller could have
    # a handler read a file off this server by writing its path into a
    # FileData. (Gradio's own reload mode sets the flag the same way.)
    blocks.has_launched = True
    return mounted


class BrowserGate:
    """Pages need a signed-in person (else the sign-in page, keeping the address);
    addresses of the older one-page form move to their page's path; every answer
    from the app carries the security headers. Plain ASGI: a BaseHTTPMiddleware
    would wrap every answer, event streams included, in tasks and queues of its
    own, on every request (the pages' 2 s polls among them)."""

    def __init__(self, app: ASGIApp, db: Database) -> None:
        self.app = app
        self.db = db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        path = request.url.path
        is_get = request.method == "GET"
        wants_page = is_get and "text/html" in request.headers.get("accept", "")
        if wants_page and not path.startswith(PUBLIC_PREFIXES):
            actor = await run_in_threadpool(resolve_actor, self.db, request)
            if actor is None:
                await login_redirect(page_address(path, request.url.query))(scope, receive, send)
                return
        if path == "/" and is_get:
            # Addresses of the older one-page form (`/?view=jams&jam=x`, and `?page=`,
            # which Gradio would read as one of its page names: an unknown one is a
            # 500) move to the page's own path (ui/addresses.py).
            moved = addresses.moved_address(path, request.url.query)
            if moved is not None:
                await RedirectResponse(moved, status_code=303)(scope, receive, send)
                return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
