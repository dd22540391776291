"""The Projects page keeps itself current from its poll, in Chromium.

A colleague's work reaches an open shot view without a reload: the poll route
answers the take grid's HTML and the page swaps it in, then asks Gradio to
render the take picker (a Gradio component, not HTML). Parts whose content did
not change are left as they are (their players keep playing).
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from studio.accounts.models import Role
from studio.db.session import Database
from tests.conftest import LiveServer
from tests.factories import add_member, call_ui, login, make_user, make_workspace
from tests.ui.conftest import sign_in

pytestmark = pytest.mark.browser


def test_a_colleagues_take_reaches_the_open_shot_and_unchanged_parts_stay(
    page: Page, live_server: LiveServer, db: Database, http: httpx.Client
) -> None:
    team = make_workspace(db, name="Harbour Films")
    colleague = make_user(db, "colleague")
    add_member(db, team, colleague, Role.EDITOR)
    login(http, colleague)
    out = call_ui(http, "create_project", team.id, "Pier", "", "1280:720", 24, False)
    project = out[4]["value"]
    call_ui(http, "add_shot", team.id, project, None, None, False, "Wide: pier", "", None)
    shots = call_ui(http, "add_shot", team.id, project, None, None, False, "Close: rope", "", None)
    shot = shots[5]["choices"][0][1]

    sign_in(page, live_server.url, team.owner.email, team.owner.password)
    page.goto(f"{live_server.url}/projects?project={project}&shot={shot}")
    expect(page.locator("#shot-takes")).to_contain_text("No takes yet", timeout=20_000)
    expect(page.locator("#take-tools")).to_be_hidden()
    joins: list[str] = []
    page.on(
        "request",
        lambda request: (
            joins.append(request.post_data or "")
            if "/gradio_api/queue/join" in request.url
            else None
        ),
    )

    call_ui(http, "generate_shot_take", project, shot, None, "animatic", "7")
    # The grid arrives through the poll's answer; the picker through the render
    # the answer asks for.
    expect(page.locator("#shot-takes video")).to_have_count(1, timeout=60_000)
    expect(page.locator("#take-tools")).to_be_visible(timeout=20_000)
    expect(page.locator("#take-pick input")).to_have_value("Take 1 · seed 7 · animatic")
    assert joins, "the take picker is rendered by a Gradio event"
    # The project's header moved on ("circle a take"), the storyboard's card
    # shows the take: both by the poll, with no Gradio event of their own.
    expect(page.locator("#proj-info")).to_contain_text("generate a take for SC01-SH020")
    # A few quiet ticks: nothing is swapped again.
    page.locator("#shot-takes video").evaluate("video => { video.dataset.kept = 'yes'; }")
    page.wait_for_timeout(4_500)
    assert page.locator("#shot-takes video[data-kept=yes]").count() == 1

    # Opening the other shot renders that shot's parts (a Gradio event) and leaves
    # the project's parts unknown to the poll, which sends them again: the same
    # HTML, so the page keeps what it shows (its nodes, its players).
    card = page.locator("#proj-storyboard [data-shot]").first
    card.evaluate("card => { card.dataset.kept = 'yes'; }")
    page.locator("#shot-pick input").click()
    page.get_by_role("option", name="SC01-SH020 · Close: rope").click()
    expect(page.locator("#shot-takes")).to_contain_text("No takes yet", timeout=20_000)
    resent: list[str] = []
    page.on(
        "response",
        lambda answer: (
            resent.extend(answer.json()["parts"])
            if "/changes?" in answer.url and answer.status == 200
            else None
        ),
    )
    page.wait_for_timeout(4_500)
    assert "board" in resent, resent
    assert page.locator("#proj-storyboard [data-kept=yes]").count() == 1
