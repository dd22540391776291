"""Shared widgets and input helpers for the Gradio pages."""

from typing import Any

import gradio as gr


def id_dropdown(label: str, **kwargs: Any) -> gr.Dropdown:
    """A dropdown whose choices are (label, database id) pairs filled per user.

    allow_custom_value: Gradio checks values against the choices the
    component was built with (none), not the ones a user was shown. The
    handler validates the id instead, and the service checks access.
    """
    return gr.Dropdown(label=label, choices=[], allow_custom_value=True, **kwargs)


def optional_id(value: Any, what: str) -> int | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        raise gr.Error(f"Choose a {what} from the list.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise gr.Error(f"Choose a {what} from the list.")


def required_id(value: Any, what: str) -> int:
    chosen = optional_id(value, what)
    if chosen is None:
        raise gr.Error(f"Choose a {what} first.")
    return chosen
