"""Outside identity providers through authlib: any OIDC provider, GitHub as a preset.

Every provider uses state and PKCE (S256); OIDC providers also get a nonce
that authlib checks against the id_token. State lives in the signed session
cookie and is cleared when used, so a replayed callback finds no state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.integrations.starlette_client import OAuth
from starlette.requests import Request

from studio.config import Settings

GITHUB_ISSUER = "https://github.com"


@dataclass(frozen=True)
class Provider:
    key: str  # used in URLs: /auth/<key>/login
    label: str


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class Providers:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.oauth = OAuth()
        self.enabled: dict[str, Provider] = {}
        if settings.oidc_discovery_url and settings.oidc_client_id:
            self.oauth.register(
                name="oidc",
                server_metadata_url=settings.oidc_discovery_url,
                client_id=settings.oidc_client_id,
                client_secret=settings.oidc_client_secret.get_secret_value() or None,
                client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
            )
            self.enabled["oidc"] = Provider("oidc", settings.oidc_name or "single sign-on")
        if settings.github_client_id:
            self.oauth.register(
                name="github",
                client_id=settings.github_client_id,
                client_secret=settings.github_client_secret.get_secret_value() or None,
                authorize_url=settings.github_authorize_url,
                access_token_url=settings.github_token_url,
                api_base_url=settings.github_api_url.rstrip("/") + "/",
                client_kwargs={"scope": "read:user user:email", "code_challenge_method": "S256"},
            )
            self.enabled["github"] = Provider("github", "GitHub")

    def callback_url(self, key: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/auth/{key}/callback"

    async def redirect(self, request: Request, key: str) -> Any:
        client = self.oauth.create_client(key)
        return await client.authorize_redirect(request, self.callback_url(key))

    async def finish(self, request: Request, key: str) -> Identity:
        """Exchange the code and return who signed in. Raises authlib/joserfc errors."""
        client = self.oauth.create_client(key)
        token = await client.authorize_access_token(request)
        if key == "github":
            return await _github_identity(client, token)
        claims = dict(token.get("userinfo") or {})  # the id_token's checked claims
        if not claims:
            raise ValueError("the provider returned no id_token")
        if not claims.get("email") or not (claims.get("name") or claims.get("preferred_username")):
            claims = await _with_userinfo(client, token, claims)
        return Identity(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            email=claims.get("email"),
            email_verified=bool(claims.get("email_verified", False)),
            name=claims.get("name") or claims.get("preferred_username"),
        )


async def _with_userinfo(
    client: Any, token: dict[str, Any], claims: dict[str, Any]
) -> dict[str, Any]:
    """OIDC Core 5.4: with response_type=code a provider may put email and name only
    in the UserInfo response. Read it, and take it only for the same subject (5.3.2:
    the sub must match the id_token's, or the response is not about this person)."""
    info = await client.userinfo(token=token)
    if str(info.get("sub")) != str(claims["sub"]):
        raise ValueError("the UserInfo response is about another subject than the id_token")
    merged = dict(claims)
    for name in ("email", "email_verified", "name", "preferred_username"):
        if merged.get(name) in (None, "") and info.get(name) not in (None, ""):
            merged[name] = info[name]
    return merged


async def _github_identity(client: Any, token: dict[str, Any]) -> Identity:
    profile = (await client.get("user", token=token)).json()
    email, verified = profile.get("email"), False
    response = await client.get("user/emails", token=token)
    if response.status_code == 200:
        for entry in response.json():
            if entry.get("primary"):
                email, verified = entry.get("email"), bool(entry.get("verified"))
    return Identity(
        issuer=GITHUB_ISSUER,
        subject=str(profile["id"]),
        email=email,
        email_verified=verified,
        name=profile.get("name") or profile.get("login"),
    )
