"""A person's first visit, in a real browser: sign in, look around, make an
API key that really works, sign out.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright against the
real app under uvicorn; never downloads a browser. Screenshots of each step
land in test-artifacts/, prefixed with the database backend.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from studio.accounts.models import Workspace
from studio.db.session import Database
from tests.conftest import LiveServer
from tests.factories import make_user, make_workspace

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
LOGIN_URL = re.compile(r"/login(\?.*)?$")


def test_sign_in_create_api_key_and_sign_out(
    page: Page,
    live_server: LiveServer,
    db: Database,
    backend: str,
    artifacts_dir: Path,
) -> None:
    user = make_user(db, "browser")
    workspace = make_workspace(db, user, name="Night Shift")
    with db.session_scope() as session:
        row = session.get(Workspace, workspace.id)
        assert row is not None
        workspace_name = row.name

    def shot(name: str) -> None:
        page.screenshot(path=str(artifacts_dir / f"{backend}-{name}.png"))

    # A signed-out visitor is sent to the sign-in page.
    page.goto(live_server.url + "/")
    expect(page).to_have_url(LOGIN_URL, timeout=TIMEOUT_MS)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=TIMEOUT_MS)
    shot("01-login")

    # A wrong password is refused with a clear message, and the email is kept.
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".alert.error")).to_have_text(
        "Wrong email or password.", timeout=TIMEOUT_MS
    )
    expect(page).to_have_url(LOGIN_URL, timeout=TIMEOUT_MS)
    expect(page.locator("input[name=email]")).to_have_value(user.email, timeout=TIMEOUT_MS)
    shot("02-wrong-password")

    # The right password opens the dashboard on the Workspaces page.
    page.fill("input[name=password]", user.password)
    page.click("button[type=submit]")
    expect(page).to_have_url(live_server.url + "/", timeout=TIMEOUT_MS)
    expect(page.locator("#signed-in-as")).to_contain_text(user.email, timeout=TIMEOUT_MS)
    expect(page.locator("#ws-summary")).to_contain_text(workspace_name, timeout=TIMEOUT_MS)
    page.locator("#ws-members-box").get_by_text("Members (1)").click()  # below the home
    expect(page.locator("#ws-members")).to_contain_text(user.email, timeout=TIMEOUT_MS)
    shot("03-dashboard")

    # Account: make an API key for the workspace.
    page.click("#nav-account")
    account = page.locator("#page-account")
    expect(account.get_by_role("heading", name="API keys")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("#page-workspaces")).to_be_hidden(timeout=TIMEOUT_MS)
    expect(page.locator("#api-keys")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("#new-api-key")).to_be_hidden(timeout=TIMEOUT_MS)
    shot("04-account")

    account.get_by_label("Key name").fill("browser test script")
    account.get_by_label("Workspace").click()
    page.get_by_role("option", name=workspace_name).click()
    expect(account.get_by_label("Workspace")).to_have_value(workspace_name, timeout=TIMEOUT_MS)
    account.get_by_role("button", name="Create key").click()

    new_key = page.locator("#new-api-key").get_by_role("textbox")
    expect(new_key).to_have_value(re.compile(r"^stu_\S+$"), timeout=TIMEOUT_MS)
    secret = new_key.input_value()
    keys_table = page.locator("#api-keys")
    expect(keys_table).to_contain_text("browser test script", timeout=TIMEOUT_MS)
    expect(keys_table).to_contain_text(workspace_name, timeout=TIMEOUT_MS)
    expect(keys_table).to_contain_text("active", timeout=TIMEOUT_MS)
    shot("05-api-key-created")

    # The key shown really works against the JSON API.
    response = httpx.get(
        live_server.url + "/v1/me",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["user"]["email"] == user.email
    assert me["api_key"]["workspace"] == workspace.slug

    # Sign out: back on the sign-in page, told so, and the studio stays closed.
    page.click("#sign-out")
    expect(page).to_have_url(LOGIN_URL, timeout=TIMEOUT_MS)
    expect(page.locator(".alert.notice")).to_have_text("You are signed out.", timeout=TIMEOUT_MS)
    shot("06-signed-out")

    page.goto(live_server.url + "/")
    expect(page).to_have_url(LOGIN_URL, timeout=TIMEOUT_MS)
    expect(page.locator("input[name=password]")).to_be_visible(timeout=TIMEOUT_MS)
    shot("07-closed-after-sign-out")
