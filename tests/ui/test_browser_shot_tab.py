"""The Shot tab in a real browser (Debian's Chromium) at 1440 x 900.

A shot opened from its address shows its main action, Generate take, inside
the viewport without scrolling. A shot with no take offers no take action;
Generate uses the prompt just typed above it.
A take's own Circle button circles that take: its card turns circled and
the button is disabled, saying why; its Vary… button opens the Vary form
for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from studio.db.session import Database
from studio.projects import takes
from tests.conftest import LiveServer
from tests.jams.helpers import actor
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.test_browser_addresses import address, sign_in_at
from tests.ui.workspace_team import Team, make_team

pytestmark = pytest.mark.browser
SLOW_MS = 20_000  # a view opened through a handler on a busy 2-core machine
WIDTH, HEIGHT = 1440, 900


@pytest.fixture
def wide_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def team(db: Database, live_server: LiveServer) -> Team:
    return make_team(db, live_server)


def in_viewport(page: Page, selector: str) -> None:
    """The element lies wholly inside the viewport, the page not scrolled."""
    assert page.evaluate("window.scrollY") == 0
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= WIDTH and box["y"] + box["height"] <= HEIGHT, box


def test_generate_above_the_fold_and_circle_on_the_card(
    wide_page: Page,
    live_server: LiveServer,
    db: Database,
    team: Team,
    backend: str,
    artifacts_dir: Path,
) -> None:
    page = wide_page
    untaken = team.shots[2]  # SH030: no take yet
    link = address(live_server.url, view="projects", project=team.project, shot=untaken)
    sign_in_at(page, link, team.editor)
    expect(page.locator("#shot-header")).to_contain_text("SC01-SH030", timeout=SLOW_MS)
    generate = page.locator("#shot-generate")
    expect(generate).to_be_visible()
    in_viewport(page, "#shot-generate")
    # No take: no take action anywhere (no card buttons, no picker, no rating).
    expect(page.locator("#shot-takes .empty-state")).to_contain_text("No takes yet")
    expect(page.locator("#shot-takes button.take-action")).to_have_count(0)
    expect(page.locator("#take-tools")).to_be_hidden()
    expect(page.locator("#take-vary-box")).to_be_hidden()
    # What is typed above Generate is what the take uses (Generate saves it first).
    prompt = "The beam sweeps the fog at midnight"
    # (Its review comment made it version 2: the save makes it 3.)
    expect(page.locator("#shot-header")).to_contain_text("version 2")
    page.locator("#shot-prompt textarea").fill(prompt)
    generate.click()
    expect(page.locator("#shot-header")).to_contain_text("version 3", timeout=SLOW_MS)
    expect(page.locator("#shot-takes .take-card")).to_have_count(1, timeout=SLOW_MS)
    expect(page.locator("#shot-takes .take-card")).to_contain_text(prompt)
    expect(page.locator("#take-tools")).to_be_visible()

    # SH020: one finished take, not circled.
    shot, take = team.shots[1], team.takes[1]
    page.goto(address(live_server.url, view="projects", project=team.project, shot=shot))
    expect(page.locator("#shot-header")).to_contain_text("SC01-SH020", timeout=SLOW_MS)
    in_viewport(page, "#shot-generate")
    card = page.locator(f'#shot-takes .take-card[data-take="{take}"]')
    expect(card).to_be_visible(timeout=SLOW_MS)
    expect(card).not_to_have_class(re.compile(r"\bcircled\b"))
    circle = card.locator('button.take-action[data-action="circle"]')
    expect(circle).to_be_enabled()
    circle.click()
    expect(card).to_have_class(re.compile(r"\bcircled\b"), timeout=SLOW_MS)
    circled = page.locator(f'#shot-takes .take-card[data-take="{take}"]').locator(
        'button.take-action[data-action="circle"]'
    )
    expect(circled).to_be_disabled()
    expect(circled).to_have_text("Circled")
    expect(circled).to_have_attribute("title", "This is the circled take.")
    expect(page.locator("#take-tools")).to_be_visible()
    # Vary… opens the Vary form for that take, with its prompt to edit.
    card.locator('button.take-action[data-action="vary"]').click()
    vary = page.locator("#take-vary-box")
    expect(vary).to_be_visible(timeout=SLOW_MS)
    expect(vary).to_contain_text("Vary take 1")
    expect(page.locator("#vary-prompt textarea")).to_have_value(re.compile(r"hands and a match"))
    page.screenshot(path=str(artifacts_dir / f"{backend}-shot-tab-1440x900.png"))
    # A take opened from its address shows its own rating (the picker moved
    # without a person picking).
    with db.session_scope() as session:
        takes.mark_take(session, actor(session, team.owner), take, rating=4)
    link = address(live_server.url, view="projects", project=team.project, shot=shot, take=take)
    page.goto(link)
    expect(page.locator(f'#shot-takes .take-card.picked[data-take="{take}"]')).to_be_visible(
        timeout=SLOW_MS
    )
    expect(page.locator("#take-rating input")).to_have_value("●●●●", timeout=SLOW_MS)
