"""Shared widgets and input helpers for the Gradio pages."""

from pathlib import Path
from typing import Any

import gradio as gr
from gradio import utils as gradio_utils

from studio.ui import upload_guard


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


def uploaded_file(value: Any, what: str = "file") -> Path:
    """The path of a file uploaded through Gradio, or gr.Error with a readable reason.

    studio/app.py makes Gradio refuse FileData paths it did not receive as
    uploads (`has_launched`); this is the second line of defence every
    handler that reads a file goes through: the resolved path (symlinks
    followed) must lie inside Gradio's upload folder, and the caller must be
    the person who uploaded it (ui/upload_guard.py records who did). Another
    person's upload gets the same answer as a file that is not there.
    Image inputs take `image_mode=None`: Gradio then hands over the upload
    itself instead of a converted copy (a file nobody uploaded), and never
    decodes it (the handlers decode with their own pixel caps).
    """
    if not value:
        raise gr.Error(f"Choose a {what} first.")
    raw = value.get("path") if isinstance(value, dict) else value
    if not isinstance(raw, (str, Path)):
        raise gr.Error(f"Choose a {what} to upload.")
    path = Path(raw).resolve()
    folder = Path(gradio_utils.get_upload_folder()).resolve()
    if (
        not path.is_file()
        or not gradio_utils.is_in_or_equal(path, folder)
        or not upload_guard.caller_owns(path)
    ):
        raise gr.Error(f"That {what} was not uploaded here: choose the file again.")
    return path
