"""Loading the page in Chromium: every file it asks for is there, static files
come with cache headers, the Projects page's polls draw no timing labels, and
a colleague's change still reaches the open page by itself.

The page used to ask for Gradio's `/static/js/iframeResizer.contentWindow.min.js`
and get a 404 (our `/static` mount shadowed Gradio's), and Gradio's "0.3s"
labels blinked over the header and storyboard on every poll.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Response, expect

from studio.accounts import service as accounts
from studio.accounts.access import Actor
from studio.db.session import Database
from studio.projects import service as projects
from tests.conftest import LiveServer
from tests.factories import make_workspace
from tests.ui.conftest import sign_in

pytestmark = pytest.mark.browser

# Every status tracker node Gradio adds while an event runs, visible or not yet.
WATCH_LABELS = """
() => {
  window.__labels = [];
  const root = document.querySelector('#page-projects');
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) {
      if (node.nodeType !== 1) continue;
      const timing = node.matches('.progress-text, .eta-bar, .loader')
        ? [node] : [...node.querySelectorAll('.progress-text, .eta-bar, .loader')];
      for (const el of timing) requestAnimationFrame(() => {
        const style = getComputedStyle(el);
        if (el.isConnected && el.getClientRects().length
            && style.display !== 'none' && style.visibility !== 'hidden')
          window.__labels.push((el.closest('[id]') || {}).id + ': ' + el.textContent.trim());
      });
    }
  }).observe(root, {subtree: true, childList: true});
}
"""


def test_the_page_loads_every_file_and_polls_draw_no_timing_labels(
    page: Page, live_server: LiveServer, db: Database
) -> None:
    team = make_workspace(db, name="Harbour Films")
    with db.session_scope() as session:
        owner = Actor(user=accounts.get_user(session, team.owner.id))  # type: ignore[arg-type]
        project = projects.create_project(session, owner, workspace_id=team.id, title="Pier")
        project_id = project.id
        for text in ("Wide: the pier at dawn", "Close: a rope"):
            projects.add_shot(session, owner, project.id, projects.ShotFields(description=text))
    answers: list[Response] = []
    page.on("response", lambda answer: answers.append(answer))

    sign_in(page, live_server.url, team.owner.email, team.owner.password)
    page.click("#nav-projects")
    page.locator("#proj-storyboard [data-shot]").first.wait_for()
    page.evaluate(WATCH_LABELS)
    # Three polls (2 s apart) with the storyboard and header on screen.
    page.wait_for_timeout(6_500)

    failed = [f"{a.status} {a.url}" for a in answers if a.status >= 400]
    assert failed == []
    assert any("iframeResizer" in a.url and a.status == 200 for a in answers)
    # The poll is a plain request (no Gradio event) while nothing changes.
    polls = [a for a in answers if f"/ui/projects/{project_id}/changes" in a.url]
    assert len(polls) >= 3, "the Projects page polls"
    assert all(a.status == 200 for a in polls)
    assert page.evaluate("window.__labels") == []

    # A change by someone else reaches the open page by itself: the poll's
    # answer names a new fingerprint, and the page asks for a render.
    with db.session_scope() as session:
        owner = Actor(user=accounts.get_user(session, team.owner.id))  # type: ignore[arg-type]
        projects.update_project(session, owner, project_id, title="Pier at Dawn")
    expect(page.locator("#proj-info")).to_contain_text("Pier at Dawn", timeout=10_000)
    assert page.evaluate("window.__labels") == []

    by_path = {re.sub(r"^https?://[^/]+", "", a.url).split("?")[0]: a for a in answers}
    studio_js = by_path["/static/studio.js"]
    assert "max-age=" in (studio_js.headers.get("cache-control") or "")
    built = [a for path, a in by_path.items() if path.startswith("/assets/") and a.status == 200]
    assert built and all("immutable" in (a.headers.get("cache-control") or "") for a in built)
