"""Page HTML goes through autoescaping templates: a user's text can never become markup."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from studio.ui.templating import Markup, render_string

HOSTILE = "<script>alert(1)</script>\"' onload=x &amp;"


def test_values_are_escaped_and_safe_fragments_are_kept() -> None:
    out = render_string(
        '<p title="{{ v }}">{{ v }}</p>{{ frag }}', v=HOSTILE, frag=Markup("<b>ok</b>")
    )
    assert "<script>" not in out
    assert "&lt;script&gt;" in out
    assert "&#34;" in out or "&quot;" in out  # the quote cannot close the attribute
    assert "<b>ok</b>" in out


def test_a_missing_value_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(UndefinedError):
        render_string("{{ missing }}")
