"""The sign-in page: redirects, wrong passwords, throttling, safe redirects."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from studio.accounts.models import LoginThrottle
from studio.config import Settings
from studio.db.session import Database
from tests.conftest import LiveServer, start_server
from tests.factories import login, make_user, make_workspace

HTML = {"Accept": "text/html"}


_ADDRESSES = itertools.count(1)


def client_ip() -> dict[str, str]:
    """A client address never used before in this test session, sent the way a
    reverse proxy does. (Random picks from a /24 collided now and then, and a
    reused address carries earlier tests' failed sign-ins into the throttle.)"""
    n = next(_ADDRESSES)
    address = f"198.18.{n // 250}.{n % 250 + 1}"  # 198.18.0.0/15: benchmarking, never routed
    return {"X-Forwarded-For": f"203.0.113.7, {address}"}


def test_pages_redirect_to_login_and_back(db: Database, http: httpx.Client) -> None:
    page = http.get("/", headers=HTML)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/"
    form = http.get("/login")
    assert form.status_code == 200
    assert 'name="password"' in form.text and "Sign in" in form.text
    # API and Gradio routes answer 401, not a redirect.
    assert http.get("/gradio_api/info").status_code == 401


def test_wrong_password_and_unknown_email_look_the_same(db: Database, http: httpx.Client) -> None:
    user = make_user(db)
    headers = client_ip()
    wrong = http.post(
        "/login", data={"email": user.email, "password": "nope-nope-nope"}, headers=headers
    )
    unknown = http.post(
        "/login",
        data={"email": "ghost-" + user.email, "password": "nope-nope-nope"},
        headers=headers,
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password." in wrong.text
    assert "Wrong email or password." in unknown.text
    assert "studio_session" not in http.cookies or http.get("/", headers=HTML).status_code == 303


def test_empty_fields_get_a_clear_message(http: httpx.Client) -> None:
    response = http.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert "Enter your email and password." in response.text


def test_login_redirects_only_to_same_site_paths(db: Database, http: httpx.Client) -> None:
    user = make_user(db)
    make_workspace(db, owner=user)
    for target, expected in [
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/?a=1", "/?a=1"),
        ("/?view=projects&shot=3&take=4", "/?view=projects&shot=3&take=4"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),  # browsers drop the tab: //evil.example
        ("/\n/evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
    ]:
        with httpx.Client(base_url=str(http.base_url)) as client:
            response = client.post(
                "/login", data={"email": user.email, "password": user.password, "next": target}
            )
            assert response.status_code == 303
            assert response.headers["location"] == expected


def test_a_deep_link_survives_sign_in(db: Database, http: httpx.Client) -> None:
    """Signed out, a link to a take goes to the sign-in page, which remembers it
    (the query too) and lands there after the password."""
    user = make_user(db)
    link = "/projects?shot=3&take=4"
    page = http.get(link, headers=HTML)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/projects%3Fshot%3D3%26take%3D4"
    form = http.get(page.headers["location"])
    assert 'name="next" value="/projects?shot=3&amp;take=4"' in form.text
    with httpx.Client(base_url=str(http.base_url)) as client:
        done = client.post(
            "/login", data={"email": user.email, "password": user.password, "next": link}
        )
        assert done.status_code == 303 and done.headers["location"] == link
        # Signed in, /login?next= goes straight there; an outside address does not.
        again = client.get("/login", params={"next": link})
        assert again.status_code == 303 and again.headers["location"] == link
        away = client.get("/login", params={"next": "//evil.example"})
        assert away.headers["location"] == "/"
        # Addresses of the older one-page form move to the page's path (and `?page=`,
        # which Gradio would read as one of its page names, is no 500).
        old = client.get("/?page=jams&jam=x", headers=HTML)
        assert old.status_code == 303 and old.headers["location"] == "/jams?jam=x"
        old = client.get("/?view=projects&shot=3&take=4", headers=HTML)
        assert old.status_code == 303 and old.headers["location"] == link


def test_session_cookie_flags(db: Database, http: httpx.Client) -> None:
    user = make_user(db)
    cookie = login(http, user).headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http on loopback; Secure comes with an https base URL


@pytest.fixture(scope="module")
def strict_server(settings: Settings) -> Iterator[LiveServer]:
    server = start_server(settings.model_copy(update={"login_max_failures": 3}))
    yield server
    server.stop()


def test_repeated_failures_are_throttled_without_revealing_accounts(
    db: Database, strict_server: LiveServer
) -> None:
    user = make_user(db)
    ghost = "ghost-" + user.email
    with httpx.Client(base_url=strict_server.url) as client:
        for email in (user.email, ghost):
            headers = client_ip()
            statuses = [
                client.post(
                    "/login", data={"email": email, "password": "wrong-password"}, headers=headers
                ).status_code
                for _ in range(3)
            ]
            assert statuses == [401, 401, 401]
            locked = client.post(
                "/login", data={"email": email, "password": "wrong-password"}, headers=headers
            )
            assert locked.status_code == 429
            assert "Too many failed sign-in attempts" in locked.text
            assert int(locked.headers["Retry-After"]) > 0
        # While locked, even the right password is refused (from a new address too).
        right = client.post(
            "/login", data={"email": user.email, "password": user.password}, headers=client_ip()
        )
        assert right.status_code == 429
    with db.session_scope() as session:
        counted = session.scalar(
            select(func.count())
            .select_from(LoginThrottle)
            .where(LoginThrottle.key.in_([f"email:{user.email}", f"email:{ghost}"]))
        )
    assert counted == 2


def test_one_address_is_throttled_across_emails(db: Database, strict_server: LiveServer) -> None:
    headers = client_ip()
    with httpx.Client(base_url=strict_server.url) as client:
        for _ in range(3):
            email = f"spray-{secrets.token_hex(3)}@studio.example"
            assert (
                client.post(
                    "/login", data={"email": email, "password": "x" * 12}, headers=headers
                ).status_code
                == 401
            )
        blocked = client.post(
            "/login",
            data={"email": "another@studio.example", "password": "x" * 12},
            headers=headers,
        )
        assert blocked.status_code == 429
