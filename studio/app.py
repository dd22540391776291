"""create_app(settings) -> FastAPI: sessions, sign-in routes, /v1, then Gradio at /."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import gradio as gr
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from studio import __version__
from studio.api.app import create_api
from studio.auth.oidc import Providers
from studio.auth.routes import build_router, login_redirect
from studio.auth.sessions import resolve_actor
from studio.config import Settings, get_settings
from studio.db.session import Database
from studio.ui.actions import username_for
from studio.ui.app import build_blocks
from studio.ui.theme import FORCE_DARK_JS, studio_theme

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
SESSION_COOKIE = "studio_session"
SESSION_MAX_AGE = 14 * 24 * 3600
# Paths anyone may open; everything else in a browser needs a session.
PUBLIC_PREFIXES = ("/login", "/logout", "/auth/", "/static/", "/v1", "/healthz")
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

    app = FastAPI(
        title="Studio", version=__version__, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.settings = settings
    app.state.db = db

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        try:
            with db.session_scope() as session:
                session.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check: database unreachable")
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ok": True, "version": __version__})

    app.include_router(build_router(settings, db, providers))
    app.mount("/v1", create_api(db))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.middleware("http")
    async def browser_login_redirect(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
        if wants_page and not path.startswith(PUBLIC_PREFIXES):
            actor = await run_in_threadpool(resolve_actor, db, request)
            if actor is None:
                return login_redirect(path)
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    # Added last, so outermost: the session exists for everything above.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.secure_cookies,
    )

    async def gradio_user(request: Request) -> str | None:
        actor = await run_in_threadpool(resolve_actor, db, request)
        return username_for(actor) if actor is not None else None

    return gr.mount_gradio_app(
        app,
        build_blocks(db),
        path="/",
        auth_dependency=gradio_user,
        ssr_mode=False,
        allowed_paths=[],
        footer_links=[],
        max_file_size="10mb",
        theme=studio_theme(),
        css_paths=[STATIC_DIR / "studio.css"],
        js=FORCE_DARK_JS,
        favicon_path=str(STATIC_DIR / "favicon.svg"),
    )
