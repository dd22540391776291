"""Account: who I am, API keys (create once-shown, list, revoke), webhook deliveries
(workspace admins: the log and a re-send), password, sign out.

Address: `/account` (route). Errors show beside the action (inline_errors).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import gradio as gr

from studio.accounts import apikeys
from studio.accounts import service as accounts
from studio.accounts.models import Role
from studio.db.session import Database
from studio.generation import webhooks
from studio.ui.actions import ui_action
from studio.ui.inline_errors import error_line, in_place
from studio.ui.widgets import id_dropdown, required_id

SIGN_OUT_FORM = """<form method="post" action="/logout" class="signout-form">
<button type="submit" class="lg secondary signout-button" id="sign-out">Sign out everywhere</button>
</form>"""


@dataclass
class AccountPage:
    column: gr.Column
    outputs: list[Any]  # every component `route` and `refresh` may update
    route: Callable[[dict[str, str], gr.Request], dict[Any, Any]]
    refresh: Callable[..., dict[Any, Any]]


def _when(iso: str | None) -> str:
    return iso[:16].replace("T", " ") + " UTC" if iso else "never"


# The event id is "evt_" + the task id: one column says both.
DELIVERY_HEADERS = ["Event", "Status", "Attempts", "Last answer", "Next attempt", "Created"]


def _iso_when(value: datetime | None) -> str:
    return _when(value.isoformat()) if value else "—"


def _delivery_row(view: webhooks.DeliveryView) -> list[Any]:
    status = "sending…" if view.in_flight else view.status.value
    if view.last_status_code is not None:
        answer = f"HTTP {view.last_status_code}"
    else:
        answer = view.last_error or "—"
    return [
        view.event_id,
        status,
        view.attempts,
        answer,
        _iso_when(view.next_attempt_at),
        _iso_when(view.created_at),
    ]


def build(db: Database) -> AccountPage:
    with gr.Column(elem_id="page-account") as column:
        gr.Markdown("## Account")
        profile = gr.Markdown(elem_id="account-profile")
        gr.Markdown("### API keys")
        gr.Markdown(
            "A key acts as you inside one workspace, for scripts and the JSON API "
            "(`Authorization: Bearer <key>`).",
            elem_classes=["hint"],
        )
        with gr.Row():
            key_name = gr.Textbox(
                label="Key name", placeholder="render-farm script", scale=2, elem_id="key-name"
            )
            key_workspace = id_dropdown("Workspace", scale=2, elem_id="key-workspace")
            create_btn = gr.Button("Create key", variant="primary", scale=1, elem_id="key-create")
        key_error = error_line("key-error")
        new_key = gr.Textbox(
            label="Your new key: copy it now, it is shown only once",
            visible=False,
            interactive=False,
            buttons=["copy"],
            elem_id="new-api-key",
        )
        keys = gr.Dataframe(
            headers=["Name", "Prefix", "Workspace", "Created", "Last used", "Status"],
            label="Your keys",
            interactive=False,
            elem_id="api-keys",
        )
        no_keys = gr.Markdown("You have no API keys yet.", visible=False, elem_id="key-none")
        with gr.Row():
            revoke_pick = id_dropdown("Key to revoke", scale=3, elem_id="key-revoke-pick")
            revoke_btn = gr.Button("Revoke…", variant="stop", scale=1, elem_id="key-revoke")
        with gr.Row(visible=False) as confirm_row:
            gr.Markdown("Revoke this key? Scripts using it stop working at once.")
            confirm_btn = gr.Button("Yes, revoke", variant="stop", elem_id="key-confirm-revoke")
            cancel_btn = gr.Button("Cancel")
        revoke_error = error_line("key-revoke-error")
        gr.Markdown("### Webhook deliveries")
        gr.Markdown(
            "Every task end is sent to your workspace's webhook, retried with backoff "
            "until the receiver answers 2xx. Workspace admins see the log and can "
            "re-send an event (same event id, so receivers can tell).",
            elem_classes=["hint"],
        )
        with gr.Row():
            hook_workspace = id_dropdown("Webhook log for", scale=3, elem_id="webhook-workspace")
            hook_show = gr.Button("Show deliveries", scale=1, elem_id="webhook-show")
        deliveries = gr.Dataframe(
            headers=DELIVERY_HEADERS,
            label="Deliveries, newest first",
            interactive=False,
            elem_id="webhook-deliveries",
        )
        with gr.Row():
            resend_pick = gr.Dropdown(
                label="Event to re-send",
                choices=[],
                allow_custom_value=True,
                scale=3,
                elem_id="webhook-resend-pick",
            )
            resend_btn = gr.Button("Re-send", scale=1, elem_id="webhook-resend")
        hook_error = error_line("webhook-error")
        with gr.Accordion("Change password", open=False):
            current = gr.Textbox(
                label="Current password", type="password", elem_id="password-current"
            )
            fresh = gr.Textbox(
                label="New password (10+ characters)", type="password", elem_id="password-new"
            )
            again = gr.Textbox(
                label="New password again", type="password", elem_id="password-again"
            )
            password_btn = gr.Button("Change password", elem_id="password-change")
            password_error = error_line("password-error")
            password_note = gr.Markdown(elem_id="password-note")
        gr.Markdown("### Sign out")
        gr.HTML(SIGN_OUT_FORM)

    def refresh(request: gr.Request) -> dict[Any, Any]:
        with ui_action(db, request) as (session, actor):
            user = actor.user
            mine = accounts.list_my_workspaces(session, actor)
            rows = apikeys.list_keys(session, actor)
        active = [r for r in rows if not r.revoked]
        admin_of = [m for m in mine if m.role.at_least(Role.ADMIN)]
        return {
            profile: f"Signed in as **{user.display_name}** ({user.email})"
            + (" · site admin" if user.is_admin else ""),
            key_workspace: gr.update(
                choices=[(m.workspace.name, m.workspace.id) for m in mine],
                info=None if mine else "Keys act inside a workspace: join or create one first.",
            ),
            keys: [
                [
                    r.name,
                    r.prefix,
                    r.workspace_name,
                    _when(r.created_at),
                    _when(r.last_used_at),
                    "revoked" if r.revoked else "active",
                ]
                for r in rows
            ],
            no_keys: gr.update(visible=not rows),
            revoke_pick: gr.update(
                choices=[(f"{r.name} ({r.prefix}…)", r.id) for r in active], value=None
            ),
            hook_workspace: gr.update(
                choices=[(m.workspace.name, m.workspace.id) for m in admin_of]
            ),
        }

    outputs = [profile, key_workspace, keys, no_keys, revoke_pick, hook_workspace]

    @in_place(hook_error)
    def show_deliveries(workspace_id: Any, request: gr.Request) -> dict[Any, Any]:
        with ui_action(db, request) as (session, actor):
            views = webhooks.list_deliveries(session, actor, required_id(workspace_id, "workspace"))
        return {
            deliveries: [_delivery_row(v) for v in views],
            resend_pick: gr.update(
                choices=[(f"{v.event_id} ({v.status.value})", v.event_id) for v in views],
                value=None,
            ),
        }

    def picked_workspace(workspace_id: Any, request: gr.Request) -> dict[Any, Any]:
        if workspace_id in (None, ""):
            return {}
        return show_deliveries(workspace_id, request)

    @in_place(hook_error)
    def resend(workspace_id: Any, event_id: Any, request: gr.Request) -> dict[Any, Any]:
        if not isinstance(event_id, str) or not event_id.strip():
            raise gr.Error("Choose an event to re-send first.")
        with ui_action(db, request) as (session, actor):
            webhooks.resend_delivery(
                session, actor, required_id(workspace_id, "workspace"), event_id
            )
        gr.Info("Queued: the event goes out again within a few seconds.")
        return show_deliveries(workspace_id, request)

    def route(query: dict[str, str], request: gr.Request) -> dict[Any, Any]:
        """`/account`: there is one view; the query names nothing else."""
        return refresh(request)

    @in_place(key_error)
    def create(name: Any, workspace_id: Any, request: gr.Request) -> dict[Any, Any]:
        with ui_action(db, request) as (session, actor):
            created = apikeys.create_key(
                session,
                actor,
                workspace_id=required_id(workspace_id, "workspace"),
                name=str(name or ""),
            )
            secret = created.secret
        return {new_key: gr.update(value=secret, visible=True), key_name: "", **refresh(request)}

    @in_place(revoke_error)
    def revoke(key_id: Any, request: gr.Request) -> dict[Any, Any]:
        with ui_action(db, request) as (session, actor):
            apikeys.revoke_key(session, actor, required_id(key_id, "key"))
        gr.Info("Key revoked.")
        return {confirm_row: gr.update(visible=False), **refresh(request)}

    @in_place(revoke_error)
    def ask_revoke(key_id: Any) -> dict[Any, Any]:
        required_id(key_id, "key")
        return {confirm_row: gr.update(visible=True)}

    @in_place(password_error)
    def change_password(old: Any, new: Any, repeat: Any, request: gr.Request) -> dict[Any, Any]:
        if new != repeat:
            raise gr.Error("The two new passwords differ.")
        with ui_action(db, request) as (session, actor):
            accounts.change_password(session, actor, current=str(old or ""), new=str(new or ""))
        return {
            current: "",
            fresh: "",
            again: "",
            password_note: "Password changed. Every session has been signed out: "
            "[sign in again](/login) with the new password.",
        }

    create_btn.click(
        create,
        [key_name, key_workspace],
        [new_key, key_name, key_error, *outputs],
        api_name="create_api_key",
        show_progress="minimal",
    )
    revoke_btn.click(
        ask_revoke, [revoke_pick], [confirm_row, revoke_error], api_visibility="private"
    )
    cancel_btn.click(lambda: gr.update(visible=False), None, confirm_row, api_visibility="private")
    confirm_btn.click(
        revoke,
        [revoke_pick],
        [confirm_row, revoke_error, *outputs],
        api_name="revoke_api_key",
        show_progress="minimal",
    )
    hook_show.click(
        show_deliveries,
        [hook_workspace],
        [deliveries, resend_pick, hook_error],
        api_name="webhook_deliveries",
    )
    hook_workspace.change(
        picked_workspace,
        [hook_workspace],
        [deliveries, resend_pick, hook_error],
        api_visibility="private",
    )
    resend_btn.click(
        resend,
        [hook_workspace, resend_pick],
        [deliveries, resend_pick, hook_error],
        api_name="resend_webhook",
    )
    password_btn.click(
        change_password,
        [current, fresh, again],
        [current, fresh, again, password_error, password_note],
        api_name="change_password",
        show_progress="minimal",
    )
    return AccountPage(column=column, outputs=outputs, route=route, refresh=refresh)
