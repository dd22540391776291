"""Sign-in, sign-out and outside-provider routes (registered before Gradio's mount)."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote, urlsplit

from authlib.integrations.base_client.errors import OAuthError
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from joserfc.errors import JoseError

from studio.accounts import identities, throttle
from studio.accounts import service as accounts
from studio.auth import pages
from studio.auth.oidc import Providers
from studio.auth.sessions import clear_session, resolve_actor, start_session
from studio.config import Settings
from studio.db.session import Database
from studio.errors import StudioError, TooManyRequests

log = logging.getLogger(__name__)


NEXT_SESSION_KEY = "next_after_sign_in"
NEXT_MAX_CHARS = 2000


def safe_next(value: str | None) -> str:
    """Only same-site paths: '/x' and '/?view=projects&shot=3' yes; '//evil.example',
    '/\\evil.example', 'https://...', and anything with a control character (browsers
    drop tabs and newlines from URLs: '/<tab>/evil.example' would become '//evil...')
    no. Anything refused becomes '/'."""
    if not value or len(value) > NEXT_MAX_CHARS or not value.startswith("/"):
        return "/"
    if value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def page_address(path: str, query: str) -> str:
    """The address a signed-out browser asked for, path and query (a deep link)."""
    return path + ("?" + query if query else "")


def build_router(settings: Settings, db: Database, providers: Providers) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    shown = list(providers.enabled.values())

    def render(status: int = 200, **kwargs: str | None) -> HTMLResponse:
        return HTMLResponse(pages.login_page(providers=shown, **kwargs), status_code=status)  # type: ignore[arg-type]

    @router.get("/login")
    def login_form(request: Request, next: str = "/", signed_out: int = 0) -> Response:
        if resolve_actor(db, request) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        notice = "You are signed out." if signed_out else None
        return render(next_path=safe_next(next), notice=notice)

    @router.post("/login")
    def login_submit(
        request: Request,
        email: Annotated[str, Form(max_length=400)] = "",
        password: Annotated[str, Form(max_length=1000)] = "",
        next: Annotated[str, Form(max_length=2000)] = "/",
    ) -> Response:
        target = safe_next(next)
        if not email.strip() or not password:
            return render(
                400, next_path=target, email=email, error="Enter your email and password."
            )
        client_ip = request.client.host if request.client else None
        keys = throttle.keys_for(email, client_ip)
        window = settings.login_window_seconds
        try:
            with db.session_scope() as session:
                throttle.check(
                    session, keys, max_failures=settings.login_max_failures, window_seconds=window
                )
                user = accounts.check_password(session, email=email, password=password)
                if user is None:
                    throttle.record_failure(session, keys, window_seconds=window)
                else:
                    throttle.clear(session, keys[:1])
                    start_session(request, user)
        except TooManyRequests as exc:
            response = render(429, next_path=target, email=email, error=exc.message)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if user is None:
            return render(401, next_path=target, email=email, error="Wrong email or password.")
        return RedirectResponse(target, status_code=303)

    @router.get("/logout")
    def logout_form() -> HTMLResponse:
        return HTMLResponse(pages.logout_page())

    @router.post("/logout")
    def logout(request: Request) -> RedirectResponse:
        actor = resolve_actor(db, request)
        if actor is not None and not actor.via_api_key:
            with db.session_scope() as session:
                user = accounts.get_user(session, actor.user_id)
                if user is not None:
                    accounts.end_sessions(session, user)
        clear_session(request)
        return RedirectResponse("/login?signed_out=1", status_code=303)

    @router.get("/auth/{key}/login")
    async def provider_login(request: Request, key: str, next: str = "/") -> Response:
        if key not in providers.enabled:
            return render(404, error="That sign-in provider is not configured.")
        # Where to land after the provider sends the browser back (a deep link).
        request.session[NEXT_SESSION_KEY] = safe_next(next)
        try:
            return await providers.redirect(request, key)
        except Exception:
            log.exception("cannot start sign-in with %s", key)
            return render(502, error="The sign-in provider cannot be reached. Try again later.")

    @router.get("/auth/{key}/callback")
    async def provider_callback(request: Request, key: str) -> Response:
        if key not in providers.enabled:
            return render(404, error="That sign-in provider is not configured.")
        label = providers.enabled[key].label
        # Read before start_session, which starts a fresh session (no fixation).
        after = safe_next(request.session.pop(NEXT_SESSION_KEY, "/"))
        try:
            identity = await providers.finish(request, key)
        except (OAuthError, JoseError, ValueError, KeyError) as exc:
            log.warning("sign-in with %s refused: %r", key, exc)
            return render(
                400, error=f"Sign-in with {label} failed or expired. Start again from this page."
            )
        try:
            with db.session_scope() as session:
                user = identities.sign_in_with_identity(
                    session,
                    issuer=identity.issuer,
                    subject=identity.subject,
                    email=identity.email,
                    email_verified=identity.email_verified,
                    display_name=identity.name,
                )
                start_session(request, user)
        except StudioError as exc:
            return render(exc.status, error=exc.message)
        return RedirectResponse(after, status_code=303)

    return router


def login_redirect(address: str) -> RedirectResponse:
    """To the sign-in page, which sends the browser back to `address` (path and query)."""
    return RedirectResponse(f"/login?next={quote(safe_next(address), safe='/')}", status_code=303)
