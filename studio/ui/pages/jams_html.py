"""HTML for the Jams page: the jam list, the jam page (elements, countdown,
brief, schedule), the team, the entry, the judge console, the organizer
dashboard, results, gallery and ballot.

Pure functions of service views: the page modules stay about wiring.
Everything a person typed is escaped here. Times are written as
`<time datetime=...>` (shown in the jam's zone, named, until static/jams.js
rewrites them in the viewer's own zone) and countdowns as
`<span class="countdown" data-target data-now>`: the script ticks them from
the *server's* clock (data-now), never trusting the browser's for what counts.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from studio.jams import entries, judging, results, service, teams, votes
from studio.jams.rules import Phase

Url = Callable[[int], str]

PHASE_WORDS = {
    Phase.UPCOMING: ("upcoming", "todo"),
    Phase.RUNNING: ("running", "progress"),
    Phase.GRACE: ("late entries only", "review"),
    Phase.JUDGING: ("judging", "review"),
    Phase.CLOSED: ("judging closed", "omitted"),
    Phase.PUBLISHED: ("results out", "approved"),
}
GROUPS = [
    ("Running", (Phase.RUNNING, Phase.GRACE)),
    ("Upcoming", (Phase.UPCOMING,)),
    ("Judging", (Phase.JUDGING, Phase.CLOSED)),
    ("Finished", (Phase.PUBLISHED,)),
]
ENTRY_CLASS = {
    "draft": "todo",
    "submitted": "approved",
    "late": "review",
    "disqualified": "failed",
    "withdrawn": "omitted",
}
AWARD_WORDS = {results.GRAND_PRIZE: "Grand prize", results.AUDIENCE: "Audience award"}
# What submitting does now, by phase: the words of the submission form.
ON_TIME = "on time"
LATE = "late: audience award only"
CLOSED = "closed"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def empty(text: str) -> str:
    return f'<div class="empty-state">{text}</div>'


def confirm_js(question: str) -> str:
    """An event's `js=`: ask first; throwing cancels the event (nothing is sent)."""
    return (
        f"(...args) => {{ if (!confirm({json.dumps(question)})) "
        "{ throw new Error('cancelled'); } return args; }"
    )


# ---------------------------------------------------------------- time


def duration_words(seconds: float) -> str:
    """3 h 12 min, 2 d 4 h, 45 s: the two largest units that matter."""
    s = int(abs(seconds))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def relative(target: datetime, now: datetime) -> str:
    """'in 3 h 12 min' or '3 h 12 min ago', from the server's clock."""
    delta = (target - now).total_seconds()
    words = duration_words(delta)
    return f"in {words}" if delta >= 0 else f"{words} ago"


def when(moment: datetime, zone: str) -> str:
    """A moment in the jam's zone, zone named; static/jams.js shows the viewer's zone."""
    try:
        local = moment.astimezone(ZoneInfo(zone))
    except (KeyError, ValueError):
        local = moment
    text = local.strftime("%a %d %b %Y, %H:%M ") + (local.tzname() or zone)
    return f'<time class="local-time" datetime="{esc(moment.isoformat())}">{esc(text)}</time>'


def countdown(target: datetime, now: datetime, *, done: str = "now") -> str:
    ms = int(target.timestamp() * 1000)
    now_ms = int(now.timestamp() * 1000)
    return (
        f'<span class="countdown" data-target="{ms}" data-now="{now_ms}" '
        f'data-done="{esc(done)}">{esc(relative(target, now))}</span>'
    )


def server_clock(now: datetime) -> str:
    """A bare sample of the server's clock for static/jams.js (no countdown)."""
    return f'<span class="jam-server-clock" data-now="{int(now.timestamp() * 1000)}"></span>'


def phase_badge(phase: Phase) -> str:
    words, css = PHASE_WORDS[phase]
    return f'<span class="status {css}">{esc(words)}</span>'


def milestone(view: service.JamView) -> tuple[str, datetime | None]:
    """The next moment that matters for this jam, in words."""
    s = view.schedule
    if view.phase is Phase.UPCOMING:
        return "Kickoff", s["kickoff_at"]
    if view.phase is Phase.RUNNING:
        return "Deadline", s["deadline_at"]
    if view.phase is Phase.GRACE:
        return "Late entries close", s["grace_ends_at"]
    if view.phase is Phase.JUDGING:
        return "Judging closes", s["judging_closes_at"]
    if view.phase is Phase.CLOSED:
        return "Results planned", s["results_at"]
    return "Results published", None


# ---------------------------------------------------------------- list


def list_changes_at(views: Sequence[service.JamView]) -> datetime | None:
    """The next moment any row of the list changes (phase or registration), if any."""
    later = [
        moment
        for v in views
        if v.phase is not Phase.PUBLISHED
        for key, moment in v.schedule.items()
        if key != "results_at" and moment > v.server_now
    ]
    return min(later, default=None)


def jam_list(views: Sequence[service.JamView]) -> str:
    if not views:
        return empty(
            "<b>No jams yet.</b> When a studio admin creates one it appears here with its "
            "schedule; admins create jams in the <b>Organize</b> tab."
        )
    parts = []
    for title, phases in GROUPS:
        group = [v for v in views if v.phase in phases]
        if not group:
            continue
        rows = []
        for v in group:
            label, moment = milestone(v)
            next_text = (
                f"{esc(label)} {when(moment, v.timezone)} · "
                f"{countdown(moment, v.server_now, done='passed')}"
                if moment
                else "see the results"
            )
            mine = []
            if v.my_team_id:
                mine.append("your team is in")
            if v.is_judge:
                mine.append("you judge")
            if v.is_organizer:
                mine.append("you organize")
            roles = f' · <span class="hint">{esc(", ".join(mine))}</span>' if mine else ""
            reg = " · registration open" if v.registration_open else ""
            rows.append(
                f'<tr data-jam="{esc(v.slug)}" tabindex="0" title="Open {esc(v.title)}">'
                f"<td><b>{esc(v.title)}</b>{roles}</td><td>{phase_badge(v.phase)}{reg}</td>"
                f"<td>{next_text}</td></tr>"
            )
        parts.append(
            f'<h4 class="jam-group">{title}</h4><table class="shot-table jam-table">'
            "<thead><tr><th>Jam</th><th>Phase</th><th>Next</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>"
        )
    # The Jams timer re-renders the list only once the server's clock reaches
    # data-changes (or a jam appears): see LIVE_JS in jams.py.
    changes = list_changes_at(views)
    now_ms = int(views[0].server_now.timestamp() * 1000)
    mark = f' data-changes="{int(changes.timestamp() * 1000)}"' if changes else ""
    return f'<div class="jam-list" data-now="{now_ms}"{mark}>' + "".join(parts) + "</div>"


# ---------------------------------------------------------------- jam page


def elements_panel(view: service.JamView, team: teams.TeamView | None) -> str:
    """First thing a team sees after kickoff; before kickoff, only when they appear."""
    if view.elements is None:
        return (
            '<div class="jam-elements sealed"><b>Required elements</b> are revealed at '
            f"kickoff, {countdown(view.schedule['kickoff_at'], view.server_now, done='now')}."
            "</div>"
        )
    drawn: dict[str, str] = dict(view.shared_elements or {})
    if team is not None:
        drawn.update(team.drawn_elements or {})
    items = []
    for category in view.elements:
        name = category["category"]
        if name in drawn:
            value = f"<b>{esc(drawn[name])}</b>"
        elif category.get("per_team"):
            value = '<span class="hint">drawn for each team</span>'
        else:
            value = '<span class="hint">not drawn yet</span>'
        items.append(f"<li><span class='cat'>{esc(name)}</span> {value}</li>")
    who = "Your film must use" if team is not None else "Every film must use"
    return (
        f'<div class="jam-elements"><b>{who}</b><ul>{"".join(items)}</ul>'
        f'<small class="hint">Draw seed {esc(view.draw_seed)}</small></div>'
    )


def overview(view: service.JamView, team: teams.TeamView | None) -> str:
    label, moment = milestone(view)
    clock = (
        f'<div class="jam-clock"><span class="hint">{esc(label)}</span> '
        f'<span class="big">{countdown(moment, view.server_now, done="now")}</span> '
        f"<span class='hint'>{when(moment, view.timezone)}</span></div>"
        if moment
        else '<div class="jam-clock">Results are published: see <b>Results</b>.</div>'
    )
    s = view.schedule
    rows = [
        (
            "Registration",
            f"{when(s['registration_opens_at'], view.timezone)} to "
            f"{when(s['registration_closes_at'], view.timezone)}",
        ),
        ("Kickoff", when(s["kickoff_at"], view.timezone)),
        ("Deadline", when(s["deadline_at"], view.timezone)),
    ]
    if view.grace_seconds:
        rows.append(
            (
                "Late entries until",
                when(s["grace_ends_at"], view.timezone) + " (audience award only)",
            )
        )
    rows += [
        ("Judging closes", when(s["judging_closes_at"], view.timezone)),
        ("Results", when(s["results_at"], view.timezone)),
    ]
    schedule = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    rubric = ", ".join(f"{esc(c['name'])} {c['weight']:g}" for c in view.rubric)
    facts = (
        f"Teams of up to {view.team_size_max} · films {view.film_min_seconds:g} to "
        f"{view.film_max_seconds:g} s, up to {view.film_max_bytes / 1024**2:.0f} MB · "
        f"{view.gpu_seconds_grant // 60} GPU-minutes per team · rubric {rubric}"
        + (" · audience vote" if view.audience_vote else "")
    )
    brief = f'<div class="jam-brief">{esc(view.brief)}</div>' if view.brief.strip() else ""
    return (
        f'<div class="jam-page" data-slug="{esc(view.slug)}">'
        + elements_panel(view, team)
        + f'<h2 class="jam-title">{esc(view.title)} {phase_badge(view.phase)}</h2>'
        + clock
        + brief
        + f'<p class="hint">{facts}</p>'
        + f'<table class="jam-schedule">{schedule}</table>'
        + '<p class="hint">Times in your time zone; countdowns follow the server clock.</p>'
        + "</div>"
    )


def team_panel(view: service.JamView, team: teams.TeamView | None) -> str:
    if team is None:
        if view.registration_open:
            return empty(
                "You are not in a team yet. Register one below (you become its captain), "
                "or ask a captain to invite you by email (you accept it here)."
            )
        return empty("You are not in a team of this jam; registration is closed.")
    members = "".join(
        f"<li>{esc(m.display_name)} <span class='hint'>{esc(m.email)}</span></li>"
        for m in team.members
    )
    pending = "".join(
        f'<li data-invite="{i.id}">{esc(i.email)} <span class="status todo">invited</span></li>'
        for i in team.invites
    )
    waiting = (
        f'<div class="jam-pending"><span class="hint">Pending invitations (they count '
        f"toward the cap until answered or cancelled):</span><ul>{pending}</ul></div>"
        if pending
        else ""
    )
    return (
        f'<div class="jam-team"><b>{esc(team.name)}</b> · {len(team.members)} of '
        f"{team.size_max} members · workspace <code>{esc(team.workspace_slug)}</code> "
        "(open it in Projects and Generate)"
        f"<ul>{members}</ul>{waiting}</div>"
    )


def my_invites(
    view: service.JamView, team: teams.TeamView | None, invites: Sequence[teams.InviteView]
) -> str:
    """The signed-in person's pending invitations: nothing happens until they accept."""
    if not invites:
        return ""
    items = "".join(
        f'<li data-invite="{i.id}">You\'re invited to join <b>{esc(i.team_name)}</b> '
        f'<span class="hint">by {esc(i.invited_by)}, {when(i.created_at, view.timezone)}</span>'
        "</li>"
        for i in invites
    )
    if not view.registration_open:
        note = "Registration is closed: these invitations can only be declined."
    elif team is not None:
        note = f"You are in {esc(team.name)}: leave it first to accept another team."
    else:
        note = "Accepting one joins that team and declines the others."
    return f'<div class="jam-invites"><ul>{items}</ul><p class="hint">{note}</p></div>'


# ---------------------------------------------------------------- entry


def what_happens(view: service.JamView, entry: entries.EntryView | None) -> str:
    """The line above Save/Submit: exactly what submitting does now (server clock)."""
    s = view.schedule
    if entry is not None and entry.status.value == "disqualified":
        word, detail, css = CLOSED, f"disqualified: {esc(entry.disqualified_reason)}", "failed"
    elif view.phase is Phase.UPCOMING:
        word, css = CLOSED, "todo"
        detail = f"entries open at kickoff, {countdown(s['kickoff_at'], view.server_now)}"
    elif view.phase is Phase.RUNNING:
        word, css = ON_TIME, "approved"
        detail = (
            "submitting now enters the jury ranking and the audience vote · deadline "
            f"{countdown(s['deadline_at'], view.server_now, done='passed')}"
        )
    elif view.phase is Phase.GRACE:
        word, css = LATE, "review"
        detail = (
            "the deadline has passed; late entries close "
            f"{countdown(s['grace_ends_at'], view.server_now, done='now')}"
        )
    else:
        word, css = CLOSED, "omitted"
        detail = "the deadline and grace period are over; entries can no longer change"
    return (
        f'<div class="jam-submit-line" data-rule="{esc(word)}">'
        f'<span class="status {css}">{esc(word)}</span> {detail}</div>'
    )


def entry_card(view: service.JamView, entry: entries.EntryView | None, url: Url) -> str:
    if entry is None:
        return empty(
            "No entry yet. Give it a title, add a film (upload one, or pick a take or a "
            "rough cut from your team's workspace) and <b>Save draft</b> or <b>Submit</b>."
        )
    status = entry.status.value
    player = (
        f'<video src="{url(entry.film_asset_id)}" controls preload="metadata" playsinline'
        + (f' poster="{url(entry.poster_asset_id)}"' if entry.poster_asset_id else "")
        + "></video>"
        if entry.film_asset_id
        else '<div class="no-media">no film yet</div>'
    )
    source = entry.film_source.value.replace("_", " ") if entry.film_source else "none"
    length = f"{entry.film_seconds:.1f} s" if entry.film_seconds else "—"
    stamp = (
        f"submitted {when(entry.submitted_at, view.timezone)}"
        if entry.submitted_at
        else f"saved {when(entry.updated_at, view.timezone)}"
    )
    reason = (
        f"<br><b>Disqualified:</b> {esc(entry.disqualified_reason)}"
        if entry.disqualified_reason
        else ""
    )
    if status == "withdrawn":
        reason += f'<p class="jam-withdrawn">{after_withdrawal(view)}</p>'
    return (
        f'<div class="jam-entry" data-status="{esc(status)}">'
        f'<div class="jam-entry-state">Your entry is <span class="status '
        f'{ENTRY_CLASS.get(status, "todo")}">{esc(status)}</span> · revision {entry.revision}'
        f" · {stamp}{reason}</div>"
        f'<figure class="take">{player}<figcaption><b>{esc(entry.title or "Untitled")}</b>'
        f" · {length} · film from {esc(source)}<br><small>{esc(entry.logline)}</small>"
        "</figcaption></figure></div>"
    )


def after_withdrawal(view: service.JamView, *, plain: bool = False) -> str:
    """What a team can still do once its entry is withdrawn (put_entry's rules).
    HTML with a live countdown, or `plain` words for a notification."""
    s = view.schedule

    def until(moment: datetime, done: str) -> str:
        if plain:
            return relative(moment, view.server_now)
        return countdown(moment, view.server_now, done=done)

    submit = "Submit" if plain else "<b>Submit</b>"
    out = "Withdrawn: your film is out of the jury ranking and the audience vote."
    if view.phase is Phase.RUNNING:
        return (
            f"{out} You can still change it and {submit} again until the deadline, "
            f"{until(s['deadline_at'], 'passed')}: it counts on time."
        )
    if view.phase is Phase.GRACE:
        return (
            f"{out} You can still {submit} again until late entries close, "
            f"{until(s['grace_ends_at'], 'now')}, but it counts as late: audience award only."
        )
    return f"{out} Entries are closed, so it stays withdrawn."


def can_withdraw(view: service.JamView, entry: entries.EntryView | None) -> bool:
    """Mirrors entries.withdraw_entry: an entry not yet out, until judging closes."""
    if entry is None or entry.status.value in ("withdrawn", "disqualified"):
        return False
    return view.phase not in (Phase.CLOSED, Phase.PUBLISHED)


# ---------------------------------------------------------------- judge console


def assignment_list(
    items: Sequence[judging.AssignmentView], current: int | None, closes: datetime | None
) -> str:
    if not items:
        return empty(
            "No entries assigned to you yet. Organizers assign judges after the deadline; "
            "they appear here."
        )
    done = sum(1 for a in items if a.submitted_at)
    rows = []
    for index, a in enumerate(items, start=1):
        state = (
            '<span class="status approved">submitted</span>'
            if a.submitted_at
            else '<span class="status progress">saved</span>'
            if a.saved_at
            else '<span class="status todo">to score</span>'
        )
        picked = ' class="picked"' if a.entry.id == current else ""
        rows.append(
            f'<tr data-entry="{a.entry.id}" tabindex="0"{picked}><td>{index}</td>'
            f"<td><b>{esc(a.entry.title or 'Untitled')}</b></td><td>{state}</td></tr>"
        )
    return (
        f'<div class="hint">{done} of {len(items)} submitted · keys: <kbd>j</kbd>/<kbd>k</kbd> '
        "next/previous entry, arrows move a focused slider, <kbd>Ctrl</kbd>+<kbd>Enter</kbd> "
        "submits</div>"
        '<table class="shot-table judge-queue"><tbody>' + "".join(rows) + "</tbody></table>"
    )


def required_elements(shared: dict[str, str] | None, team: dict[str, str] | None) -> str:
    """The elements a film had to use: the draw for everyone, then the team's own."""

    def listed(drawn: dict[str, str]) -> str:
        return "; ".join(f"{esc(k)}: <b>{esc(v)}</b>" for k, v in drawn.items())

    parts = []
    if shared:
        parts.append(f"for everyone: {listed(shared)}")
    if team:
        parts.append(f"team's draw: {listed(team)}")
    if not parts:
        return ""
    return f'<br><small class="judge-elements">Required elements, {" · ".join(parts)}</small>'


def judged_entry(
    a: judging.AssignmentView | None, url: Url, shared: dict[str, str] | None = None
) -> str:
    """`shared`: the jam's draw for everyone (JamView.shared_elements); the entry
    carries only its team's own draw."""
    if a is None:
        return empty("Pick an entry from your list.")
    e = a.entry
    player = (
        f'<video id="judge-video" src="{url(e.film_asset_id)}" controls preload="metadata" '
        "playsinline></video>"
        if e.film_asset_id
        else '<div class="no-media">no film</div>'
    )
    elements = required_elements(shared, e.drawn_elements)
    sheet = (
        "submitted — you can still change it until judging closes"
        if a.submitted_at
        else "saved, not submitted"
        if a.saved_at
        else "not scored yet"
    )
    return (
        f'<div class="judge-entry" data-entry="{e.id}"><figure class="take">{player}'
        f"<figcaption><b>{esc(e.title or 'Untitled')}</b> · "
        f"{e.film_seconds or 0:.1f} s<br>{esc(e.logline)}"
        f'<br><small class="credits">{esc(e.credits)}</small>{elements}</figcaption></figure>'
        f'<div class="judge-sheet" data-sheet="{esc(sheet)}">Score sheet: <b>{esc(sheet)}</b>'
        + ("" if a.editable else " · judging is not open, scores are read only")
        + "</div></div>"
    )


# ---------------------------------------------------------------- organizers


def dashboard(d: service.Dashboard) -> str:
    states = " ".join(
        f'<span class="status {ENTRY_CLASS.get(k, "todo")}">{esc(k)} {n}</span>'
        for k, n in d.entries_by_state.items()
    )
    team_rows = "".join(
        f"<tr><td>{esc(t.name)}</td><td>{t.members}</td><td>"
        + (
            f'<span class="status {ENTRY_CLASS.get(t.entry_status, "todo")}">'
            f"{esc(t.entry_status)}</span> {esc(t.entry_title or '')}"
            if t.entry_status
            else '<span class="hint">no entry</span>'
        )
        + "</td></tr>"
        for t in d.teams
    )
    teams_html = (
        '<table class="shot-table"><thead><tr><th>Team</th><th>Members</th><th>Entry</th>'
        f"</tr></thead><tbody>{team_rows}</tbody></table>"
        if d.teams
        else empty("No team has registered yet.")
    )
    judge_rows = "".join(
        f"<tr><td>{esc(j.display_name)}</td><td>{j.submitted} of {j.assigned}</td>"
        f'<td><div class="bar"><span style="width:'
        f'{round(100 * j.submitted / j.assigned) if j.assigned else 0}%"></span></div></td></tr>'
        for j in d.judges
    )
    judges_html = (
        '<table class="shot-table"><thead><tr><th>Judge</th><th>Sheets</th><th>Progress</th>'
        f"</tr></thead><tbody>{judge_rows}</tbody></table>"
        if d.judges
        else empty("No judges yet: appoint them by email below.")
    )
    return (
        '<div class="jam-dashboard">'
        f"<p>{len(d.teams)} teams · entries: {states}</p>"
        f"<p>Judging: {d.assignments_submitted} of {d.assignments} score sheets submitted · "
        f"{d.votes_cast} audience votes cast</p>"
        f"<h4>Teams</h4>{teams_html}<h4>Judges</h4>{judges_html}</div>"
    )


# ---------------------------------------------------------------- results


def results_page(r: results.Results, rubric: list[dict[str, Any]], url: Url, zone: str) -> str:
    names = {c["key"]: c["name"] for c in rubric}
    everyone = {e.entry_id: e for e in r.ranking + r.others}
    awards = []
    for kind, entry_id in r.awards.items():
        e = everyone.get(entry_id)
        if e is None:
            continue
        label = AWARD_WORDS.get(kind) or f"Best {names.get(kind.removeprefix('best_'), kind)}"
        awards.append(
            f"<li><b>{esc(label)}</b>: {esc(e.title)} <span class='hint'>"
            f"{esc(e.team_name)}</span></li>"
        )
    head = "".join(f"<th>{esc(names[k])}</th>" for k in names)
    rows = "".join(
        f"<tr><td>{e.rank}</td><td><b>{esc(e.title)}</b></td><td>{esc(e.team_name)}</td>"
        f"<td>{e.score:.2f}</td>"
        + "".join(
            f"<td>{e.criteria[k]:.2f}</td>" if k in e.criteria else "<td>—</td>" for k in names
        )
        + f"<td>{e.votes}</td></tr>"
        for e in r.ranking
        if e.score is not None
    )
    published = when(r.published_at, zone) if r.published_at else ""
    return (
        f'<div class="jam-results"><p class="hint">Published {published}'
        + (" · scores normalized per judge" if r.normalized else "")
        + f"</p><h4>Awards</h4><ul>{''.join(awards) or '<li>none</li>'}</ul>"
        '<h4>Jury ranking</h4><table class="shot-table"><thead><tr><th>#</th><th>Film</th>'
        f"<th>Team</th><th>Score</th>{head}<th>Votes</th></tr></thead><tbody>{rows}"
        "</tbody></table></div>"
    )


def gallery(films: Sequence[results.EntryResult], awards: dict[str, int], url: Url) -> str:
    if not films:
        return empty("No films in the gallery.")
    won: dict[int, list[str]] = {}
    for kind, entry_id in awards.items():
        won.setdefault(entry_id, []).append(AWARD_WORDS.get(kind, kind.replace("_", " ")))
    cards = []
    for f in films:
        media = (
            f'<video src="{url(f.film_asset_id)}" controls preload="none" playsinline'
            + (f' poster="{url(f.poster_asset_id)}"' if f.poster_asset_id else "")
            + "></video>"
            if f.film_asset_id
            else '<div class="no-media">no film</div>'
        )
        prizes = "".join(
            f' <span class="status approved">{esc(w)}</span>' for w in won.get(f.entry_id, [])
        )
        late = ' <span class="status review">late</span>' if f.status.value == "late" else ""
        cards.append(
            f'<figure class="take">{media}<figcaption><b>{esc(f.title)}</b>{prizes}{late}'
            f"<br><small>{esc(f.team_name)}</small></figcaption></figure>"
        )
    return '<div class="takes jam-gallery">' + "".join(cards) + "</div>"


def ballot(b: votes.Ballot | None, view: service.JamView) -> str:
    if b is None:
        return empty("This jam has no audience vote.") if not view.audience_vote else ""
    if not b.entries:
        return empty(
            f"The audience vote opens when late entries close, "
            f"{countdown(b.opens_at, view.server_now)}."
        )
    chosen = next((e for e in b.entries if e.entry_id == b.my_vote), None)
    mine = f"Your vote: <b>{esc(chosen.title)}</b>" if chosen else "You have not voted yet."
    state = (
        f"Voting is open until {when(b.closes_at, view.timezone)}; you can move your vote."
        if b.open
        else "Voting is closed."
    )
    return f'<div class="jam-ballot"><p>{state} {mine}</p></div>'
