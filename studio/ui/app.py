"""The Gradio app: a left navigation and one page per package, each page a
Gradio page of its own (`/`, `/projects`, `/generate`, `/jams`, `/account`)
and each view within it at its own address (see ui/addresses.py).

On load a page reads the address in the bar and opens its view through the
page's `route(query, request)`. Back / Forward and links within the page come
back through `navigate` (static/nav.js triggers it; it reads the address in
the bar and nav.js's count of navigations, and sends nothing when a newer
navigation overtook it: ui/navigation.py); a link to another page, and the
sidebar's buttons, load that page. Every route checks who is asking.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.db.session import Database
from studio.generation.context import Generation
from studio.ui import account, addresses, generate, jams, workspaces
from studio.ui.actions import ui_action
from studio.ui.navigation import NAVIGATION, seq_of
from studio.ui.pages import projects

# Gradio runs each event one at a time for the whole server unless told
# otherwise: a team's page loads and saves would queue behind each other.
# Every handler opens its own session and transaction (ui_action), so events
# may run side by side; the polls set their own, higher limit
# (pages/project_live.POLL_CONCURRENCY).
EVENT_CONCURRENCY = 4

NAV = [
    ("Workspaces", "workspaces"),
    ("Projects", "projects"),
    ("Generate", "generate"),
    ("Jams", "jams"),
    ("Account", "account"),
]
Route = Callable[[dict[str, str], gr.Request], dict[Any, Any]]


@dataclass
class Page:
    """What the shell needs of a page: its outputs and its `route`."""

    outputs: list[Any]
    route: Route


def build_blocks(db: Database, generation: Generation, media_secret: str) -> gr.Blocks:
    """One Gradio app, one Gradio page (its own address and config) per sidebar entry.

    Each page is served alone (`/`, `/projects`, ...: Gradio sends a page only its
    own components and events), so the browser builds one page's components, not
    all five pages' (first paint: bench/first_paint.py). Moving to another page
    is a page load; moving within a page (a shot, a take, Back / Forward between
    them) is an event of that page (`navigate`)."""

    def projects_page() -> Page:
        page = projects.build(db, generation, media_secret)
        return Page(page.outputs, page.route)

    def workspaces_page() -> Page:
        page = workspaces.build(db, generation, media_secret)
        return Page(page.outputs, page.route)

    def generate_page() -> Page:
        page = generate.build(db, generation, media_secret)
        return Page(page.outputs, _generate_route(page))

    def jams_page() -> Page:
        page = jams.build(db, generation, media_secret)
        return Page(page.outputs, page.route)

    def account_page() -> Page:
        page = account.build(db)
        return Page(page.outputs, page.route)

    builders: dict[str, Callable[[], Page]] = {
        "workspaces": workspaces_page,
        "projects": projects_page,
        "generate": generate_page,
        "jams": jams_page,
        "account": account_page,
    }
    with gr.Blocks(title="Studio", fill_width=True) as blocks:
        _shell(blocks, db, addresses.DEFAULT_PAGE, builders[addresses.DEFAULT_PAGE])
    for label, key in NAV:
        if key == addresses.DEFAULT_PAGE:
            continue
        with blocks.route(label, addresses.PAGE_PATHS[key]):
            _shell(blocks, db, key, builders[key])
    blocks.queue(default_concurrency_limit=EVENT_CONCURRENCY)
    return blocks


def _shell(blocks: gr.Blocks, db: Database, key: str, build_page: Callable[[], Page]) -> None:
    """One page: the sidebar, the page itself, and its load and navigation events."""
    gr.Navbar(visible=False)  # Gradio's own page bar; ours is the sidebar
    with gr.Sidebar(open=True, elem_id="nav"):
        gr.HTML(
            '<div class="brand"><img src="/static/logo.svg" alt="" width="28" height="28">'
            "<span>Studio</span></div>"
        )
        who = gr.Markdown(elem_id="signed-in-as")
        # Plain links (they work before the page's scripts do, and open in a new
        # tab with a modifier key); nav.js takes a click to the page's latest
        # address in this tab.
        gr.HTML(_nav_links(key), container=False, padding=False)
        # History, links and copy-link (static/nav.js); never shows anything.
        router = gr.HTML(
            "",
            elem_id="studio-nav",
            js_on_load=addresses.NAV_JS,
            container=False,
            padding=False,
        )
        address = gr.Textbox(visible=False, elem_id="studio-address")  # location.search
        nav_seq = gr.Number(visible=False, elem_id="studio-nav-seq")  # nav.js's count
    page = build_page()
    # Every output left as it is (Gradio reads an empty dict as one value).
    unchanged = {page.outputs[0]: gr.skip()}

    def start(search: Any, request: gr.Request) -> dict[Any, Any]:
        """The page opened at the address in the bar: navigation 0, always sent
        (nav.js routes again if Back or a link came first)."""
        NAVIGATION.begin(request, 0)
        out = page.route(addresses.parse(search), request)
        NAVIGATION.finish(request, 0, key)
        return out

    def navigate(search: Any, seq: Any, request: gr.Request) -> dict[Any, Any]:
        """Back / Forward or a link within this page: the view the address in the bar
        names; nothing when a newer navigation reached the server (ui/navigation.py)."""
        number = seq_of(seq)
        if not NAVIGATION.begin(request, number):
            return unchanged
        out = page.route(addresses.parse(search), request)
        return out if NAVIGATION.finish(request, number, key) else unchanged

    def signed_in_as(request: gr.Request) -> str:
        with ui_action(db, request) as (_, actor):
            return f"Signed in as\n\n**{actor.user.display_name}**\n\n{actor.user.email}"

    blocks.load(signed_in_as, None, who, api_visibility="private")
    # The open_<page> load event is public: programs and tests open an address with it.
    opening = blocks.load(
        start, [address], page.outputs, api_name=f"open_{key}", js=addresses.START_JS
    )
    opening.then(None, None, None, js=addresses.STARTED_JS)
    opening.failure(None, None, None, js=addresses.STARTED_JS)
    # always_last: a Back pressed while the previous one is served still counts
    # (the default, "once", drops events that arrive while one is pending), and
    # one at a time. Gradio runs a deferred event again with the first one's
    # event data, so the address and number are read in `js` when it runs.
    router.click(
        navigate,
        [address, nav_seq],
        page.outputs,
        api_visibility="private",
        show_progress="hidden",
        trigger_mode="always_last",
        js=addresses.NAVIGATE_JS,
    )


def _nav_links(current: str) -> str:
    links = []
    for label, page in NAV:
        here = ' aria-current="page"' if page == current else ""
        links.append(
            f'<a id="nav-{page}" class="nav-item" href="{addresses.PAGE_PATHS[page]}"{here}>'
            f"{label}</a>"
        )
    return '<nav class="nav-links">' + "".join(links) + "</nav>"


def _generate_route(page: generate.GeneratePage) -> Route:
    """Generate has one view per workspace; it opens at the first one for now."""

    def route(query: dict[str, str], request: gr.Request) -> dict[Any, Any]:
        out = page.refresh(None, request)
        return out if isinstance(out, dict) else dict(zip(page.outputs, out, strict=True))

    return route
