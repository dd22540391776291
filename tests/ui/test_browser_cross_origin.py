"""Another site's page cannot act with the user's cookie (issue 13, finding 1).

Real Chromium: the user signs in to Studio, then opens a page served from
another loopback origin (same site, other port: what a sibling subdomain
is). Its script calls Gradio's create_api_key with the user's cookie, with
and without a CORS preflight, and tries to read the answer; another page
signs the browser in as someone else with a hidden form (login CSRF). Both
must fail, and nothing may be written.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import Page
from sqlalchemy import func, select

from studio.accounts.models import ApiKey
from studio.db.session import Database
from tests.conftest import LiveServer
from tests.factories import make_user, make_workspace
from tests.ui.conftest import sign_in

pytestmark = pytest.mark.browser


class ForeignSite:
    """A page on another origin: 127.0.0.1 on another port."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path, "not here").encode()
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def foreign() -> Iterator[ForeignSite]:
    site = ForeignSite()
    yield site
    site.server.shutdown()


def key_count(db: Database, user_id: int) -> int:
    with db.session_scope() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(ApiKey).where(ApiKey.user_id == user_id)
            )
            or 0
        )


ATTACK = """<!doctype html><html><body><script>
const studio = %(studio)s;
const args = JSON.stringify({data: ["stolen", %(workspace)d]});
window.report = {};
async function attempt(name, options) {
  try {
    const start = await fetch(studio + "/gradio_api/call/create_api_key",
                              {method: "POST", credentials: "include", ...options});
    const text = await start.text();
    window.report[name] = {status: start.status, text: text};
    const id = JSON.parse(text).event_id;
    if (id) {
      const stream = await fetch(studio + "/gradio_api/call/create_api_key/" + id,
                                 {credentials: "include"});
      window.report[name].result = await stream.text();
    }
  } catch (error) {
    window.report[name] = window.report[name] || {};
    window.report[name].error = String(error);
  }
}
(async () => {
  await attempt("json", {headers: {"Content-Type": "application/json"}, body: args});
  await attempt("simple", {headers: {"Content-Type": "text/plain"}, body: args});
  await fetch(studio + "/gradio_api/call/create_api_key",
              {method: "POST", mode: "no-cors", credentials: "include", body: args,
               headers: {"Content-Type": "text/plain"}}).catch(() => null);
  window.done = true;
})();
</script></body></html>"""

LOGIN_CSRF = """<!doctype html><html><body>
<form id="f" method="post" action="%(studio)s/login">
<input name="email" value="%(email)s"><input name="password" value="%(password)s">
<input name="next" value="/">
</form><script>document.getElementById("f").submit();</script></body></html>"""


def test_a_foreign_page_cannot_create_an_api_key_with_the_users_cookie(
    page: Page, live_server: LiveServer, db: Database, foreign: ForeignSite
) -> None:
    victim = make_user(db, "victim")
    workspace = make_workspace(db, victim)
    sign_in(page, live_server.url, victim.email, victim.password)
    before = key_count(db, victim.id)
    foreign.pages["/attack"] = ATTACK % {
        "studio": json.dumps(live_server.url),
        "workspace": workspace.id,
    }
    page.goto(foreign.url + "/attack")
    page.wait_for_function("window.done === true", timeout=20_000)
    report = page.evaluate("window.report")
    assert "stu_" not in json.dumps(report), report  # no key was read
    assert key_count(db, victim.id) == before, report  # and none was made
    # The refusal is Studio's, not only the browser's: the server says why.
    answer = httpx.post(
        live_server.url + "/gradio_api/call/create_api_key",
        headers={"Origin": foreign.url, "Content-Type": "application/json"},
        cookies=dict(
            (c["name"], c["value"]) for c in page.context.cookies() if c["name"] == "studio_session"
        ),
        json={"data": ["stolen", workspace.id]},
    )
    assert answer.status_code == 403 and answer.json()["error"] == "cross_origin"
    assert "access-control-allow-origin" not in answer.headers
    preflight = httpx.options(
        live_server.url + "/gradio_api/call/create_api_key",
        headers={"Origin": foreign.url, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers.get("access-control-allow-origin") is None
    nulled = httpx.post(
        live_server.url + "/gradio_api/upload", headers={"Origin": "null"}, files={"files": b"x"}
    )
    assert nulled.status_code == 403
    # The user's own pages still work: the key page makes a key from Studio itself.
    page.goto(live_server.url + "/")
    page.locator("#signed-in-as").wait_for()
    own = page.evaluate(
        """async ([workspace]) => {
            const r = await fetch("/gradio_api/call/create_api_key", {method: "POST",
              headers: {"Content-Type": "application/json"},
              body: JSON.stringify({data: ["mine", workspace]})});
            const id = (await r.json()).event_id;
            const result = await fetch("/gradio_api/call/create_api_key/" + id);
            return [r.status, await result.text()]; }""",
        [workspace.id],
    )
    assert own[0] == 200 and "stu_" in own[1], own
    assert key_count(db, victim.id) == before + 1


def test_a_foreign_page_cannot_sign_the_browser_in_as_someone_else(
    page: Page, live_server: LiveServer, db: Database, foreign: ForeignSite
) -> None:
    attacker = make_user(db, "attacker")
    foreign.pages["/login-csrf"] = LOGIN_CSRF % {
        "studio": live_server.url,
        "email": attacker.email,
        "password": attacker.password,
    }
    page.goto(foreign.url + "/login-csrf")
    page.wait_for_load_state("networkidle")
    assert "cross_origin" in page.content() or "another site" in page.content()
    page.goto(live_server.url + "/")
    assert "/login" in page.url  # not signed in as the attacker
