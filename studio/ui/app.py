"""The Gradio app: a left navigation and one page per file in ui/pages/."""

from typing import Any

import gradio as gr

from studio.db.session import Database
from studio.generation.context import Generation
from studio.ui import generate
from studio.ui.actions import ui_action
from studio.ui.pages import account, jams, projects, workspaces

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
        ws_page = workspaces.build(db)
        projects_page = projects.build(db, generation, media_secret)
        generate_page = generate.build(db, generation, media_secret)
        jams_page = jams.build(db, generation, media_secret)
        account_page = account.build(db)

    columns = [
        ws_page.column,
        projects_page.column,
        generate_page.column,
        jams_page.column,
        account_page.column,
    ]

    def signed_in_as(request: gr.Request) -> str:
        with ui_action(db, request) as (_, actor):
            return f"Signed in as\n\n**{actor.user.display_name}**\n\n{actor.user.email}"

    with blocks:
        for index, button in enumerate(nav_buttons):
            button.click(
                _show_only(index, len(columns)),
                None,
                columns,
                api_visibility="private",
                queue=False,
            )
        blocks.load(signed_in_as, None, who, api_visibility="private")
        blocks.load(_first_workspace(ws_page), None, ws_page.outputs, api_visibility="private")
        blocks.load(account_page.refresh, None, account_page.outputs, api_visibility="private")
        blocks.load(
            _first_workspace(generate_page), None, generate_page.outputs, api_visibility="private"
        )
        blocks.load(
            _first_project(projects_page), None, projects_page.outputs, api_visibility="private"
        )
        blocks.load(jams_page.refresh, None, jams_page.outputs, api_visibility="private")
        # Opening Account also refreshes it (keys may have changed elsewhere).
        nav_buttons[[key for _, key in NAV].index("account")].click(
            account_page.refresh, None, account_page.outputs, api_visibility="private"
        )
    blocks.queue(default_concurrency_limit=EVENT_CONCURRENCY)
    return blocks


def _show_only(index: int, count: int) -> Any:
    def handler() -> list[Any]:
        return [gr.update(visible=i == index) for i in range(count)]

    return handler


def _first_workspace(page: workspaces.WorkspacesPage | generate.GeneratePage) -> Any:
    def handler(request: gr.Request) -> tuple[Any, ...]:
        return page.refresh(None, request)

    return handler


def _first_project(page: projects.ProjectsPage) -> Any:
    def handler(request: gr.Request) -> tuple[Any, ...]:
        return page.refresh(request)

    return handler
