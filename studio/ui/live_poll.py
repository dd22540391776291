"""The machinery of a page that keeps itself current by polling a plain route.

A page's live parts are stamped: each part's stamp is a short hash of the
inputs it is rendered from. The page keeps the stamps of what it shows in its
poll part (a hidden mark: the address to ask and the token, `data-have`);
every few seconds, while the tab is visible, its script asks that address with
the token. The route answers `{"have": <token now>, "parts": {part: html},
"render": bool}`: the HTML of the parts whose stamp moved, rendered, and
whether the parts that are Gradio components (not HTML) need a Gradio event,
which the script then fires (the poll part's click). An idle page costs one
small request per tick and nothing of Gradio's queue (a Gradio event costs
the web process ~40 ms of its own before rendering anything).

Two writers of the same HTML (the route's answers, Gradio's events after an
action) need two marks, both in a comment that opens every HTML part:
`<!--part:<sum>-->`, the sum of its content, lets the script skip a part it
already shows (swapping identical HTML would restart every <video> in it);
Gradio's renders add a number of their own, because Gradio does not touch the
page when an event sends the value it sent before, even when the route has
swapped in something else since.

Users: pages/project_live.py (Projects) and generate/live.py (Generate).
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from studio.generation.context import Generation


class LiveSource(Protocol):
    """What rendering a page's live parts needs: the models and settings, and
    the media link signer."""

    @property
    def generation(self) -> Generation: ...

    @property
    def url(self) -> Callable[[int], str]: ...


@dataclass(frozen=True)
class LiveRenderer:
    """A LiveSource outside a page (the poll routes)."""

    generation: Generation
    url: Callable[[int], str]


STAMP_LENGTH = 6  # hex digits per part in the token
UNKNOWN = "-" * STAMP_LENGTH  # a part whose stamp the page does not know: sent next tick
# Gradio's renders of an HTML part carry a number of their own: any increasing one.
_renders = itertools.count(1)


def part_stamps(
    seen: Mapping[str, Any], depends: Mapping[str, Collection[str]], always: Collection[str] = ()
) -> dict[str, str]:
    """Each part's stamp: a short hash of the inputs it is rendered from
    (`depends[part]` and `always`, looked up in `seen`)."""
    out = {}
    for part, keys in depends.items():
        inputs = [(key, seen.get(key)) for key in sorted({*keys, *always})]
        out[part] = hashlib.sha256(repr(inputs).encode()).hexdigest()[:STAMP_LENGTH]
    return out


def token(stamps: Mapping[str, str], order: Sequence[str], shown: Collection[str]) -> str:
    """The poll part's token: the stamps of the parts `shown`, UNKNOWN for the others."""
    return "".join(stamps[part] if part in shown else UNKNOWN for part in order)


def read_token(text: str | None, order: Sequence[str]) -> dict[str, str]:
    """A token back into {part: stamp}; anything else (a page from before, a
    hand-made address) reads as knowing nothing, so every part is sent."""
    if not text or len(text) != STAMP_LENGTH * len(order):
        return {}
    return {part: text[i * STAMP_LENGTH : (i + 1) * STAMP_LENGTH] for i, part in enumerate(order)}


def changed_parts(
    have: Mapping[str, str], stamps: Mapping[str, str], order: Sequence[str]
) -> list[str]:
    """The parts whose stamp differs from the one the page has."""
    return [part for part in order if have.get(part) != stamps[part]]


def answer(
    stamps: Mapping[str, str],
    have: str | None,
    html_parts: Collection[str],
    gradio_parts: Sequence[str],
    render: Callable[[list[str]], Mapping[str, str]],
) -> dict[str, Any]:
    """A poll route's answer, given the stamps now and the page's token `have`:
    the HTML parts whose stamp moved (`render` makes them, asked only when some
    did), the new token, and whether a Gradio part moved. The token covers the
    HTML parts, then the Gradio parts, in their order."""
    order = (*html_parts, *gradio_parts)
    moved = changed_parts(read_token(have, order), stamps, order)
    wanted = [part for part in moved if part in html_parts]
    rendered = render(wanted) if wanted else {}
    return {
        "have": token(stamps, order, order),
        "parts": {part: marked(value) for part, value in rendered.items()},
        "render": any(part in gradio_parts for part in moved),
    }


def marked(html_text: str, render: int | None = None) -> str:
    """An HTML part with its opening comment: the sum of its content, and for a
    Gradio render, that render's number (`next_render()`)."""
    total = hashlib.sha256(html_text.encode()).hexdigest()[:12]
    number = f":{render}" if render is not None else ""
    return f"<!--part:{total}{number}-->{html_text}"


def next_render() -> int:
    return next(_renders)


def mark(address: str, have: str) -> str:
    """The poll part's content: the address to ask and the token of what is shown."""
    return (
        f'<span hidden data-poll="{html.escape(address, quote=True)}" '
        f'data-have="{html.escape(have, quote=True)}"></span>'
    )


def poll_js(element_ids: Mapping[str, str], seconds: float) -> str:
    """The poll part's js_on_load: every `seconds` while the tab is visible, one
    request at a time, ask the mark's address with its token; swap in the parts
    the answer carries (unless their sum says the page shows them already), keep
    the answer's token, and fire this part's click event (the Gradio render) when
    the answer asks for it. An answer for a view the page has left since (the mark
    names another address or token) is dropped. `element_ids`: part -> the
    elem_id of its gr.HTML."""
    return (
        """
const ids = """
        + json.dumps(dict(element_ids))
        + """;
const sumOf = (node) => {
  const first = node.firstChild;
  return first && first.nodeType === Node.COMMENT_NODE ? first.data.split(":")[1] : null;
};
let busy = false;
const tick = async () => {
  if (busy || document.visibilityState !== "visible") return;
  const mark = element.querySelector("[data-poll]");
  if (!mark) return;
  const address = mark.dataset.poll;
  const have = mark.dataset.have;
  busy = true;
  try {
    const joiner = address.includes("?") ? "&" : "?";
    const answer = await fetch(address + joiner + "have=" + encodeURIComponent(have), {
      cache: "no-store",
    });
    if (!answer.ok) return;
    const body = await answer.json();
    const now = element.querySelector("[data-poll]");
    if (!now || now.dataset.poll !== address || now.dataset.have !== have) return;
    for (const [part, html] of Object.entries(body.parts)) {
      const holder = document.querySelector("#" + ids[part] + " .html-container > div");
      if (!holder) continue;
      const sum = /^<!--part:([0-9a-f]+)/.exec(html);
      if (sum && sumOf(holder) === sum[1]) continue;
      holder.innerHTML = html;
    }
    now.dataset.have = body.have;
    if (body.render) trigger("click", {});
  } catch (error) {
    // offline for a moment: the next tick asks again
  } finally {
    busy = false;
  }
};
setInterval(tick, """
        + str(int(seconds * 1000))
        + """);
document.addEventListener("visibilitychange", tick);
"""
    )
