"""The Gradio app: a left navigation and one page per package, each view at
its own address (see ui/addresses.py).

On load the shell reads the address in the bar, shows the page it names and
opens that page's view through the page's `route(query, request)`; the other
pages get their default view. Back / Forward and in-page links come back
through `navigate` (static/nav.js sends the query), which routes only the
page they name. Every route checks who is asking.
"""

from collections.abc import Callable
from typing import Any

import gradio as gr

from studio.db.session import Database
from studio.generation.context import Generation
from studio.ui import account, addresses, generate, jams, workspaces
from studio.ui.actions import ui_action
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


def build_blocks(db: Database, generation: Generation, media_secret: str) -> gr.Blocks:
    with gr.Blocks(title="Studio", fill_width=True) as blocks:
        with gr.Sidebar(open=True, elem_id="nav"):
            gr.HTML(
                '<div class="brand"><img src="/static/logo.svg" alt="" width="28" height="28">'
                "<span>Studio</span></div>"
            )
            who = gr.Markdown(elem_id="signed-in-as")
            nav_buttons = [
                gr.Button(label, elem_id=f"nav-{key}", elem_classes=["nav-item"], size="md")
                for label, key in NAV
            ]
            # History, links and copy-link (static/nav.js); never shows anything.
            router = gr.HTML(
                "",
                elem_id="studio-nav",
                js_on_load=addresses.NAV_JS,
                container=False,
                padding=False,
            )
            address = gr.Textbox(visible=False, elem_id="studio-address")  # load: location.search
        ws_page = workspaces.build(db, generation, media_secret)
        projects_page = projects.build(db, generation, media_secret)
        generate_page = generate.build(db, generation, media_secret)
        jams_page = jams.build(db, generation, media_secret)
        account_page = account.build(db)

    columns = {
        "workspaces": ws_page.column,
        "projects": projects_page.column,
        "generate": generate_page.column,
        "jams": jams_page.column,
        "account": account_page.column,
    }
    routes: dict[str, Route] = {
        "workspaces": ws_page.route,
        "projects": projects_page.route,
        "generate": _generate_route(generate_page),
        "jams": jams_page.route,
        "account": account_page.route,
    }
    outputs = [
        *columns.values(),
        *ws_page.outputs,
        *projects_page.outputs,
        *generate_page.outputs,
        *jams_page.outputs,
        *account_page.outputs,
    ]

    def shown(page: str) -> dict[Any, Any]:
        return {column: gr.update(visible=key == page) for key, column in columns.items()}

    def start(search: Any, request: gr.Request) -> dict[Any, Any]:
        """The first view: the address's page opened at what it names, the others at
        their default view (they are a click away in the sidebar)."""
        query = addresses.parse(search)
        page = addresses.page_of(query)
        out = shown(page)
        for key, route in routes.items():
            out.update(route(query if key == page else {}, request))
        return out

    def navigate(event: gr.EventData, request: gr.Request) -> dict[Any, Any]:
        """Back / Forward or a link: the page the address names, opened at it."""
        query = addresses.from_event(event._data)
        page = addresses.page_of(query)
        return shown(page) | routes[page](query, request)

    def signed_in_as(request: gr.Request) -> str:
        with ui_action(db, request) as (_, actor):
            return f"Signed in as\n\n**{actor.user.display_name}**\n\n{actor.user.email}"

    with blocks:
        for (_, key), button in zip(NAV, nav_buttons, strict=True):
            button.click(
                _show_only(key, columns),
                None,
                list(columns.values()),
                api_visibility="private",
                queue=False,
                # The page's latest address goes to the bar (a history entry).
                js=f"() => {{ if (window.studioNav) window.studioNav.show({key!r}); }}",
            )
        blocks.load(signed_in_as, None, who, api_visibility="private")
        blocks.load(start, [address], outputs, api_name="open_address", js=addresses.START_JS)
        # always_last: a Back pressed while the previous one is served still counts
        # (the default, "once", drops events that arrive while one is pending).
        router.click(
            navigate,
            None,
            outputs,
            api_visibility="private",
            show_progress="hidden",
            trigger_mode="always_last",
        )
        # Opening Account also refreshes it (keys may have changed elsewhere).
        nav_buttons[[key for _, key in NAV].index("account")].click(
            account_page.refresh, None, account_page.outputs, api_visibility="private"
        )
    blocks.queue(default_concurrency_limit=EVENT_CONCURRENCY)
    return blocks


def _show_only(page: str, columns: dict[str, Any]) -> Callable[[], list[Any]]:
    def handler() -> list[Any]:
        return [gr.update(visible=key == page) for key in columns]

    return handler


def _generate_route(page: generate.GeneratePage) -> Route:
    """Generate has one view per workspace; it opens at the first one for now."""

    def route(query: dict[str, str], request: gr.Request) -> dict[Any, Any]:
        out = page.refresh(None, request)
        return out if isinstance(out, dict) else dict(zip(page.outputs, out, strict=True))

    return route
