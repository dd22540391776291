"""Cross-site request refusal (CSRF) and the CORS allow-list.

Browsers send the session cookie with requests that another page starts, on
the same site too (a sibling subdomain, another port on the same host). So
every state-changing request outside the bearer-only /v1 API (Gradio's API
and uploads, /login, /logout, the sign-in providers) must come from Studio's
own origin, the origin of STUDIO_BASE_URL, or from an origin an admin listed
in STUDIO_CORS_ORIGINS. The browser says where a request comes from in
`Origin` (always sent on cross-origin POSTs, `null` from sandboxed frames and
data: pages, refused) or else `Referer`. A request with neither comes from a
program, not a page another site controls, and passes: cookies there are the
program's own.

CORS is that same allow-list (empty by default), set on the outer app so
that Gradio, which would otherwise answer any non-localhost Origin with
`Access-Control-Allow-Origin: <it>` and credentials, adds no CORS headers
of its own.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
# Bearer-only: a cross-site page cannot add an Authorization header without CORS.
EXEMPT_PREFIXES = ("/v1/",)


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of a URL, lowercased; None if it has none."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def trusted_origins(base_url: str, extra: list[str]) -> frozenset[str]:
    """Studio's own origin (both loopback spellings for a loopback base URL) and
    the admin's allow-list."""
    own = origin_of(base_url)
    found = {o for o in (origin_of(u) for u in extra) if o}
    if own:
        found.add(own)
        parts = urlsplit(own)
        if parts.hostname in ("127.0.0.1", "localhost", "::1"):
            port = f":{parts.port}" if parts.port else ""
            found |= {f"{parts.scheme}://{host}{port}" for host in LOOPBACK}
    return frozenset(found)


class OriginCheck:
    """Refuses state-changing requests that another site's page started."""

    def __init__(self, app: ASGIApp, trusted: frozenset[str]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._allowed(scope):
            await self._refuse(scope, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        headers = Headers(scope=scope)
        if scope["method"] in SAFE_METHODS:
            # Starting an outside sign-in is a GET link: only from our own pages.
            if path.startswith("/auth/") and path.endswith("/login"):
                return headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
            return True
        if path.startswith(EXEMPT_PREFIXES):
            return True
        origin = headers.get("origin")
        if origin is not None:
            return origin.strip().lower() in self.trusted
        referer = headers.get("referer")
        if referer is not None:
            return origin_of(referer) in self.trusted
        return True

    async def _refuse(self, scope: Scope, send: Send) -> None:
        headers = Headers(scope=scope)
        if scope["method"] in SAFE_METHODS:  # a cross-site link to a sign-in start
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [(b"location", b"/login")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        source = headers.get("origin") or origin_of(headers.get("referer", "")) or "unknown"
        body = json.dumps(
            {
                "error": "cross_origin",
                "message": f"This request came from another site ({source[:100]}), so it "
                "was refused. Studio accepts changes only from its own pages; if this is "
                "your studio's address, set STUDIO_BASE_URL (or STUDIO_CORS_ORIGINS) to it.",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"vary", b"Origin"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
