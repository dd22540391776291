"""The browser side of the Jams page: static/jams.js and the events' `js=`."""

from __future__ import annotations

import json
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parents[3] / "static"
# Countdowns, local times, links and row clicks, judge keys: see static/jams.js.
JAMS_JS = (STATIC_DIR / "jams.js").read_text(encoding="utf-8")

# The timer's inputs, from the browser: (picked, shown, list_due, list_rows).
LIVE_JS = """(picked, shown, due, rows) => {
  const page = document.querySelector("#page-jams");
  shown = !document.hidden && !!page && page.offsetParent !== null;
  const holder = document.querySelector("#jam-list");
  const list = holder && holder.querySelector(".jam-list[data-changes]");
  const offset = (window.studioJamClock || {}).offset;
  const now = Date.now() + (Number.isFinite(offset) ? offset : 0);
  due = !!list && Number(list.dataset.changes) <= now;
  rows = holder ? holder.querySelectorAll("tr[data-jam]").length : null;
  return [picked, shown, due, rows];
}"""


def confirm_js(question: str) -> str:
    """An event's `js=`: ask first; throwing cancels the event (nothing is sent)."""
    return (
        f"(...args) => {{ if (!confirm({json.dumps(question)})) "
        "{ throw new Error('cancelled'); } return args; }"
    )


def address_js(tab: str | None = None) -> str:
    """An event's `js=` that puts the picked jam (its first input) and `tab` into the
    address bar: through studio.js (`studioNav.push`) when the page has it, else
    history itself. Nothing is pushed when the address already says so."""
    return (
        "(...args) => { const jam = args[0]; const tab = " + json.dumps(tab) + ";"
        " const now = new URLSearchParams(location.search);"
        " if (jam && (location.pathname !== '/jams' || now.get('jam') !== jam"
        " || (now.get('tab') || null) !== tab || now.get('entry'))) {"
        " const q = { view: 'jams', jam: jam }; if (tab) q.tab = tab;"
        " if (window.studioNav) { window.studioNav.push(q); }"
        " else { history.pushState(null, '', '/jams?' + new URLSearchParams(q)); } }"
        " return args; }"
    )
