"""The Generate page: a model's controls, the queue, recent takes. See page.py."""

from studio.ui.generate.page import GeneratePage, build

__all__ = ["GeneratePage", "build"]
