"""Every view has an address, in a real browser (Debian's Chromium).

Signed out, a link to a take, a shot or a jam entry goes to the sign-in page,
which then lands on the item. Back and Forward walk the views a person
opened (shot -> take -> another page) and open them again, also when pressed
in quick succession before a view has finished loading: what shows is the
address in the bar. "Copy link" copies the item's full address. Someone
outside the workspace who follows the link sees "not found or no access" and
nothing of the shot.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from studio.config import Settings
from studio.db.session import Database
from studio.media.storage import LocalStorage
from studio.projects import review
from tests.conftest import LiveServer
from tests.factories import (
    UserInfo,
    bearer,
    make_api_key,
    make_user,
    make_workspace,
    wait_finished,
)
from tests.jams.helpers import actor
from tests.ui.test_jams_page import judging_jam
from tests.ui.workspace_team import Team, make_team

pytestmark = pytest.mark.browser
SLOW_MS = 20_000  # a view opened through a handler on a busy 2-core machine


@pytest.fixture(scope="module")
def team(db: Database, live_server: LiveServer) -> Team:
    made = make_team(db, live_server)
    with db.session_scope() as session:  # a shot named in a comment links to it
        review.add_comment(
            session, actor(session, made.owner), made.shots[1], "Match the framing of SC01-SH030"
        )
    # SH020 gets a newer take: a link to its first take names one the page would
    # not pick by itself (it picks the circled take, else the newest).
    key = bearer(make_api_key(db, made.workspace.owner, made.workspace))
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        started = client.post(
            f"/v1/shots/{made.shots[1]}/takes", json={"model": "animatic"}, headers=key
        )
        assert started.status_code == 200, started.text
        assert wait_finished(client, key, started.json()["id"])["status"] == "SUCCEEDED"
    return made


PATHS = {"workspaces": "/", "projects": "/projects", "jams": "/jams"}


def address(base: str, view: str, **query: object) -> str:
    given = "&".join(f"{k}={v}" for k, v in query.items())
    return base + PATHS[view] + ("?" + given if given else "")


def sign_in_at(page: Page, link: str, user: UserInfo) -> None:
    """Open `link` signed out: the sign-in page first, then the link itself."""
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/login\?next="), timeout=SLOW_MS)
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", user.password)
    page.click("button[type=submit]")
    page.wait_for_url(link)
    page.locator("#signed-in-as").wait_for()


def in_bar(page: Page, view: str, **query: object) -> None:
    given = "&".join(f"{k}={v}" for k, v in query.items())
    wanted = "127.0.0.1:[0-9]+" + re.escape(PATHS[view] + ("?" + given if given else ""))
    expect(page).to_have_url(re.compile(wanted + "$"), timeout=SLOW_MS)


def test_a_link_to_a_take_opens_it_after_sign_in_and_copies_its_address(
    page: Page, live_server: LiveServer, team: Team
) -> None:
    shot, take = team.shots[1], team.takes[1]
    link = address(live_server.url, view="projects", project=team.project, shot=shot, take=take)
    sign_in_at(page, link, team.editor)
    expect(page.locator("#page-projects")).to_be_visible(timeout=SLOW_MS)
    expect(page.locator("#shot-header")).to_contain_text("SC01-SH020", timeout=SLOW_MS)
    expect(page.locator(f'#shot-takes .take-card.picked[data-take="{take}"]')).to_be_visible(
        timeout=SLOW_MS
    )
    expect(page.locator("#proj-tabs [role=tab][aria-selected=true]")).to_have_text(
        "Shot", timeout=SLOW_MS
    )
    # Copy link: the shot's and the take's full addresses.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    shot_button = page.locator("#shot-takes .shot-links button.copy-link")
    shot_button.click()
    expect(shot_button).to_have_text("Link copied", timeout=SLOW_MS)
    shot_link = address(live_server.url, view="projects", project=team.project, shot=shot)
    assert page.evaluate("navigator.clipboard.readText()") == shot_link
    take_button = page.locator(f'#shot-takes .take-card[data-take="{take}"] button.copy-link')
    take_button.click()
    expect(take_button).to_have_text("Link copied", timeout=SLOW_MS)
    assert page.evaluate("navigator.clipboard.readText()") == link
    # A shot code in a comment is a link to that shot.
    page.locator("#shot-comments a.shot-ref", has_text="SC01-SH030").click()
    expect(page.locator("#shot-header")).to_contain_text("SC01-SH030", timeout=SLOW_MS)
    in_bar(page, view="projects", project=team.project, shot=team.shots[2])


def test_back_and_forward_walk_the_views_opened(
    page: Page, live_server: LiveServer, team: Team
) -> None:
    first, take = team.shots[0], team.takes[0]
    link = address(live_server.url, view="projects", project=team.project, shot=first)
    sign_in_at(page, link, team.editor)
    header = page.locator("#shot-header")
    expect(header).to_contain_text("SC01-SH010", timeout=SLOW_MS)
    # Pick a take (its card), open another shot from the storyboard, go to Workspaces.
    page.locator(f'#shot-takes .take-card[data-take="{take}"] figcaption b').click()
    in_bar(page, view="projects", project=team.project, shot=first, take=take)
    page.get_by_role("tab", name="Storyboard").click()
    # The shot stays picked (the Shot tab is a click away): the address says both.
    in_bar(page, view="projects", project=team.project, shot=first, take=take, tab="board")
    page.locator(f'#proj-storyboard [data-shot="{team.shots[2]}"] figcaption').click()
    expect(header).to_contain_text("SC01-SH030", timeout=SLOW_MS)
    in_bar(page, view="projects", project=team.project, shot=team.shots[2])
    page.click("#nav-workspaces")
    expect(page.locator("#page-workspaces")).to_be_visible(timeout=SLOW_MS)
    in_bar(page, view="workspaces")

    page.go_back()
    expect(page.locator("#page-projects")).to_be_visible(timeout=SLOW_MS)
    expect(header).to_contain_text("SC01-SH030", timeout=SLOW_MS)
    page.go_back()
    expect(page.locator("#proj-tabs [role=tab][aria-selected=true]")).to_have_text(
        "Storyboard", timeout=SLOW_MS
    )
    # This view picks SH010 again: its shot form loads (a person looks, then goes on).
    expect(header).to_contain_text("SC01-SH010", timeout=SLOW_MS)
    page.go_back()
    in_bar(page, view="projects", project=team.project, shot=first, take=take)
    expect(header).to_contain_text("SC01-SH010", timeout=SLOW_MS)
    expect(page.locator(f'#shot-takes .take-card.picked[data-take="{take}"]')).to_be_visible(
        timeout=SLOW_MS
    )
    expect(page.locator("#proj-tabs [role=tab][aria-selected=true]")).to_have_text(
        "Shot", timeout=SLOW_MS
    )
    page.go_forward()
    in_bar(page, view="projects", project=team.project, shot=first, take=take, tab="board")
    expect(page.locator("#proj-tabs [role=tab][aria-selected=true]")).to_have_text(
        "Storyboard", timeout=SLOW_MS
    )
    page.go_forward()
    in_bar(page, view="projects", project=team.project, shot=team.shots[2])
    expect(header).to_contain_text("SC01-SH030", timeout=SLOW_MS)
    page.go_forward()
    expect(page.locator("#page-workspaces")).to_be_visible(timeout=SLOW_MS)
    expect(page.locator("#page-projects")).to_be_hidden(timeout=SLOW_MS)


def shows_shot(page: Page, code: str, take: int, tab: str) -> None:
    """The Projects page shows shot `code` with `take` picked, on tab `tab`."""
    expect(page.locator("#page-projects")).to_be_visible(timeout=SLOW_MS)
    expect(page.locator("#proj-tabs [role=tab][aria-selected=true]")).to_have_text(
        tab, timeout=SLOW_MS
    )
    expect(page.locator("#shot-header")).to_contain_text(code, timeout=SLOW_MS)
    picked = page.locator("#shot-takes .take-card.picked")
    expect(picked).to_have_count(1, timeout=SLOW_MS)
    expect(picked).to_have_attribute("data-take", str(take), timeout=SLOW_MS)


def test_back_and_forward_pressed_at_once_show_the_address_in_the_bar(
    page: Page, live_server: LiveServer, team: Team
) -> None:
    """Back and Forward pressed one after the other, each before the view it opens
    has loaded (its route, the shot form it sets off, the polls): the view on
    screen at the end is the one the address names, every time."""
    second, older = team.shots[1], team.takes[1]  # SH020 has a newer take too
    link = address(live_server.url, view="projects", project=team.project, shot=second, take=older)
    sign_in_at(page, link, team.editor)
    shows_shot(page, "SC01-SH020", older, "Shot")
    page.get_by_role("tab", name="Storyboard").click()
    board = {"view": "projects", "project": team.project, "shot": second, "take": older}
    board["tab"] = "board"
    in_bar(page, **board)
    first = {"view": "projects", "project": team.project, "shot": team.shots[0]}
    for _ in range(3):
        # Open SH010 from the storyboard; once its address is in the bar (its view
        # still loading), Back and at once Forward: SH010 on the Shot tab.
        page.locator(f'#proj-storyboard [data-shot="{team.shots[0]}"] figcaption').click()
        in_bar(page, **first)
        page.go_back()
        page.go_forward()
        in_bar(page, **first)
        shows_shot(page, "SC01-SH010", team.takes[0], "Shot")
        # Back, Forward, Back: the storyboard view of SH020.
        page.go_back()
        page.go_forward()
        page.go_back()
        in_bar(page, **board)
        shows_shot(page, "SC01-SH020", older, "Storyboard")
        # Forward, Back, Forward: SH010 again.
        page.go_forward()
        page.go_back()
        page.go_forward()
        in_bar(page, **first)
        shows_shot(page, "SC01-SH010", team.takes[0], "Shot")
        # Back, for the next round. (Moving to another page is a page load.)
        page.go_back()
        in_bar(page, **board)
        shows_shot(page, "SC01-SH020", older, "Storyboard")


def test_a_foreign_link_shows_nothing_of_the_shot(
    page: Page, live_server: LiveServer, db: Database, team: Team
) -> None:
    stranger = make_user(db, "stranger")
    make_workspace(db, stranger, name="Elsewhere")
    link = address(
        live_server.url,
        view="projects",
        project=team.project,
        shot=team.shots[0],
        take=team.takes[0],
    )
    sign_in_at(page, link, stranger)
    expect(page.locator("#proj-notice")).to_contain_text("Not found or no access", timeout=SLOW_MS)
    body = page.locator("body")
    for secret in ("Lighthouse", "SC01-SH010", "the rock at dusk", "flare", "Night Shift"):
        expect(body).not_to_contain_text(secret, timeout=SLOW_MS)
    expect(page.locator("#shot-takes .take-card")).to_have_count(0, timeout=SLOW_MS)


def test_a_link_to_a_jam_entry_opens_it_after_sign_in(
    page: Page, live_server: LiveServer, db: Database, settings: Settings
) -> None:
    storage = LocalStorage(settings.media_path)
    jam = judging_jam(db, storage)
    otters, entry = jam["captains"][0], jam["entries"][0]
    link = address(live_server.url, view="jams", jam=jam["slug"], entry=entry)
    sign_in_at(page, link, otters)
    expect(page.locator("#page-jams")).to_be_visible(timeout=SLOW_MS)
    expect(page.locator("#jam-tabs [role=tab][aria-selected=true]")).to_have_text(
        "Submit", timeout=SLOW_MS
    )
    card = page.locator("#jam-entry")
    expect(card).to_contain_text("Otters at Night", timeout=SLOW_MS)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    card.locator("button.copy-link").click()
    expect(card.locator("button.copy-link")).to_have_text("Link copied", timeout=SLOW_MS)
    assert page.evaluate("navigator.clipboard.readText()") == link
