"""A small but real OpenID Connect provider for tests, served by uvicorn on loopback.

It speaks the authorization-code flow the way a real provider does: discovery,
an auto-approving /authorize, a strict /token (client credentials, single-use
codes, redirect_uri, PKCE S256) that returns an RS256-signed id_token, and
/jwks. Tests choose the identity it vouches for and can make it put a wrong
nonce in the id_token; it records what clients sent so tests can assert that
PKCE and the nonce were really used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class FakeIdentity:
    sub: str
    email: str | None
    email_verified: bool = True
    name: str | None = "Test Person"


@dataclass
class AuthorizeRequest:
    """One /authorize call, as the provider saw it."""

    client_id: str | None
    redirect_uri: str | None
    response_type: str | None
    scope: str | None
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    code: str | None = None  # the code issued for it, if any


@dataclass
class TokenRequest:
    """One /token call and how it ended ("ok" or the OAuth error code)."""

    code: str | None
    client_auth: str | None  # "client_secret_basic", "client_secret_post" or None
    had_code_verifier: bool
    outcome: str = ""


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    identity: FakeIdentity
    used: bool = False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _error(code: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse(
        {"error": code, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


@dataclass
class FakeOIDCProvider:
    client_id: str = field(default_factory=lambda: "studio-" + secrets.token_hex(4))
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    # Knobs tests turn; reset() puts them back.
    identity: FakeIdentity = field(default_factory=lambda: FakeIdentity("nobody", None))
    wrong_nonce: bool = False
    # False: email, email_verified and name only in UserInfo (OIDC Core 5.4, what
    # node oidc-provider does at its defaults); userinfo_sub: answer about another sub.
    claims_in_id_token: bool = True
    userinfo_sub: str | None = None
    userinfo_calls: int = 0
    # What the provider saw.
    authorize_requests: list[AuthorizeRequest] = field(default_factory=list)
    token_requests: list[TokenRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.port = _free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.discovery_url = f"{self.issuer}/.well-known/openid-configuration"
        self.key = RSAKey.generate_key(
            2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"}
        )
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/authorize", self._authorize),
                Route("/token", self._token, methods=["POST"]),
                Route("/jwks", self._jwks),
                Route("/userinfo", self._userinfo),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FakeOIDCProvider:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake OIDC provider did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def reset(self, identity: FakeIdentity | None = None) -> None:
        self.identity = identity or FakeIdentity("nobody", None)
        self.wrong_nonce = False
        self.claims_in_id_token = True
        self.userinfo_sub = None
        self.userinfo_calls = 0
        self.authorize_requests.clear()
        self.token_requests.clear()

    # -- endpoints -----------------------------------------------------------

    async def _discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "scopes_supported": ["openid", "email", "profile"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "grant_types_supported": ["authorization_code"],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        seen = AuthorizeRequest(
            client_id=q.get("client_id"),
            redirect_uri=q.get("redirect_uri"),
            response_type=q.get("response_type"),
            scope=q.get("scope"),
            state=q.get("state"),
            nonce=q.get("nonce"),
            code_challenge=q.get("code_challenge"),
            code_challenge_method=q.get("code_challenge_method"),
        )
        self.authorize_requests.append(seen)
        if seen.client_id != self.client_id or not seen.redirect_uri:
            # Never redirect to an unverified redirect_uri.
            return _error("invalid_request", "unknown client or no redirect_uri")
        if seen.response_type != "code" or "openid" not in (seen.scope or "").split():
            return _error("invalid_request", "only the openid code flow is supported")
        code = secrets.token_urlsafe(24)
        seen.code = code
        with self._lock:
            self._grants[code] = _Grant(
                client_id=seen.client_id,
                redirect_uri=seen.redirect_uri,
                nonce=seen.nonce,
                code_challenge=seen.code_challenge,
                code_challenge_method=seen.code_challenge_method,
                identity=self.identity,
            )
        params = {"code": code}
        if seen.state is not None:
            params["state"] = seen.state
        return RedirectResponse(f"{seen.redirect_uri}?{urlencode(params)}", status_code=302)

    def _client_credentials(
        self, request: Request, form: Any
    ) -> tuple[str | None, str | None, str | None]:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic" and value:
            try:
                raw = base64.b64decode(value).decode()
            except ValueError:
                return None, None, None
            client_id, _, secret = raw.partition(":")
            return unquote(client_id), unquote(secret), "client_secret_basic"
        if form.get("client_secret") is not None:
            return form.get("client_id"), form.get("client_secret"), "client_secret_post"
        return form.get("client_id"), None, None

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        client_id, secret, method = self._client_credentials(request, form)
        code = form.get("code")
        verifier = form.get("code_verifier")
        seen = TokenRequest(
            code=str(code) if code else None,
            client_auth=method,
            had_code_verifier=bool(verifier),
        )
        self.token_requests.append(seen)

        def fail(error: str, description: str, status: int = 400) -> Response:
            seen.outcome = error
            return _error(error, description, status)

        if client_id != self.client_id or not hmac.compare_digest(
            str(secret or ""), self.client_secret
        ):
            return fail("invalid_client", "client authentication failed", 401)
        if form.get("grant_type") != "authorization_code":
            return fail("unsupported_grant_type", "only authorization_code")
        with self._lock:
            grant = self._grants.get(str(code or ""))
            if grant is None or grant.used:
                return fail("invalid_grant", "unknown or already used code")
            # Single use: burnt by the first attempt, whether or not it succeeds.
            grant.used = True
        if grant.client_id != client_id:
            return fail("invalid_grant", "code issued to another client")
        if form.get("redirect_uri") != grant.redirect_uri:
            return fail("invalid_grant", "redirect_uri does not match")
        if grant.code_challenge is not None:
            if grant.code_challenge_method != "S256":
                return fail("invalid_grant", "only S256 code challenges")
            if not verifier or not hmac.compare_digest(_s256(str(verifier)), grant.code_challenge):
                return fail("invalid_grant", "PKCE verification failed")
        elif verifier:
            return fail("invalid_grant", "code_verifier without a code_challenge")

        now = int(time.time())
        who = grant.identity
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": who.sub,
            "aud": client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "email_verified": who.email_verified,
        }
        if who.email is not None and self.claims_in_id_token:
            claims["email"] = who.email
        if who.name is not None and self.claims_in_id_token:
            claims["name"] = who.name
        if not self.claims_in_id_token:  # like node oidc-provider: only in UserInfo
            claims.pop("email_verified")
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        if self.wrong_nonce:
            claims["nonce"] = "not-the-nonce-" + secrets.token_hex(8)
        header = {"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}
        id_token = jwt.encode(header, claims, self.key)
        seen.outcome = "ok"
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "openid email profile",
                "id_token": id_token,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def _userinfo(self, request: Request) -> Response:
        who = self.identity
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return _error("invalid_token", "no access token", 401)
        self.userinfo_calls += 1
        return JSONResponse(
            {
                "sub": self.userinfo_sub or who.sub,
                "email": who.email,
                "email_verified": who.email_verified,
                "name": who.name,
            }
        )
