"""The Workspaces home in a real browser (Debian's Chromium), the page a team
starts its day on: what needs review, projects, recent takes and activity,
each a link to the view it names; members below. Someone in no workspace is
shown the first step and creates one there. Screenshots at 1280 px and on a
tablet land in test-artifacts/.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from studio.db.session import Database
from tests.conftest import LiveServer
from tests.factories import make_user
from tests.ui.conftest import sign_in
from tests.ui.workspace_team import Team, make_team

pytestmark = pytest.mark.browser
TABLET = {"width": 820, "height": 1180}


@pytest.fixture(scope="module")
def team(db: Database, live_server: LiveServer) -> Team:
    return make_team(db, live_server)


def test_a_team_starts_its_day_on_the_workspace_home(
    page: Page, live_server: LiveServer, team: Team, backend: str, artifacts_dir: Path
) -> None:
    def snap(number: int, name: str) -> None:
        page.screenshot(path=str(artifacts_dir / f"{backend}-workspaces-{number:02d}-{name}.png"))

    sign_in(page, live_server.url, team.editor.email, team.editor.password)
    home = page.locator("#ws-home")
    review = home.locator(".ws-review")
    expect(review).to_contain_text("Shots in review")
    project = f"/projects?project={team.project}"
    sh010, sh020, sh030 = (f"{project}&shot={s}" for s in team.shots)
    expect(review.locator(f'a.nav-link[href="{sh030}"]')).to_contain_text("SC01-SH030")
    expect(review.locator(f'a.nav-link[href="{sh020}"]')).to_contain_text("SC01-SH020")
    mention = review.locator(f'a.nav-link[href="{sh010}&take={team.takes[0]}"]')
    expect(mention).to_contain_text("SC01-SH010")
    expect(review).to_contain_text("Does the flare read at the end?")
    cards = home.locator(".ws-projects a.ws-card")
    expect(cards).to_have_count(2)
    expect(home.locator(f'.ws-projects a.ws-card[href="{project}"]')).to_contain_text(
        "The Lighthouse <script>"  # the title, shown as text
    )
    takes = home.locator(".ws-takes a.ws-card")
    expect(takes).to_have_count(2)
    expect(takes.first).to_have_attribute("href", f"{sh020}&take={team.takes[1]}")
    activity = home.locator(".ws-activity li")
    expect(activity.first).to_contain_text("mentioned")
    expect(home).not_to_contain_text("shot.created")
    expect(page.locator("#ws-summary")).to_contain_text("you are editor")
    # "Copy link" copies this home's full address.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#ws-summary button.copy-link").click()
    expect(page.locator("#ws-summary button.copy-link")).to_have_text("Link copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{live_server.url}/?ws={team.workspace.slug}"
    snap(1, "home")
    page.set_viewport_size(TABLET)
    snap(2, "home-tablet")
    page.set_viewport_size({"width": 1280, "height": 800})

    # Members: listed; an editor does not manage them.
    page.locator("#ws-members-box").get_by_text("Members (2)").click()
    expect(page.locator("#ws-members")).to_contain_text(team.owner.email)
    expect(page.locator("#ws-manage")).to_be_hidden()

    # A link opens the shot it names (through studio.js, no reload, once the app has
    # the address mechanism; a plain link to that address before).
    reloads = not page.evaluate("!!window.studioNav")
    with page.expect_navigation() if reloads else contextlib.nullcontext():
        review.locator(f'a.nav-link[href="{sh030}"]').click()
    expect(page).to_have_url(re.compile(re.escape(sh030.replace("/?", "?")) + "$"))
    if page.evaluate("!!window.studioNav"):
        expect(page.locator("#page-projects")).to_be_visible()


def test_someone_in_no_workspace_creates_one_from_the_first_step(
    page: Page, live_server: LiveServer, db: Database, backend: str, artifacts_dir: Path
) -> None:
    newcomer = make_user(db, "newcomer")
    sign_in(page, live_server.url, newcomer.email, newcomer.password)
    first = page.locator("#ws-first-step")
    expect(first).to_contain_text("Create one for your team")
    expect(first).to_contain_text(newcomer.email)
    expect(page.locator("#ws-picker")).to_be_hidden()
    name = page.locator("#ws-new-name input, #ws-new-name textarea").first
    name.fill("   ")
    page.click("#ws-create")
    expect(page.locator("#ws-create-error")).to_contain_text("cannot be empty")
    expect(first).to_be_visible()
    page.screenshot(path=str(artifacts_dir / f"{backend}-workspaces-03-first-step.png"))
    name.fill("Night Owls")
    page.click("#ws-create")
    expect(page.locator("#ws-summary")).to_contain_text("Night Owls")
    expect(page.locator("#ws-summary")).to_contain_text("you are owner")
    expect(first).to_be_hidden()
    expect(page.locator("#ws-create-error")).to_be_hidden()
    expect(page.locator("#ws-home")).to_contain_text("No project yet")
    expect(page).to_have_url(re.compile(r"/\?ws=night-owls$"))
