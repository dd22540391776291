"""From a shot list to a rough cut, in a real browser (Debian's Chromium).

Create a project, add three shots, open each from the shot list, generate
an animatic take and circle it; the storyboard shows three posters; render
the rough cut and play it: the video element's duration is the sum of the
circled takes. Along the way: a comment at a timecode, and the compare tab.
Screenshots land in test-artifacts/ (the README's come from here).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from studio.db.session import Database
from studio.generation.models import Job
from studio.media.models import Asset
from studio.projects.models import Project, Shot, Take
from tests.conftest import LiveServer
from tests.factories import make_user, make_workspace
from tests.ui.conftest import sign_in

pytestmark = pytest.mark.browser

SLOW_MS = 90_000  # a take or a rough cut on a busy 2-core machine
SHOTS = [
    ("Wide: the lighthouse at dusk, waves below", 2),
    ("Close: the keeper's hands light the lamp", 4),
    ("Wide: the beam sweeps the fog", 2),
]


def choose(page: Page, dropdown: str, option: str | re.Pattern[str]) -> None:
    page.locator(f"{dropdown} input").click()
    page.get_by_role("option", name=option).click()


def card_button(page: Page, action: str) -> Locator:
    """A button on the (only) take card of the open shot."""
    return page.locator(f'#shot-takes .take-card[data-take] button[data-action="{action}"]')


def test_shot_list_to_rough_cut_in_chromium(
    page: Page, live_server: LiveServer, db: Database, backend: str, artifacts_dir: Path
) -> None:
    user = make_user(db, "director")
    team = make_workspace(db, user, name="Harbour Films")

    def snap(name: str, *, clean: bool = False) -> None:
        if clean:  # for the README: no toasts over the page, from its top
            page.add_style_tag(content="[class*=toast] { display: none !important; }")
            page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts_dir / f"{backend}-projects-{name}.png"), full_page=clean)

    sign_in(page, live_server.url, user.email, user.password)
    page.click("#nav-projects")
    projects_page = page.locator("#page-projects")
    expect(projects_page.get_by_text("No project yet")).to_be_visible()

    # A new project.
    page.locator("#proj-new").get_by_role("button", name=re.compile("New project")).click()
    projects_page.get_by_label("Title").fill("The Lighthouse")
    projects_page.get_by_label("Logline").fill("A keeper's last night on the rock")
    page.click("#proj-create")
    expect(page.locator("#proj-info")).to_contain_text("The Lighthouse")

    # Three shots in the shot list.
    projects_page.get_by_role("tab", name="Shot list").click()
    for index, (text, _) in enumerate(SHOTS, start=1):
        projects_page.get_by_label("New shot").fill(text)
        page.click("#proj-add-shot")
        expect(page.locator("#shot-table")).to_contain_text(f"SC01-SH{index * 10:03d}")
    snap("01-shot-list")

    # Each shot: open it from its row, set its length, generate an animatic take, circle it.
    for index, (text, seconds) in enumerate(SHOTS, start=1):
        code = f"SC01-SH{index * 10:03d}"
        projects_page.get_by_role("tab", name="Shot list").click()
        page.locator("#shot-table tr", has_text=code).click()
        expect(page.locator("#shot-header")).to_contain_text(code)
        expect(page.locator("#shot-description textarea")).to_have_value(text)
        page.locator("#page-projects").get_by_label("Length (s)").fill(str(seconds))
        page.click("#shot-save")
        expect(page.locator("#shot-header")).to_contain_text("version 2")
        choose(page, "#shot-model", re.compile(r"^Animatic"))
        page.click("#shot-generate")
        expect(page.locator("#shot-takes video")).to_have_count(1, timeout=SLOW_MS)
        expect(page.locator("#take-pick input")).to_have_value(re.compile(r"^Take 1"))
        card_button(page, "circle").click()  # on the take's own card
        expect(page.locator("#shot-takes .take-card.circled")).to_have_count(1)

    # Review on the last shot: a second take, a comment at a timecode, compare.
    card_button(page, "reroll").click()
    expect(page.locator("#shot-takes video")).to_have_count(2, timeout=SLOW_MS)
    page.locator("#shot-takes .take-card[data-take]").last.click()  # take 1, by its card
    expect(page.locator("#take-pick input")).to_have_value(re.compile(r"^Take 1"))
    page.locator("#comment-body textarea").fill("The beam turns too fast here.")
    projects_page.get_by_label("At (on the picked take)").fill("0:01.5")
    page.click("#comment-post")
    expect(page.locator("#shot-comments")).to_contain_text("@ 00:01.5")
    page.locator("#shot-comments a.timecode").click()
    seeked = page.locator("#shot-takes .take-card.picked video").evaluate("v => v.currentTime")
    assert abs(seeked - 1.5) < 0.05, seeked
    snap("02-shot-page", clean=True)

    projects_page.get_by_role("tab", name="Compare").click()
    expect(page.locator("#compare-view video")).to_have_count(2)
    expect(page.locator("#compare-view tr.differs")).to_contain_text("seed")
    page.locator("#compare-view video.compare-left").evaluate("v => { v.currentTime = 1.0; }")
    page.wait_for_function(
        "() => Math.abs(document.querySelector('#compare-view video.compare-right')"
        ".currentTime - 1.0) < 0.05"
    )
    snap("03-compare")

    # The storyboard: three posters, in shot order.
    projects_page.get_by_role("tab", name="Storyboard").click()
    board = page.locator("#proj-storyboard")
    expect(board.locator("figure.shot-card img")).to_have_count(3)
    expect(board.locator("figure.shot-card figcaption").first).to_contain_text("SC01-SH010")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#proj-storyboard img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    snap("04-storyboard", clean=True)

    # The rough cut plays, and lasts the sum of the circled takes.
    projects_page.get_by_role("tab", name="Rough cut").click()
    page.click("#proj-cut")
    video = page.locator("#rough-cut-video")
    expect(video).to_have_count(1, timeout=SLOW_MS)
    duration = video.evaluate(
        "v => new Promise(ok => v.readyState >= 1 ? ok(v.duration)"
        " : v.addEventListener('loadedmetadata', () => ok(v.duration)))"
    )
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('#rough-cut-video').currentTime > 0.2")
    snap("05-rough-cut")

    with db.session_scope() as session:
        lengths = session.scalars(
            select(Asset.duration)
            .join(Job, Job.output_asset_id == Asset.id)
            .join(Take, Take.job_id == Job.id)
            .join(Shot, Shot.selected_take_id == Take.id)
            .join(Project, Project.id == Shot.project_id)
            .where(Project.workspace_id == team.id)
        ).all()
    assert len(lengths) == 3
    expected = sum(float(x or 0) for x in lengths)
    assert expected == pytest.approx(sum(s for _, s in SHOTS), abs=0.2)
    assert duration == pytest.approx(expected, abs=3 / 24 + 0.05), (duration, expected)
