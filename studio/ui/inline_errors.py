"""Errors beside the action that caused them; the form stays as it was.

A handler that raises `gr.Error` makes Gradio mark every output of the event
with a red "Error" badge, hiding the very fields a person has to correct. So
each action gets its own error line (`error_line`) right beside its button,
and its handler is wrapped with `in_place(line)`: a `gr.Error` (which
`ui_action` makes of every StudioError, and `widgets.required_id` raises for
a bad pick) becomes that line's text, and no other output changes. On
success the line is cleared and hidden. Toasts (`notify`) are for success
only.

Handlers bind outputs by name: they return a dict component -> value, and
the event's outputs must include the error line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gradio as gr

from studio.ui.templating import render_string

Handler = Callable[..., dict[Any, Any]]
ERROR_HTML = '<div class="action-error" role="alert">{{ message }}</div>'


def error_line(elem_id: str) -> gr.HTML:
    """The place an action's errors are shown: empty and hidden until one happens."""
    return gr.HTML(
        "",
        visible=False,
        elem_id=elem_id,
        elem_classes=["action-error-line"],
        container=False,
        padding=False,
    )


def shown(message: str) -> dict[str, Any]:
    """The update that shows `message` (escaped) in an error line."""
    return gr.update(value=str(render_string(ERROR_HTML, message=message)), visible=True)


def cleared() -> dict[str, Any]:
    return gr.update(value="", visible=False)


def in_place(line: gr.HTML) -> Callable[[Handler], Handler]:
    """Wrap a handler: its gr.Error goes to `line`, nothing else changes."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(*args: Any, **kwargs: Any) -> dict[Any, Any]:
            try:
                out = handler(*args, **kwargs)
            except gr.Error as exc:
                return {line: shown(str(exc.message))}
            if not isinstance(out, dict):
                raise TypeError(f"{handler.__name__} must return a dict of component -> value")
            return {**out, line: cleared()}

        return run

    return wrap
