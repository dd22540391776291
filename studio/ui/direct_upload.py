"""The direct-upload widget: a file input, a progress bar and a status line that
static/upload.js drives (the bytes go from the browser to the media store).

A page adds `widget(...)` and a button whose js-only click event passes the
target (shot id, jam slug and entry fields) to `window.studioUpload`; no
Gradio handler ever receives the file.
"""

from __future__ import annotations

import gradio as gr
from markupsafe import Markup, escape

VIDEO_ACCEPT = "video/mp4,video/quicktime,video/webm,video/x-matroska,.mp4,.mov,.webm,.mkv"


def widget(elem_id: str, label: str, accept: str = VIDEO_ACCEPT) -> gr.HTML:
    html = Markup(
        '<div class="direct-upload">'
        '<label>{label} <input type="file" accept="{accept}"></label>'
        '<progress max="100" value="0" style="width: 100%" hidden></progress>'
        '<p class="upload-warning" role="alert" hidden></p>'
        '<p class="upload-status" role="status" aria-live="polite"></p>'
        "</div>"
    ).format(label=escape(label), accept=escape(accept))
    return gr.HTML(html, elem_id=elem_id)


def take_js(elem_id: str) -> str:
    """The click handler: (shot id) -> upload the chosen file as a take of that shot."""
    return f"(shot) => window.studioUpload.take(shot, {elem_id!r})"


def film_js(elem_id: str, submit: bool) -> str:
    """(jam slug, title, logline, credits) -> upload the film and save/submit the entry with it,
    dated when the completed upload is attached (the deadline rule's moment)."""
    flag = "true" if submit else "false"
    return (
        "(slug, title, logline, credits) => window.studioUpload.film(slug, "
        f"{{title, logline, credits, submit: {flag}}}, {elem_id!r})"
    )
