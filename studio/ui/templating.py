"""HTML for the pages, only through autoescaping Jinja2 templates.

Every page package keeps its templates in its own ``templates/`` folder:
``render("projects/board.html", ...)`` reads
``studio/ui/projects/templates/board.html``. Autoescaping is always on, and
an undefined name is an error rather than an empty string, so a renderer
cannot silently drop a value or let a user's text through unescaped.
A fragment that is already safe HTML (another rendered template) is passed
as ``Markup`` and left alone.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FunctionLoader, StrictUndefined
from markupsafe import Markup

UI_DIR = Path(__file__).resolve().parent

__all__ = ["Markup", "render", "render_string"]


def _load(name: str) -> tuple[str, str, Any] | None:
    """``<page>/<file>`` -> ``studio/ui/<page>/templates/<file>`` (nothing outside it)."""
    page, _, file = name.partition("/")
    if not page.isidentifier() or not file or ".." in file.split("/"):
        return None
    path = UI_DIR / page / "templates" / file
    if not path.is_file():
        return None
    mtime = path.stat().st_mtime
    return path.read_text(encoding="utf-8"), str(path), lambda: path.stat().st_mtime == mtime


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FunctionLoader(_load),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    return env


def render(name: str, **context: Any) -> Markup:
    """Render a page package's template; the result is safe to embed in another."""
    # Safe: autoescaping is on, so every value was escaped while rendering.
    return Markup(environment().get_template(name).render(**context))  # noqa: S704


def render_string(source: str, **context: Any) -> Markup:
    """A small inline template (for one-line fragments), autoescaped like the files."""
    return Markup(environment().from_string(source).render(**context))  # noqa: S704
