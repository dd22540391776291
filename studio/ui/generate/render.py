"""The Generate page's HTML: the queue and the recent takes, through templates."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

from studio.generation import service as jobs
from studio.generation.models import JobStatus
from studio.generation.runway import runway_status
from studio.ui.task_status import STATUS_CLASS
from studio.ui.templating import render

HISTORY_SIZE = 24


def prompt_of(view: jobs.JobView) -> str:
    return str(view.params.get("user_prompt") or view.params.get("prompt") or "")


def label(view: jobs.JobView) -> str:
    """How a job is named in the pickers: short id, model, the start of its prompt."""
    return f"{view.public_id[:8]} · {view.model_key} · {(prompt_of(view) or view.mode)[:40]}"


def queue_html(active: list[jobs.JobView]) -> Markup:
    rows = []
    for view in active:
        status = runway_status(view)
        percent = round(view.progress * 100)
        if view.status == JobStatus.QUEUED:
            detail = jobs.wait_text(view)  # why it waits: its turn, a limit, no worker
        else:
            detail = "stopping…" if view.cancel_requested else f"{percent}%"
        rows.append(
            {
                "id": view.public_id,
                "short": view.public_id[:8],
                "model": view.model_key,
                "prompt": (prompt_of(view) or view.mode)[:40],
                "css": STATUS_CLASS[status],
                "status": status.lower(),
                "percent": percent,
                "detail": detail,
            }
        )
    return render("generate/queue.html", rows=rows)


def history_html(done: list[jobs.JobView], url: Callable[[int], str]) -> Markup:
    """Finished takes, newest first; `url` signs a media asset's address."""
    cards = []
    for view in done[:HISTORY_SIZE]:
        status = runway_status(view)
        p = view.params
        src = url(view.output_asset_id) if view.output_asset_id else ""
        duration = p.get("duration")
        cards.append(
            {
                "id": view.public_id,
                "short": view.public_id[:8],
                "video": bool(src) and view.output_mime == "video/mp4",
                "src": src,
                "poster": url(view.poster_asset_id) if view.poster_asset_id else "",
                "problem": view.error_message or status.lower(),
                "css": STATUS_CLASS[status],
                "status": status.lower(),
                "model": view.model_key,
                "seed": p.get("seed"),
                "length": f"{duration} s" if duration else "image",
                "ratio": p.get("ratio"),
                "prompt": prompt_of(view)[:120],
            }
        )
    return render("generate/history.html", cards=cards)
