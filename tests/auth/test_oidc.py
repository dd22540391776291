"""Sign-in through OpenID Connect, end to end, against a real provider on loopback.

The studio runs under uvicorn; so does a fake OpenID provider (tests/auth/fake_oidc.py).
An httpx client plays the browser and follows each redirect by hand.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import itsdangerous
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from studio.accounts.models import OAuthIdentity, User
from studio.config import Settings
from studio.db.session import Database
from tests.auth.fake_oidc import FakeIdentity, FakeOIDCProvider
from tests.conftest import LiveServer, start_server
from tests.factories import make_user

SESSION_COOKIE = "studio_session"
FAILED = "Sign-in with Test SSO failed or expired"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOIDCProvider]:
    fake = FakeOIDCProvider().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def studio(settings: Settings, provider: FakeOIDCProvider) -> Iterator[LiveServer]:
    server = start_server(
        settings.model_copy(
            update={
                "oidc_discovery_url": provider.discovery_url,
                "oidc_client_id": provider.client_id,
                "oidc_client_secret": SecretStr(provider.client_secret),
                "oidc_name": "Test SSO",
            }
        )
    )
    yield server
    server.stop()


@pytest.fixture
def person(provider: FakeOIDCProvider) -> FakeIdentity:
    """A fresh identity at the provider for this test (the DB is shared)."""
    tag = secrets.token_hex(6)
    identity = FakeIdentity(sub=f"sub-{tag}", email=f"sso-{tag}@corp.example", name=f"SSO {tag}")
    provider.reset(identity)
    return identity


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30, follow_redirects=False) as client:
        yield client


@dataclass
class Flow:
    authorize_url: str
    callback_url: str
    cookies_before_callback: httpx.Cookies
    callback: httpx.Response


def go_to_provider(browser: httpx.Client, studio: LiveServer, provider: FakeOIDCProvider) -> str:
    start = browser.get(f"{studio.url}/auth/oidc/login")
    assert start.status_code == 302, start.text
    location = start.headers["location"]
    assert location.startswith(f"{provider.issuer}/authorize?"), location
    return location


def approve(browser: httpx.Client, authorize_url: str, studio: LiveServer) -> str:
    answer = browser.get(authorize_url)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(f"{studio.url}/auth/oidc/callback?"), location
    return location


def sign_in(browser: httpx.Client, studio: LiveServer, provider: FakeOIDCProvider) -> Flow:
    """The whole browser round trip; returns the callback's response unjudged."""
    authorize_url = go_to_provider(browser, studio, provider)
    callback_url = approve(browser, authorize_url, studio)
    before = httpx.Cookies(browser.cookies)
    return Flow(authorize_url, callback_url, before, browser.get(callback_url))


def session_data(client: httpx.Client, studio: LiveServer) -> dict[str, object]:
    """The studio's signed session cookie, verified with the server's key and decoded."""
    cookie = client.cookies.get(SESSION_COOKIE)
    if not cookie:
        return {}
    signer = itsdangerous.TimestampSigner(studio.settings.resolved_secret_key())
    payload = signer.unsign(cookie.encode())
    data: dict[str, object] = json.loads(base64.b64decode(payload))
    return data


def assert_signed_in(client: httpx.Client, studio: LiveServer, user_id: int) -> None:
    assert session_data(client, studio).get("uid") == user_id
    page = client.get(f"{studio.url}/", headers={"Accept": "text/html"})
    assert page.status_code == 200, (page.status_code, page.headers.get("location"))


def assert_signed_out(client: httpx.Client, studio: LiveServer) -> None:
    assert "uid" not in session_data(client, studio)
    page = client.get(f"{studio.url}/", headers={"Accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")


def user_id_for(db: Database, issuer: str, subject: str) -> int | None:
    with db.session_scope() as session:
        return session.scalar(
            select(OAuthIdentity.user_id).where(
                OAuthIdentity.issuer == issuer, OAuthIdentity.subject == subject
            )
        )


def count_users(db: Database, email: str) -> int:
    with db.session_scope() as session:
        return session.scalar(select(func.count()).select_from(User).where(User.email == email))  # type: ignore[return-value]


def count_identities(db: Database, issuer: str, subject: str) -> int:
    with db.session_scope() as session:
        return session.scalar(  # type: ignore[return-value]
            select(func.count())
            .select_from(OAuthIdentity)
            .where(OAuthIdentity.issuer == issuer, OAuthIdentity.subject == subject)
        )


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def assert_refused(response: httpx.Response, status: int = 400, text: str = FAILED) -> None:
    assert response.status_code == status, response.text
    assert text in response.text


# -- tests ---------------------------------------------------------------------


def test_login_page_offers_the_provider(studio: LiveServer) -> None:
    page = httpx.get(f"{studio.url}/login", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert 'href="/auth/oidc/login"' in page.text
    assert "Sign in with Test SSO" in page.text


def test_first_login_creates_the_user_and_the_next_one_finds_them(
    db: Database,
    studio: LiveServer,
    provider: FakeOIDCProvider,
    person: FakeIdentity,
    browser: httpx.Client,
) -> None:
    assert person.email is not None
    assert count_users(db, person.email) == 0

    flow = sign_in(browser, studio, provider)
    assert flow.callback.status_code == 303, flow.callback.text
    assert flow.callback.headers["location"] == "/"
    user_id = user_id_for(db, provider.issuer, person.sub)
    assert user_id is not None
    with db.session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        assert (user.email, user.display_name) == (person.email, person.name)
        assert user.password_hash is None
        assert user.last_login_at is not None
    assert_signed_in(browser, studio, user_id)

    # Later, from another browser: same subject, even with a changed email at the
    # provider, is the same studio user; nothing is duplicated.
    old_email = person.email
    provider.identity = FakeIdentity(person.sub, f"renamed-{secrets.token_hex(4)}@corp.example")
    with httpx.Client(timeout=30, follow_redirects=False) as other:
        again = sign_in(other, studio, provider)
        assert again.callback.status_code == 303, again.callback.text
        assert_signed_in(other, studio, user_id)
    assert user_id_for(db, provider.issuer, person.sub) == user_id
    assert count_identities(db, provider.issuer, person.sub) == 1
    assert count_users(db, old_email) == 1
    assert count_users(db, provider.identity.email or "") == 0


def test_pkce_s256_and_nonce_are_sent_and_checked(
    studio: LiveServer, provider: FakeOIDCProvider, person: FakeIdentity, browser: httpx.Client
) -> None:
    flow = sign_in(browser, studio, provider)
    assert flow.callback.status_code == 303, flow.callback.text

    [seen] = provider.authorize_requests
    assert seen.client_id == provider.client_id
    assert seen.redirect_uri == f"{studio.url}/auth/oidc/callback"
    assert seen.code_challenge_method == "S256"
    assert seen.code_challenge and len(seen.code_challenge) >= 43
    assert seen.nonce and len(seen.nonce) >= 16
    assert seen.state and len(seen.state) >= 16
    assert "openid" in (seen.scope or "").split()
    # The authorize URL the browser carried says the same: it is not the fake's guess.
    sent = parse_qs(urlsplit(flow.authorize_url).query)
    assert sent["code_challenge_method"] == ["S256"]
    assert sent["nonce"] == [seen.nonce]

    [exchange] = provider.token_requests
    assert exchange.code == seen.code
    assert exchange.had_code_verifier  # and the fake checked it against the challenge
    assert exchange.client_auth in {"client_secret_basic", "client_secret_post"}
    assert exchange.outcome == "ok"


def test_tampered_state_is_refused_before_the_code_is_spent(
    db: Database,
    studio: LiveServer,
    provider: FakeOIDCProvider,
    person: FakeIdentity,
    browser: httpx.Client,
) -> None:
    authorize_url = go_to_provider(browser, studio, provider)
    callback_url = approve(browser, authorize_url, studio)
    forged = with_query(callback_url, state=secrets.token_urlsafe(20))

    assert_refused(browser.get(forged))
    assert provider.token_requests == []  # refused before any token exchange
    assert_signed_out(browser, studio)
    assert user_id_for(db, provider.issuer, person.sub) is None
    assert count_users(db, person.email or "") == 0


def test_missing_state_is_refused(
    db: Database,
    studio: LiveServer,
    provider: FakeOIDCProvider,
    person: FakeIdentity,
    browser: httpx.Client,
) -> None:
    callback_url = approve(browser, go_to_provider(browser, studio, provider), studio)
    code = parse_qs(urlsplit(callback_url).query)["code"][0]
    assert_refused(browser.get(f"{studio.url}/auth/oidc/callback?{urlencode({'code': code})}"))
    assert_signed_out(browser, studio)
    assert count_users(db, person.email or "") == 0


def test_wrong_nonce_in_the_id_token_is_refused(
    db: Database,
    studio: LiveServer,
    provider: FakeOIDCProvider,
    person: FakeIdentity,
    browser: httpx.Client,
) -> None:
    provider.wrong_nonce = True
    flow = sign_in(browser, studio, provider)

    assert_refused(flow.callback)
    assert [t.outcome for t in provider.token_requests] == ["ok"]  # the token itself was fine
    assert_signed_out(browser, studio)
    assert user_id_for(db, provider.issuer, person.sub) is None
    assert count_users(db, person.email or "") == 0


def test_replayed_callback_is_refused(
    db: Database,
    studio: LiveServer,
    provider: FakeOIDCProvider,
    person: FakeIdentity,
    browser: httpx.Client,
) -> None:
    flow = sign_in(browser, studio, provider)
    assert flow.callback.status_code == 303, flow.callback.text
    user_id = user_id_for(db, provider.issuer, person.sub)
    assert user_id is not None

    # Same browser, same callback URL: its state was used up with the sign-in.
    assert_refused(browser.get(flow.callback_url))
    assert len(provider.token_requests) == 1  # refused before a second exchange

    # A copy of the cookie from before the callback still holds the state, so
    # the studio tries the code again, and the provider refuses the spent code.
    with httpx.Client(
        timeout=30, follow_redirects=False, cookies=flow.cookies_before_callback
    ) as thief:
        assert "uid" not in session_data(thief, studio)
        assert_refused(thief.get(flow.callback_url))
        assert [t.outcome for t in provider.token_requests] == ["ok", "invalid_grant"]
        assert_signed_out(thief, studio)
    assert count_identities(db, provider.issuer, person.sub) == 1


def test_existing_email_is_linked_only_when_the_provider_verified_it(
    db: Database,
    studio: LiveServer,
    provider: FakeOIDCProvider,
    person: FakeIdentity,
    browser: httpx.Client,
) -> None:
    local = make_user(db, "local")
    provider.identity = FakeIdentity(person.sub, local.email, email_verified=False)

    flow = sign_in(browser, studio, provider)
    assert_refused(flow.callback, 409, f"An account with {local.email} exists already")
    assert_signed_out(browser, studio)
    assert user_id_for(db, provider.issuer, person.sub) is None
    assert count_users(db, local.email) == 1

    provider.identity = FakeIdentity(person.sub, local.email, email_verified=True)
    with httpx.Client(timeout=30, follow_redirects=False) as verified:
        flow = sign_in(verified, studio, provider)
        assert flow.callback.status_code == 303, flow.callback.text
        assert user_id_for(db, provider.issuer, person.sub) == local.id
        assert_signed_in(verified, studio, local.id)
    assert count_users(db, local.email) == 1


def test_the_fake_provider_itself_checks_pkce_and_client_secret(
    provider: FakeOIDCProvider,
) -> None:
    """The PKCE assertions above mean something only if the fake really checks."""
    provider.reset(FakeIdentity("sub-" + secrets.token_hex(6), "pkce@corp.example"))
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    redirect_uri = "http://127.0.0.1:9/cb"

    def code() -> str:
        params = {
            "client_id": provider.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "openid email",
            "state": "s",
            "nonce": "n",
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        answer = httpx.get(f"{provider.issuer}/authorize", params=params)
        assert answer.status_code == 302
        return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]

    def exchange(code: str, verifier: str, secret: str = provider.client_secret) -> httpx.Response:
        return httpx.post(
            f"{provider.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=(provider.client_id, secret),
        )

    wrong = exchange(code(), secrets.token_urlsafe(48))
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert exchange(code(), verifier, secret="nope").status_code == 401
    good_code = code()
    assert exchange(good_code, verifier).status_code == 200
    assert exchange(good_code, verifier).json()["error"] == "invalid_grant"  # single use


def test_claims_only_in_userinfo_are_read_and_its_sub_must_match(
    db: Database,
    studio: LiveServer,
    provider: FakeOIDCProvider,
    person: FakeIdentity,
    browser: httpx.Client,
) -> None:
    """Issue 13, finding 11: a provider may put email and name only in UserInfo
    (OIDC Core 5.4); the id_token then has no email and sign-in failed with 422."""
    assert person.email is not None
    provider.claims_in_id_token = False
    flow = sign_in(browser, studio, provider)
    assert flow.callback.status_code == 303, flow.callback.text
    assert provider.userinfo_calls == 1
    user_id = user_id_for(db, provider.issuer, person.sub)
    assert user_id is not None
    with db.session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None and (user.email, user.display_name) == (person.email, person.name)
    assert_signed_in(browser, studio, user_id)

    # UserInfo about another subject is not this person: refused, nothing made.
    other = FakeIdentity(f"sub-{secrets.token_hex(4)}", f"o-{secrets.token_hex(4)}@corp.example")
    provider.reset(other)
    provider.claims_in_id_token = False
    provider.userinfo_sub = "someone-else"
    with httpx.Client(timeout=30, follow_redirects=False) as fresh:
        refused = sign_in(fresh, studio, provider)
        assert_refused(refused.callback)
        assert_signed_out(fresh, studio)
    assert other.email is not None and count_users(db, other.email) == 0


def test_a_deep_link_survives_provider_sign_in(
    studio: LiveServer, provider: FakeOIDCProvider, person: FakeIdentity
) -> None:
    link = "/?view=projects&shot=3&take=4"
    page = httpx.get(f"{studio.url}/login", params={"next": link})
    assert 'href="/auth/oidc/login?next=%2F%3Fview%3Dprojects%26shot%3D3%26take%3D4"' in (
        page.text.replace("&amp;", "&")
    )
    for asked, landed in [(link, link), ("//evil.example/x", "/"), ("https://evil.example", "/")]:
        provider.reset(person)
        with httpx.Client(timeout=30, follow_redirects=False) as browser:
            start = browser.get(f"{studio.url}/auth/oidc/login", params={"next": asked})
            assert start.status_code == 302, start.text
            callback = approve(browser, start.headers["location"], studio)
            done = browser.get(callback)
            assert done.status_code == 303, done.text
            assert done.headers["location"] == landed
