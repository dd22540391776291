"""HTML of the Jams page, from service views, through the autoescaping
templates in ./templates (studio/ui/templating.py).

These functions only shape what the services returned into what a template
shows (words, CSS classes, links, times); they decide nothing. Times are
`<time class="local-time" datetime data-zone>` in the jam's zone, named;
static/jams.js shows each in the viewer's zone with the jam's beside it when
the two differ. Countdowns are `<span class="countdown" data-target
data-now>`: the script ticks them from the *server's* clock (data-now).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from studio.jams import entries, judging, organizing, results, rules, service, teams, votes
from studio.jams.rules import Phase
from studio.ui import addresses
from studio.ui.templating import Markup, render

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
ACTION_LABELS = {
    organizing.DRAW: "Kickoff draw",
    organizing.ASSIGN: "Assign judges",
    organizing.PUBLISH: "Publish results",
}
# What submitting does now, by phase: the words of the submission form.
ON_TIME = "on time"
LATE = "late: audience award only"
CLOSED = "closed"


# ---------------------------------------------------------------- addresses


def jam_href(slug: str, **more: Any) -> str:
    """A view's address (see UI-CONTRACT: /jams?jam=<slug>[&tab=..][&entry=..])."""
    return addresses.href("jams", jam=slug, **more)


def workspace_href(slug: str) -> str:
    return addresses.href("workspaces", ws=slug)


# ---------------------------------------------------------------- time


@dataclass(frozen=True)
class When:
    iso: str
    text: str  # in the jam's zone, zone named
    zone: str


@dataclass(frozen=True)
class Countdown:
    target_ms: int
    now_ms: int
    text: str
    done: str


def when(moment: datetime, zone: str) -> When:
    try:
        local = moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        local, zone = moment, "UTC"
    text = local.strftime("%a %d %b %Y, %H:%M ") + (local.tzname() or zone)
    return When(moment.isoformat(), text, zone)


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


def countdown(target: datetime, now: datetime, *, done: str = "now") -> Countdown:
    return Countdown(
        int(target.timestamp() * 1000), int(now.timestamp() * 1000), relative(target, now), done
    )


def server_clock(now: datetime) -> Markup:
    """A bare sample of the server's clock for static/jams.js (no countdown)."""
    return render("jams/server_clock.html", now_ms=int(now.timestamp() * 1000))


def empty(text: str) -> Markup:
    return render("jams/empty.html", text=text)


def notice(text: str) -> Markup:
    """A page-level note (a link that could not be opened, say); empty text: nothing."""
    return render("jams/notice.html", text=text)


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


def jam_list(views: Sequence[service.JamView], *, admin: bool = False) -> Markup:
    groups = []
    for title, phases in GROUPS:
        rows = []
        for v in (v for v in views if v.phase in phases):
            label, moment = milestone(v)
            roles = [
                words
                for flag, words in (
                    (v.my_team_id, "your team is in"),
                    (v.is_judge, "you judge"),
                    (v.is_organizer, "you organize"),
                )
                if flag
            ]
            phase_words, phase_css = PHASE_WORDS[v.phase]
            rows.append(
                {
                    "slug": v.slug,
                    "title": v.title,
                    "href": jam_href(v.slug),
                    "roles": ", ".join(roles),
                    "phase_words": phase_words,
                    "phase_css": phase_css,
                    "registration_open": v.registration_open,
                    "next": {
                        "label": label,
                        "when": when(moment, v.timezone),
                        "countdown": countdown(moment, v.server_now, done="passed"),
                    }
                    if moment
                    else None,
                }
            )
        if rows:
            groups.append({"title": title, "rows": rows})
    # The Jams timer lists again only once the server's clock reaches
    # data-changes (or a jam appears): see LIVE_JS in scripts.py.
    changes = list_changes_at(views)
    return render(
        "jams/jam_list.html",
        groups=groups,
        admin=admin,
        now_ms=int(views[0].server_now.timestamp() * 1000) if views else 0,
        changes_ms=int(changes.timestamp() * 1000) if changes else None,
    )


# ---------------------------------------------------------------- jam page


def elements_panel(view: service.JamView, team: teams.TeamView | None) -> Markup:
    """First thing a team sees after kickoff; before kickoff, when they appear."""
    if view.elements is None:
        return render(
            "jams/elements.html",
            sealed=True,
            kickoff=countdown(view.schedule["kickoff_at"], view.server_now),
        )
    drawn: dict[str, str] = dict(view.shared_elements or {})
    if team is not None:
        drawn.update(team.drawn_elements or {})
    items = [
        {
            "category": c["category"],
            "value": drawn.get(c["category"]),
            "missing": "drawn for each team" if c.get("per_team") else "not drawn yet",
        }
        for c in view.elements
    ]
    return render(
        "jams/elements.html",
        sealed=False,
        who="Your film must use" if team is not None else "Every film must use",
        items=items,
        seed=view.draw_seed,
    )


def overview(view: service.JamView, team: teams.TeamView | None) -> Markup:
    label, moment = milestone(view)
    zone, s = view.timezone, view.schedule
    schedule = [
        {
            "label": "Registration",
            "start": when(s["registration_opens_at"], zone),
            "end": when(s["registration_closes_at"], zone),
            "note": "",
        },
        {"label": "Kickoff", "start": when(s["kickoff_at"], zone), "end": None, "note": ""},
        {"label": "Deadline", "start": when(s["deadline_at"], zone), "end": None, "note": ""},
    ]
    if view.grace_seconds:
        schedule.append(
            {
                "label": "Late entries until",
                "start": when(s["grace_ends_at"], zone),
                "end": None,
                "note": "(audience award only)",
            }
        )
    schedule += [
        {
            "label": "Judging closes",
            "start": when(s["judging_closes_at"], zone),
            "end": None,
            "note": "",
        },
        {"label": "Results", "start": when(s["results_at"], zone), "end": None, "note": ""},
    ]
    rubric = ", ".join(f"{c['name']} {c['weight']:g}" for c in view.rubric)
    facts = (
        f"Teams of up to {view.team_size_max} · films {view.film_min_seconds:g} to "
        f"{view.film_max_seconds:g} s, up to {view.film_max_bytes / 1024**2:.0f} MB · "
        f"{view.gpu_seconds_grant // 60} GPU-minutes per team · rubric {rubric}"
        + (" · audience vote" if view.audience_vote else "")
        + (" · films need sound" if view.film_needs_sound else "")
    )
    phase_words, phase_css = PHASE_WORDS[view.phase]
    return render(
        "jams/overview.html",
        slug=view.slug,
        title=view.title,
        elements=elements_panel(view, team),
        phase_words=phase_words,
        phase_css=phase_css,
        clock={
            "label": label,
            "countdown": countdown(moment, view.server_now),
            "when": when(moment, zone),
        }
        if moment
        else None,
        brief=view.brief if view.brief.strip() else "",
        facts=facts,
        schedule=schedule,
        zone=zone,
        href=jam_href(view.slug),
    )


def team_panel(view: service.JamView, team: teams.TeamView | None) -> Markup:
    return render(
        "jams/team.html",
        team=team,
        registration_open=view.registration_open,
        workspace_href=workspace_href(team.workspace_slug) if team else "",
    )


def my_invites(
    view: service.JamView, team: teams.TeamView | None, invites: Sequence[teams.InviteView]
) -> Markup:
    """The signed-in person's pending invitations: nothing happens until they accept."""
    if not view.registration_open:
        note = "Registration is closed: these invitations can only be declined."
    elif team is not None:
        note = f"You are in {team.name}: leave it first to accept another team."
    else:
        note = "Accepting one joins that team and declines the others."
    return render(
        "jams/my_invites.html",
        invites=[
            {
                "id": i.id,
                "team_name": i.team_name,
                "invited_by": i.invited_by,
                "when": when(i.created_at, view.timezone),
            }
            for i in invites
        ],
        note=note,
    )


# ---------------------------------------------------------------- entry


def what_happens(view: service.JamView, entry: entries.EntryView | None) -> Markup:
    """The line above Save/Submit: exactly what submitting does now (server clock)."""
    s = view.schedule
    timer = None
    if entry is not None and entry.status.value == "disqualified":
        word, css = CLOSED, "failed"
        detail = f"disqualified: {entry.disqualified_reason}"
    elif view.phase is Phase.UPCOMING:
        word, css, detail = CLOSED, "todo", "entries open at kickoff,"
        timer = countdown(s["kickoff_at"], view.server_now)
    elif view.phase is Phase.RUNNING:
        word, css = ON_TIME, "approved"
        detail = "submitting now enters the jury ranking and the audience vote · deadline"
        timer = countdown(s["deadline_at"], view.server_now, done="passed")
    elif view.phase is Phase.GRACE:
        word, css, detail = LATE, "review", "the deadline has passed; late entries close"
        timer = countdown(s["grace_ends_at"], view.server_now)
    else:
        word, css = CLOSED, "omitted"
        detail = "the deadline and grace period are over; entries can no longer change"
    return render("jams/submit_line.html", word=word, css=css, detail=detail, countdown=timer)


def after_withdrawal(view: service.JamView) -> Markup:
    """What a team can still do once its entry is withdrawn (put_entry's rules)."""
    s = view.schedule
    until = None
    if view.phase is Phase.RUNNING:
        until = countdown(s["deadline_at"], view.server_now, done="passed")
    elif view.phase is Phase.GRACE:
        until = countdown(s["grace_ends_at"], view.server_now)
    return render("jams/withdrawn.html", phase=view.phase.value, until=until)


def after_withdrawal_words(view: service.JamView) -> str:
    """after_withdrawal in plain words, for a toast."""
    s = view.schedule
    out = "Withdrawn: your film is out of the jury ranking and the audience vote."
    if view.phase is Phase.RUNNING:
        return (
            f"{out} You can still change it and Submit again until the deadline, "
            f"{relative(s['deadline_at'], view.server_now)}: it counts on time."
        )
    if view.phase is Phase.GRACE:
        return (
            f"{out} You can still Submit again until late entries close, "
            f"{relative(s['grace_ends_at'], view.server_now)}, but it counts as late: "
            "audience award only."
        )
    return f"{out} Entries are closed, so it stays withdrawn."


def entry_card(view: service.JamView, entry: entries.EntryView | None, url: Url) -> Markup:
    if entry is None:
        return render("jams/entry_card.html", entry=None)
    status = entry.status.value
    stamp = entry.submitted_at or entry.updated_at
    return render(
        "jams/entry_card.html",
        entry=entry,
        status_css=ENTRY_CLASS.get(status, "todo"),
        stamp=when(stamp, view.timezone),
        withdrawn=after_withdrawal(view) if status == "withdrawn" else "",
        film_url=url(entry.film_asset_id) if entry.film_asset_id else "",
        poster_url=url(entry.shown_poster_asset_id) if entry.shown_poster_asset_id else "",
        length=f"{entry.film_seconds:.1f} s" if entry.film_seconds else "—",
        source=entry.film_source.value.replace("_", " ") if entry.film_source else "none",
        href=jam_href(view.slug, entry=entry.id),
    )


# ---------------------------------------------------------------- judge console


def assignment_list(
    view: service.JamView, items: Sequence[judging.AssignmentView], current: int | None
) -> Markup:
    rows = []
    for a in items:
        state, css = (
            ("submitted", "approved")
            if a.submitted_at
            else ("saved", "progress")
            if a.saved_at
            else ("to score", "todo")
        )
        rows.append(
            {
                "id": a.entry.id,
                "title": a.entry.title or "Untitled",
                "state": state,
                "css": css,
                "picked": a.entry.id == current,
                "href": jam_href(view.slug, entry=a.entry.id),
            }
        )
    done = sum(1 for a in items if a.submitted_at)
    return render("jams/judge_queue.html", rows=rows, done=done)


def judged_entry(view: service.JamView, a: judging.AssignmentView | None, url: Url) -> Markup:
    """The entry on the judge console: the film, its texts, and the elements it had to
    use (the jam's draw for everyone, then its team's own)."""
    if a is None:
        return render("jams/judged_entry.html", a=None)
    sheet = (
        "submitted — you can still change it until judging closes"
        if a.submitted_at
        else "saved, not submitted"
        if a.saved_at
        else "not scored yet"
    )
    return render(
        "jams/judged_entry.html",
        a=a,
        film_url=url(a.entry.film_asset_id) if a.entry.film_asset_id else "",
        shared=list((view.shared_elements or {}).items()),
        team_draw=list((a.entry.drawn_elements or {}).items()),
        sheet=sheet,
        href=jam_href(view.slug, entry=a.entry.id),
    )


# ---------------------------------------------------------------- organizers


def dashboard(d: service.Dashboard) -> Markup:
    return render("jams/dashboard.html", d=d, css=ENTRY_CLASS)


def organizer_actions(
    view: service.JamView, actions: Sequence[organizing.OrganizerAction]
) -> Markup:
    """Each organizer action, and why it cannot run now when it cannot."""
    return render(
        "jams/actions.html",
        actions=[
            {
                "key": a.key,
                "label": ACTION_LABELS[a.key],
                "available": a.available,
                "reason": a.reason,
                "when": when(a.at, view.timezone) if a.at else None,
                "countdown": countdown(a.at, view.server_now, done="now")
                if a.at and a.at > view.server_now
                else None,
            }
            for a in actions
        ],
    )


# ---------------------------------------------------------------- results


def results_page(view: service.JamView, r: results.Results) -> Markup:
    rubric = view.rubric
    names = [c["name"] for c in rubric]
    everyone = {e.entry_id: e for e in r.ranking + r.others}
    awards = [
        {
            "name": results.award_name(kind, rubric),
            "title": everyone[entry_id].title,
            "team": everyone[entry_id].team_name,
            "href": jam_href(view.slug, entry=entry_id),
        }
        for kind, entry_id in r.awards.items()
        if entry_id in everyone
    ]
    rows = [
        {
            "rank": e.rank,
            "title": e.title,
            "team": e.team_name,
            "score": f"{e.score:.2f}",
            "criteria": [
                f"{e.criteria[c['key']]:.2f}" if c["key"] in e.criteria else "—" for c in rubric
            ],
            "votes": e.votes,
        }
        for e in r.ranking
        if e.score is not None
    ]
    return render(
        "jams/results.html",
        published=when(r.published_at, view.timezone) if r.published_at else None,
        normalized=r.normalized,
        awards=awards,
        criteria=names,
        rows=rows,
    )


def results_pending(view: service.JamView) -> Markup:
    return render(
        "jams/results_pending.html", planned=when(view.schedule["results_at"], view.timezone)
    )


def gallery(
    view: service.JamView,
    films: Sequence[results.EntryResult],
    awards: dict[str, int],
    url: Url,
    picked: int | None = None,
) -> Markup:
    won: dict[int, list[str]] = {}
    for kind, entry_id in awards.items():
        won.setdefault(entry_id, []).append(results.award_name(kind, view.rubric))
    return render(
        "jams/gallery.html",
        films=[
            {
                "id": f.entry_id,
                "title": f.title,
                "team": f.team_name,
                "film_url": url(f.film_asset_id) if f.film_asset_id else "",
                "poster_url": url(f.poster_asset_id) if f.poster_asset_id else "",
                "prizes": won.get(f.entry_id, []),
                "late": f.status.value == "late",
                "picked": f.entry_id == picked,
                "href": jam_href(view.slug, entry=f.entry_id),
            }
            for f in films
        ],
    )


def ballot(b: votes.Ballot | None, view: service.JamView) -> Markup:
    if b is None:
        state = "none" if not view.audience_vote else "hidden"
        return render("jams/ballot.html", state=state) if state == "none" else Markup("")
    if not b.entries:
        return render(
            "jams/ballot.html", state="waiting", opens=countdown(b.opens_at, view.server_now)
        )
    chosen = next((e.title for e in b.entries if e.entry_id == b.my_vote), None)
    return render(
        "jams/ballot.html",
        state="open" if b.open else "closed",
        closes=when(b.closes_at, view.timezone),
        chosen=chosen,
    )


def withdrawable(view: service.JamView, entry: entries.EntryView | None) -> bool:
    return rules.withdrawable(view.phase, entry.status if entry else None)
