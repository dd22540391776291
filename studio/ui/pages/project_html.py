"""HTML for the Projects page: storyboard, shot table, take grid, comments,
compare view, activity feed and rough-cut versions.

Pure functions of service views, so the page module stays about wiring.
Everything a user typed is escaped here. `data-*` attributes carry ids for
static/studio.js (open a shot, pick a take, seek to a timecode, sync the
compare players).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from studio.generation import service as jobs
from studio.generation.runway import runway_status
from studio.projects import activity, review, roughcut, storyboard, takes
from studio.projects.models import Shot
from studio.ui import addresses
from studio.ui.task_status import STATUS_CLASS as TASK_STATUS_CLASS
from studio.ui.templating import Markup, render

Url = Callable[[int], str]

SHOT_STATUS_CLASS = {
    "todo": "todo",
    "in_progress": "progress",
    "review": "review",
    "approved": "approved",
    "omitted": "omitted",
}
LINEAGE_WORDS = {"reroll": "re-roll of", "variation": "variation of", "extension": "extends"}
# A take card's buttons: action -> (label, what it does). takes.CARD_ACTIONS says
# which exist; takes.card_actions which apply to a take, and why not.
TAKE_BUTTONS = {
    "circle": ("Circle", "The storyboard and the rough cut use the circled take."),
    "favorite": ("★ Favorite", "Mark it as a favorite (press again to unmark)."),
    "reroll": ("Re-roll", "Same settings, a new seed."),
    "extend": ("Extend", "A new take that continues from this one's last frame."),
    "vary": ("Vary…", "Same seed, an edited prompt: opens the Vary form for this take."),
    "restyle": ("Restyle…", "This take under a new prompt: opens the Restyle form."),
}


# A shot code written in a comment ("see SC01-SH020") links to that shot.
SHOT_CODE = re.compile(r"\bSC\d{2,}-SH\d{3,}\b")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def href(**query: object) -> str:
    """A view of the Projects page's address (ui/addresses.py)."""
    return addresses.href("projects", **{k: v for k, v in query.items() if v})


def shot_href(project_id: int, shot_id: int, take_id: int | None = None) -> str:
    return href(project=project_id, shot=shot_id, take=take_id)


def copy_link(address: str, what: str) -> str:
    """A button static/nav.js answers: the full address goes to the clipboard."""
    return (
        f'<button type="button" class="copy-link" data-href="{esc(address)}" '
        f'title="Copy a link to this {esc(what)}">Copy link</button>'
    )


def status_badge(status: str) -> str:
    return (
        f'<span class="status {SHOT_STATUS_CLASS.get(status, "todo")}">'
        f"{esc(status.replace('_', ' '))}</span>"
    )


def board(cards: Sequence[storyboard.Card], url: Url) -> str:
    if not cards:
        return (
            '<div class="empty-state">No shots yet. Add the first shot in the '
            "<b>Shot list</b> tab, or import a CSV.</div>"
        )
    items = []
    for card in cards:
        if card.poster_asset_id:
            picture = f'<img src="{url(card.poster_asset_id)}" alt="{esc(card.code)}">'
        elif card.reference_asset_id:
            picture = f'<img src="{url(card.reference_asset_id)}" alt="{esc(card.code)} reference">'
        else:
            waiting = card.latest_status in ("queued", "running")
            note = "generating…" if waiting else "no circled take yet"
            picture = f'<div class="no-media">{note}</div>'
        length = f"{card.target_duration:g} s" if card.target_duration else "—"
        take = f"take {card.selected_number}" if card.selected_number else f"{card.takes} takes"
        items.append(
            f'<figure class="take shot-card" data-shot="{card.shot_id}" tabindex="0" '
            f'title="Open {esc(card.code)}">{picture}<figcaption>'
            f"{status_badge(card.status)} <b>{esc(card.code)}</b> · {length} · {take}"
            f"<br><small>{esc(card.description[:100])}</small></figcaption></figure>"
        )
    return '<div class="takes storyboard">' + "".join(items) + "</div>"


def shot_table(
    shots: Sequence[Shot], cards: dict[int, storyboard.Card], names: dict[int, str]
) -> str:
    if not shots:
        return (
            '<div class="empty-state">The shot list is empty. Add a shot below, or import '
            "a CSV with columns such as <code>scene, description, prompt, duration</code>."
            "</div>"
        )
    rows = []
    for position, shot in enumerate(shots, start=1):
        card = cards.get(shot.id)
        circled = f"take {card.selected_number}" if card and card.selected_number else "—"
        count = card.takes if card else 0
        duration = f"{shot.target_duration:g} s" if shot.target_duration else "—"
        rows.append(
            f'<tr data-shot="{shot.id}" tabindex="0" title="Open {esc(shot.code)}">'
            f"<td>{position}</td><td><b>{esc(shot.code)}</b></td>"
            f"<td>{status_badge(shot.status.value)}</td>"
            f"<td>{esc((shot.description or shot.prompt)[:90])}</td>"
            f"<td>{esc(shot.dialogue[:50])}</td><td>{duration}</td>"
            f"<td>{esc(names.get(shot.assignee_user_id or 0, '—'))}</td>"
            f"<td>{count}</td><td>{circled}</td></tr>"
        )
    return (
        '<table class="shot-table"><thead><tr><th>#</th><th>Code</th><th>Status</th>'
        "<th>Description</th><th>Dialogue</th><th>Length</th><th>Assignee</th>"
        "<th>Takes</th><th>Circled</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


SOUND_BADGE = '<span class="sound-badge has-sound" title="This take has sound">🔊 sound</span>'
SILENT_BADGE = '<span class="sound-badge silent" title="This take has no sound">🔇 silent</span>'


def take_actions(
    take_id: int, number: int, reasons: Mapping[str, str | None], *, favorite: bool = False
) -> Markup:
    """A take card's buttons; `reasons`: action -> None (it applies) or why not."""
    buttons = []
    for name in takes.CARD_ACTIONS:
        label, title = TAKE_BUTTONS[name]
        if name == "favorite" and favorite:
            label, title = "★ Unfavorite", "It is a favorite: press to unmark it."
        if name == "circle" and reasons.get(name) == takes.CIRCLED:
            label = "Circled"
        buttons.append(
            {
                "name": name,
                "label": label,
                "title": title,
                "reason": reasons.get(name),
                "primary": name == "circle",
            }
        )
    return render("pages/take_actions.html", take_id=take_id, number=number, buttons=buttons)


def take_grid(
    views: Sequence[takes.TakeView],
    selected_id: int | None,
    picked_id: int | None,
    url: Url,
    shot_address: str,
    actions: Mapping[int, Mapping[str, str | None]] | None = None,
) -> str:
    """The shot's takes; `shot_address` is the shot's own (each take's adds &take=);
    `actions`: take id -> its card's actions (takes.card_actions), shown as buttons."""
    links = f'<div class="shot-links">{copy_link(shot_address, "shot")}</div>'
    if not views:
        return links + (
            '<div class="empty-state">No takes yet. Check the prompt on the left and press '
            "<b>Generate take</b>; the take appears here with live progress.</div>"
        )
    numbers = {v.take.id: v.take.number for v in views}
    cards = []
    for tv in views:
        take = tv.take
        classes = ["take", "take-card"]
        if take.id == selected_id:
            classes.append("circled")
        if take.id == picked_id:
            classes.append("picked")
        take_link = copy_link(f"{shot_address}&take={take.id}", "take")
        buttons = (
            take_actions(take.id, take.number, actions[take.id], favorite=take.favorite)
            if actions is not None and take.id in actions
            else ""
        )
        cards.append(
            f'<figure class="{" ".join(classes)}" data-take="{take.id}">'
            f"{_take_media(tv, url)}<figcaption>{_take_caption(tv, selected_id, numbers)}"
            f" {take_link}{buttons}</figcaption></figure>"
        )
    return links + '<div class="takes take-grid">' + "".join(cards) + "</div>"


def _take_media(tv: takes.TakeView, url: Url) -> str:
    output = tv.output_asset_id
    job = tv.job
    if output is not None:
        poster = f' poster="{url(tv.poster_asset_id)}"' if tv.poster_asset_id else ""
        if job is not None and job.output_mime and not job.output_mime.startswith("video/"):
            return f'<img src="{url(output)}" alt="take {tv.take.number}">'
        # A take with sound plays it (the controls unmute and set the level); a silent
        # one stays muted so that it may autoplay.
        muted = "" if tv.has_audio else " muted"
        return (
            f'<video src="{url(output)}"{poster} controls loop{muted} playsinline '
            'preload="none"></video>'
        )
    if job is None:
        return '<div class="no-media">upload missing</div>'
    status = runway_status(job)
    if job.active:
        if job.status.value == "queued":
            detail = (
                "waiting for the workspace's running jobs"
                if job.throttled
                else f"queued · {job.position} ahead"
                if job.position
                else "queued · next up"
            )
        else:
            detail = f"generating · {round(job.progress * 100)}%"
        return (
            f'<div class="no-media pending">{detail}<div class="bar">'
            f'<span style="width:{round(job.progress * 100)}%"></span></div></div>'
        )
    return f'<div class="no-media">{esc(job.error_message or status.lower())}</div>'


def _take_caption(tv: takes.TakeView, selected_id: int | None, numbers: dict[int, int]) -> str:
    take = tv.take
    job = tv.job
    marks = []
    if take.id == selected_id:
        marks.append('<span class="status approved">circled</span>')
    if take.favorite:
        marks.append('<span title="favorite">★</span>')
    if take.rating:
        marks.append(f'<span title="rating">{"●" * take.rating}{"○" * (5 - take.rating)}</span>')
    if tv.has_audio is not None:
        marks.append(SOUND_BADGE if tv.has_audio else SILENT_BADGE)
    if job is None:
        settings = "uploaded clip"
    else:
        p = job.params
        length = f"{p.get('duration')} s" if p.get("duration") else "still"
        settings = (
            f"{esc(job.model_key)} · seed {esc(p.get('seed'))} · {length}"
            f'<span class="status {TASK_STATUS_CLASS[runway_status(job)]}">'
            f"{runway_status(job).lower()}</span>"
        )
    origin = ""
    if take.lineage and take.parent_take_id in numbers:
        origin = (
            f"<br><small>{LINEAGE_WORDS[take.lineage.value]} take "
            f"{numbers[take.parent_take_id]}</small>"
        )
    prompt = ""
    if job is not None:
        text = str(job.params.get("user_prompt") or "")
        prompt = f"<br><small>{esc(text[:110])}</small>" if text else ""
    return f"<b>Take {take.number}</b> {' '.join(marks)}<br>{settings}{origin}{prompt}"


def _linked_body(body: str, shots: Mapping[str, str]) -> str:
    """The comment escaped, each code of a shot of this project a link to it."""

    def link(found: re.Match[str]) -> str:
        code = found.group(0)
        if code not in shots:
            return code
        return f'<a class="nav-link shot-ref" href="{esc(shots[code])}">{code}</a>'

    return SHOT_CODE.sub(link, esc(body))  # codes hold no character escaping changes


def comments(views: Sequence[review.CommentView], shots: Mapping[str, str]) -> str:
    """`shots`: code -> address of the project's shots, for codes written in a comment."""
    if not views:
        return (
            '<div class="empty-state">No comments yet. Pick a take and a timecode to '
            "point at a moment, or comment on the whole shot.</div>"
        )
    items = []
    for c in views:
        where = ""
        if c.take_number is not None:
            where = f"take {c.take_number}"
            if c.timecode is not None:
                where += (
                    f' <a class="timecode" href="#" data-take="{c.take_id}" '
                    f'data-t="{c.timecode:g}">@ {review.format_timecode(c.timecode)}</a>'
                )
        change = (
            f" → {status_badge(c.status_change)}" if c.status_change else ""
        )  # the status the comment moved the shot to
        mentions = (
            f'<div class="mentions">mentions {esc(", ".join(c.mentions))}</div>'
            if c.mentions
            else ""
        )
        items.append(
            f'<li data-comment="{c.id}"><div class="comment-head"><b>{esc(c.author_name)}</b>'
            f" <small>{_when(c.at)} {where}</small>{change}</div>"
            f'<div class="comment-body">{_linked_body(c.body, shots)}</div>{mentions}</li>'
        )
    return '<ol class="comments">' + "".join(items) + "</ol>"


def compare(result: review.Comparison | None, url: Url) -> str:
    if result is None:
        return (
            '<div class="empty-state">Pick two takes to compare them side by side: the '
            "players stay in sync and the settings that differ are highlighted.</div>"
        )
    sides = []
    for side, tv in (("left", result.left), ("right", result.right)):
        output = tv.output_asset_id
        media = (
            f'<video class="compare-{side}" src="{url(output)}" controls muted playsinline '
            'preload="metadata"></video>'
            if output
            else '<div class="no-media">not finished yet</div>'
        )
        sides.append(
            f'<figure class="take">{media}<figcaption><b>{esc(tv.shot_code)} · take '
            f"{tv.take.number}</b></figcaption></figure>"
        )
    rows = "".join(
        f'<tr class="{"differs" if r.differs else ""}"><th>{esc(r.name)}</th>'
        f"<td>{esc(_show(r.left))}</td><td>{esc(_show(r.right))}</td></tr>"
        for r in result.rows
    )
    return (
        f'<div id="compare-view" class="compare"><div class="compare-players">{"".join(sides)}'
        '</div><p class="hint">Play, pause or seek either player: the other follows.</p>'
        '<table class="settings-diff"><thead><tr><th>setting</th><th>left</th><th>right</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def feed(lines: Sequence[activity.ActivityView]) -> str:
    if not lines:
        return '<div class="empty-state">Nothing has happened in this project yet.</div>'
    items = "".join(
        f'<li data-shot="{line.shot_id or ""}"><small>{_when(line.at)}</small> '
        f"<b>{esc(line.actor_name)}</b> {esc(line.summary)}</li>"
        for line in lines
    )
    return f'<ul class="activity">{items}</ul>'


def cuts(versions: Sequence[roughcut.CutView], views: dict[str, jobs.JobView], url: Url) -> str:
    if not versions:
        return (
            '<div class="empty-state">No rough cut yet: circle a take for each shot, then '
            "press <b>Render rough cut</b>.</div>"
        )
    latest, *older = versions
    parts = [_cut_block(latest, views.get(latest.public_id), url, player=True)]
    if older:
        parts.append('<ul class="cut-versions">')
        parts += [
            f"<li>{_cut_block(v, views.get(v.public_id), url, player=False)}</li>" for v in older
        ]
        parts.append("</ul>")
    return '<div class="rough-cut">' + "".join(parts) + "</div>"


def cut_href(project_id: int, cut_id: int) -> str:
    return href(project=project_id, tab="cut", cut=cut_id)


def _cut_block(cut: roughcut.CutView, view: jobs.JobView | None, url: Url, *, player: bool) -> str:
    address = cut_href(cut.cut.project_id, cut.cut.id)
    label = (
        f'<b data-cut="{cut.cut.id}">Rough cut v{cut.cut.number}</b> '
        f"{copy_link(address, 'rough cut')}"
    )
    if view is None:
        return f"{label}: unavailable"
    if view.output_asset_id:
        src = url(view.output_asset_id)
        link = f' · <a href="{src}" download="rough-cut-v{cut.cut.number}.mp4">download</a>'
        if player:
            return (
                f"{label}{link}<br>"
                f'<video id="rough-cut-video" src="{src}" controls preload="metadata"></video>'
            )
        return label + link
    if view.active:
        return (
            f'{label}: {view.status.value} · {round(view.progress * 100)}%<div class="bar">'
            f'<span style="width:{round(view.progress * 100)}%"></span></div>'
        )
    return f"{label}: {esc(view.error_message or view.status.value)}"


def _show(value: object) -> str:
    return "—" if value is None or value == "" else str(value)


def _when(at: datetime) -> str:
    return at.strftime("%d %b %H:%M UTC")
