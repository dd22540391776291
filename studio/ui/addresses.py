"""Addresses: every view of the app has one, `<page path>?<what it shows>`.

| view | address |
| --- | --- |
| a workspace's home | `/?ws=<slug>` |
| a workspace's projects | `/projects?ws=<slug>` |
| a project | `/projects?project=<id>[&tab=board|list|activity|cut|compare]` |
| a shot | `/projects?project=<id>&shot=<id>` (project optional) |
| a take | `/projects?project=<id>&shot=<id>&take=<id>` (project, shot optional) |
| a rough cut | `/projects?project=<id>&tab=cut&cut=<id>` |
| jams | `/jams[?jam=<slug>][&tab=...][&entry=<id>]` (see ui/jams/page.py) |
| Generate, Account | `/generate[?ws=<slug>]`, `/account` |

Each page is a Gradio page of its own (ui/app.py). It reads the address on
load (`START_JS` hands it over) and on Back / Forward or a link within the page
(`static/nav.js`, the `navigate` event) calls the page's `route(query,
request)`. Each route checks who is asking; what this person cannot open gives
the page's default view and a note, never the item's data or name. Pages push
their address after a person opens something (`window.studioNav`), never from a
handler.

The older form `/?view=<page>&...` (and `/?page=<page>&...`) still opens the
view: the server moves it to the page's path (`moved_address`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
# window.studioNav: history, links and copy-link (see static/nav.js).
NAV_JS = (STATIC_DIR / "nav.js").read_text(encoding="utf-8")
PAGES = ("workspaces", "projects", "generate", "jams", "account")
DEFAULT_PAGE = "workspaces"
# Where each page lives (the default page is Gradio's root page).
PAGE_PATHS = {page: "/" if page == DEFAULT_PAGE else f"/{page}" for page in PAGES}
KEYS = ("view", "ws", "project", "shot", "take", "tab", "cut", "jam", "entry")
MAX_VALUE_CHARS = 200
MAX_ADDRESS_CHARS = 2000
# The load event's js: the address in the bar is the handler's input.
START_JS = "() => [location.search]"
# Once the first view is on screen: route again if Back or a link came first.
STARTED_JS = "() => { if (window.studioNav) window.studioNav.started(); return []; }"
# `navigate`'s js, run when the event runs (also when Gradio runs a deferred one
# again): the address in the bar now, and nav.js's count of navigations.
NAVIGATE_JS = "() => [location.search, window.studioNav ? window.studioNav.seq() : 0]"


def parse(search: Any) -> dict[str, str]:
    """`?view=projects&shot=3` -> {"view": "projects", "shot": "3"}: known keys only,
    the first value of each, values cut to a sane length. Never raises."""
    text = str(search or "")[:MAX_ADDRESS_CHARS].lstrip("?")
    query: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=False):
        if key in KEYS and key not in query:
            query[key] = value.strip()[:MAX_VALUE_CHARS]
    return query


def href(page: str, **query: object) -> str:
    """The address of a view: `href("projects", project=3)` -> `/projects?project=3`
    (values that are None are left out)."""
    path = PAGE_PATHS[page]
    given = urlencode({k: str(v) for k, v in query.items() if v is not None})
    return f"{path}?{given}" if given else path


def moved_address(path: str, query: str) -> str | None:
    """Where an address of the older one-page form goes now: `/?view=jams&jam=x` ->
    `/jams?jam=x` (`page` for `view` too, and an address that names a take, shot...
    without a page). None when the address is already right."""
    if path != "/" or not query:
        return None
    given: dict[str, str] = {}
    for key, value in parse_qsl(query[:MAX_ADDRESS_CHARS], keep_blank_values=False):
        given.setdefault("view" if key == "page" else key, value)
    page = page_of(given)
    if "view" not in given and page == DEFAULT_PAGE:
        return None  # `/?ws=<slug>`: the default page's own address
    rest = {k: v for k, v in parse(urlencode(given)).items() if k != "view"}
    return href(page, **rest)


def page_of(query: dict[str, str]) -> str:
    """The page an address names; an address without one says it by what it holds."""
    page = query.get("view", "")
    if page in PAGES:
        return page
    if "jam" in query or "entry" in query:
        return "jams"
    if {"project", "shot", "take", "cut"} & set(query):
        return "projects"
    return DEFAULT_PAGE


def project_push_js(depth: int) -> str:
    """js of an event a person started on the Projects page: put the view's address
    in the bar. Its inputs are the pickers (ids): project (depth 1), + shot (2),
    + take (3); the others are left out of the address."""
    names = ["project", "shot", "take"][:depth]
    given = ", ".join(names + ["null"] * (3 - depth))
    return (
        f"({', '.join(names)}) => {{ "
        f"if (window.studioNav) window.studioNav.projects({given}); return []; }}"
    )
