"""HTML of the Workspaces home, from service views, through the autoescaping
templates in ./templates. Links are the addresses of UI-CONTRACT
(`<a class="nav-link" href="/projects?...">`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from studio.accounts import service as accounts
from studio.projects import home
from studio.ui.addresses import href
from studio.ui.templating import Markup, render

Url = Callable[[int], str]
STATUS_CLASS = {
    "queued": "todo",
    "running": "progress",
    "succeeded": "approved",
    "failed": "failed",
    "canceled": "omitted",
}
EXCERPT = 140


def workspace_href(slug: str) -> str:
    return href("workspaces", ws=slug)


def project_href(project_id: int) -> str:
    return href("projects", project=project_id)


def shot_href(project_id: int, shot_id: int, take_id: int | None = None) -> str:
    return href("projects", project=project_id, shot=shot_id, take=take_id)


def ago(moment: datetime, now: datetime) -> str:
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h ago"
    days = hours // 24
    return "yesterday" if days == 1 else f"{days} days ago"


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def notice(text: str) -> Markup:
    return render("workspaces/notice.html", text=text)


def first_step(email: str) -> Markup:
    """What a person without a workspace does first: create one, or ask to be added."""
    return render("workspaces/first_step.html", email=email)


def summary(mine: accounts.MyWorkspace, members: int) -> Markup:
    ws = mine.workspace
    return render(
        "workspaces/summary.html",
        workspace_name=ws.name,
        slug=ws.slug,
        role=mine.role.value,
        members=members,
        href=workspace_href(ws.slug),
        generate_href=href("generate", ws=ws.slug),
    )


def members_table(members: Sequence[accounts.Member]) -> Markup:
    return render("workspaces/members.html", members=members)


def home_page(
    data: home.WorkspaceHome, slug: str, url: Url | None, now: datetime | None = None
) -> Markup:
    now = now or datetime.now(UTC)

    def signed(asset_id: int | None) -> str:
        return url(asset_id) if url is not None and asset_id is not None else ""

    review = {
        "in_review": [
            {
                "code": s.shot_code,
                "description": _excerpt(s.description),
                "project": s.project_title,
                "href": shot_href(s.project_id, s.shot_id),
            }
            for s in data.in_review
        ],
        "awaiting": [
            {
                "code": s.shot_code,
                "takes": s.finished_takes,
                "project": s.project_title,
                "href": shot_href(s.project_id, s.shot_id),
            }
            for s in data.awaiting_circle
        ],
        "mentions": [
            {
                "code": m.shot_code,
                "author": m.author,
                "body": _excerpt(m.body),
                "ago": ago(m.at, now),
                "href": shot_href(m.project_id, m.shot_id, m.take_id),
            }
            for m in data.mentions
        ],
    }
    projects = [
        {
            "id": p.id,
            "title": p.title,
            "logline": _excerpt(p.logline),
            "shots": p.shots,
            "approved": p.approved,
            "in_review": p.in_review,
            "poster_url": signed(p.poster_asset_id),
            "href": project_href(p.id),
        }
        for p in data.projects
    ]
    takes = []
    for t in data.recent_takes:
        details = " · ".join(
            part
            for part in (
                t.model_key or "uploaded clip",
                f"seed {t.seed}" if t.seed is not None else "",
                f"{t.duration:g} s" if t.duration else "",
            )
            if part
        )
        takes.append(
            {
                "id": t.take_id,
                "code": t.shot_code,
                "number": t.number,
                "status": t.status,
                "css": STATUS_CLASS.get(t.status, "todo"),
                "details": details,
                "project": t.project_title,
                "author": t.author,
                "ago": ago(t.created_at, now),
                "poster_url": signed(t.poster_asset_id),
                "video_url": signed(t.output_asset_id) if t.poster_asset_id is None else "",
                "href": shot_href(t.project_id, t.shot_id, t.take_id),
            }
        )
    activity = [
        {
            "actor": a.actor_name,
            "summary": a.summary,
            "project": a.project_title,
            "at": a.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "ago": ago(a.at, now),
            "href": shot_href(a.project_id, a.shot_id, a.take_id)
            if a.shot_id is not None
            else project_href(a.project_id),
        }
        for a in data.activity
    ]
    return render(
        "workspaces/home.html",
        review=review,
        projects=projects,
        takes=takes,
        activity=activity,
        projects_href=href("projects", ws=slug),
    )
