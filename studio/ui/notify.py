"""Toasts for the pages."""

import gradio as gr


def notify(message: str) -> None:
    """A short toast: the page itself shows the result, this only confirms it."""
    gr.Info(message, duration=3)
