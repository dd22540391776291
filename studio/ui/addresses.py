"""Addresses: every view of the app has one, `/?view=<page>&<what it shows>`.

| view | address |
| --- | --- |
| a workspace's home | `/?view=workspaces&ws=<slug>` |
| a workspace's projects | `/?view=projects&ws=<slug>` |
| a project | `/?view=projects&project=<id>[&tab=board|list|activity|cut|compare]` |
| a shot | `/?view=projects&project=<id>&shot=<id>` (project optional) |
| a take | `/?view=projects&project=<id>&shot=<id>&take=<id>` (project, shot optional) |
| a rough cut | `/?view=projects&project=<id>&tab=cut&cut=<id>` |
| jams | `/?view=jams[&jam=<slug>][&tab=...][&entry=<id>]` (see ui/jams/page.py) |
| Generate, Account | `/?view=generate`, `/?view=account` |

The shell (ui/app.py) reads the address on load (`START_JS` hands it over) and
on Back / Forward or a link (`static/nav.js`, the `navigate` event), shows the
page it names and calls that page's `route(query, request)`. Each route checks
who is asking; what this person cannot open gives the page's default view and
a note, never the item's data or name. Pages push their address after a person
opens something (`window.studioNav`), never from a handler.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
# window.studioNav: history, links and copy-link (see static/nav.js).
NAV_JS = (STATIC_DIR / "nav.js").read_text(encoding="utf-8")
PAGES = ("workspaces", "projects", "generate", "jams", "account")
DEFAULT_PAGE = "workspaces"
KEYS = ("view", "ws", "project", "shot", "take", "tab", "cut", "jam", "entry")
MAX_VALUE_CHARS = 200
MAX_ADDRESS_CHARS = 2000
# The load event's js: the address in the bar is the handler's input.
START_JS = "() => [location.search]"


def parse(search: Any) -> dict[str, str]:
    """`?view=projects&shot=3` -> {"view": "projects", "shot": "3"}: known keys only,
    the first value of each, values cut to a sane length. Never raises."""
    text = str(search or "")[:MAX_ADDRESS_CHARS].lstrip("?")
    query: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=False):
        if key in KEYS and key not in query:
            query[key] = value.strip()[:MAX_VALUE_CHARS]
    return query


def from_event(data: Any) -> dict[str, str]:
    """A query sent by static/nav.js (an object of strings), cleaned like `parse`."""
    if not isinstance(data, dict):
        return {}
    return {
        key: str(value).strip()[:MAX_VALUE_CHARS]
        for key, value in data.items()
        if key in KEYS and isinstance(value, str | int) and str(value).strip()
    }


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
