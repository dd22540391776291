"""Every renderer of the Jams, Workspaces and inline-error HTML (and the take
cards' buttons of the Projects page), fed hostile
text in every field a person can type (titles, names, briefs, loglines,
credits, reasons, comments, element pools, rubric names, slugs, even the
time zone): no markup gets through, in text or in attributes.

The test lists the renderers it covers and fails when a module gains a new
one it does not cover, so a new renderer cannot skip this check.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from studio.jams import entries, judging, organizing, results, service, teams, votes
from studio.jams.models import EntryStatus, FilmSource
from studio.jams.rules import Phase
from studio.projects import home, takes
from studio.ui import inline_errors
from studio.ui.jams import render as jams_render
from studio.ui.pages import project_html, project_live
from studio.ui.templating import Markup
from studio.ui.workspaces import render as ws_render

EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)>\"' onmouseover=alert(3) &amp;"
NOW = datetime(2030, 6, 7, 17, 0, tzinfo=UTC)


def url(asset_id: int) -> str:
    return f"/media/{asset_id}?exp=1&sig=abc"


def clean(out: str) -> None:
    lowered = out.lower()
    assert "<script" not in lowered, out
    assert "<img src=x" not in lowered, out
    assert "onerror=alert" not in lowered or "&lt;img" in lowered, out
    # Quotes are escaped, so hostile text cannot leave an attribute.
    assert '" onmouseover' not in out and "' onmouseover" not in out, out


def jam_view(phase: Phase, **more: Any) -> service.JamView:
    schedule = {
        "registration_opens_at": NOW - timedelta(days=3),
        "registration_closes_at": NOW + timedelta(hours=1),
        "kickoff_at": NOW - timedelta(hours=1),
        "deadline_at": NOW + timedelta(hours=2),
        "grace_ends_at": NOW + timedelta(hours=3),
        "judging_closes_at": NOW + timedelta(days=2),
        "results_at": NOW + timedelta(days=3),
    }
    values: dict[str, Any] = {
        "id": 1,
        "slug": EVIL,
        "title": EVIL,
        "brief": EVIL,
        "timezone": EVIL,
        "schedule": schedule,
        "grace_seconds": 600,
        "phase": phase,
        "server_now": NOW,
        "registration_open": True,
        "team_size_max": 3,
        "film_min_seconds": 1.0,
        "film_max_seconds": 4.0,
        "film_max_bytes": 10**9,
        "film_needs_sound": True,
        "rubric": [{"key": "art", "name": EVIL, "weight": 1, "min": 1, "max": 10}],
        "gpu_seconds_grant": 600,
        "audience_vote": True,
        "judges_per_entry": 1,
        "normalize_scores": False,
        "elements": [{"category": EVIL, "options": [EVIL], "per_team": False}],
        "shared_elements": {EVIL: EVIL},
        "draw_seed": 7,
        "results_published": False,
        "is_organizer": True,
        "is_judge": True,
        "my_team_id": 1,
    }
    values.update(more)
    return service.JamView(**values)


TEAM = teams.TeamView(
    id=1,
    name=EVIL,
    workspace_id=1,
    workspace_slug=EVIL,
    members=[teams.TeamMemberView(1, EVIL, EVIL)],
    size_max=3,
    drawn_elements={EVIL: EVIL},
    shared_elements={EVIL: EVIL},
    invites=[teams.PendingInviteView(2, EVIL, NOW)],
)
INVITES = [teams.InviteView(3, 1, EVIL, EVIL, NOW)]


def entry(status: EntryStatus) -> entries.EntryView:
    return entries.EntryView(
        id=1,
        team_id=1,
        team_name=EVIL,
        status=status,
        title=EVIL,
        logline=EVIL,
        credits=EVIL,
        poster_asset_id=5,
        film_asset_id=6,
        film_source=FilmSource.UPLOAD,
        film_source_id=None,
        film_seconds=2.0,
        submitted_at=NOW,
        updated_at=NOW,
        revision=1,
        disqualified_reason=EVIL,
        drawn_elements={EVIL: EVIL},
    )


def assignment() -> judging.AssignmentView:
    return judging.AssignmentView(
        assignment_id=1,
        entry=entry(EntryStatus.SUBMITTED),
        rubric=jam_view(Phase.JUDGING).rubric,
        scores={},
        notes=EVIL,
        saved_at=NOW,
        submitted_at=None,
        editable=True,
        judging_closes_at=NOW,
    )


def result(entry_id: int) -> results.EntryResult:
    return results.EntryResult(
        entry_id=entry_id,
        team_id=1,
        team_name=EVIL,
        title=EVIL,
        status=EntryStatus.LATE if entry_id == 2 else EntryStatus.SUBMITTED,
        rank=1,
        score=50.0,
        criteria={"art": 50.0},
        sheets=1,
        votes=1,
        submitted_at=NOW,
        poster_asset_id=5,
        film_asset_id=6,
    )


RESULTS = results.Results(
    slug=EVIL,
    normalized=True,
    ranking=[result(1)],
    others=[result(2)],
    awards={"grand_prize": 1, "best_art": 1, "audience": 2, EVIL: 1},
    published_at=NOW,
)
DASHBOARD = service.Dashboard(
    jam=jam_view(Phase.JUDGING),
    teams=[service.TeamRow(1, EVIL, 2, "submitted", EVIL), service.TeamRow(2, EVIL, 1, None, None)],
    entries_by_state={"submitted": 1, EVIL: 1},
    judges=[service.JudgeProgress(1, 1, EVIL, 2, 1)],
    assignments=2,
    assignments_submitted=1,
    votes_cast=3,
)
ACTIONS = [
    organizing.OrganizerAction(organizing.DRAW, False, EVIL, NOW + timedelta(hours=1)),
    organizing.OrganizerAction(organizing.ASSIGN, True, EVIL),
    organizing.OrganizerAction(organizing.PUBLISH, False, EVIL, NOW - timedelta(hours=1)),
]
BALLOT = votes.Ballot(
    open=True,
    opens_at=NOW,
    closes_at=NOW + timedelta(days=1),
    entries=[votes.BallotEntry(1, EVIL, EVIL, EVIL, 5, 6, False)],
    my_vote=1,
)
HOME = home.WorkspaceHome(
    projects=[
        home.ProjectCard(1, EVIL, EVIL, 3, 1, 1, 5),
        home.ProjectCard(2, EVIL, "", 0, 0, 0, None),
    ],
    recent_takes=[
        home.RecentTake(1, 1, 2, EVIL, 3, EVIL, EVIL, EVIL, 7, 2.0, 5, 6, NOW, EVIL),
        home.RecentTake(2, 2, 2, EVIL, 3, EVIL, "succeeded", None, None, None, None, 6, NOW, EVIL),
    ],
    in_review=[home.ShotToReview(1, EVIL, EVIL, 3, EVIL, 2)],
    awaiting_circle=[home.ShotToReview(2, EVIL, EVIL, 3, EVIL, 1)],
    mentions=[home.Mention(1, 1, EVIL, 4, 3, EVIL, EVIL, EVIL, NOW)],
    activity=[home.ActivityLine(1, NOW, EVIL, EVIL, 3, EVIL, 1, None)],
)


class FakeWorkspace:
    name = EVIL
    slug = EVIL


class FakeRole:
    value = EVIL


class FakeMine:
    workspace = FakeWorkspace()
    role = FakeRole()


class FakeMember:
    display_name = EVIL
    email = EVIL
    role = FakeRole()


def calls() -> dict[str, list[Callable[[], Any]]]:
    """Each renderer, with every kind of input that reaches a different template branch."""
    phases = list(Phase)
    statuses = list(EntryStatus)
    return {
        "jams.server_clock": [lambda: jams_render.server_clock(NOW)],
        "jams.empty": [lambda: jams_render.empty(EVIL)],
        "jams.notice": [lambda: jams_render.notice(EVIL)],
        "jams.jam_list": [
            lambda: jams_render.jam_list([jam_view(p) for p in phases], admin=True),
            lambda: jams_render.jam_list([], admin=True),
        ],
        "jams.elements_panel": [
            lambda: jams_render.elements_panel(jam_view(Phase.RUNNING), TEAM),
            lambda: jams_render.elements_panel(jam_view(Phase.UPCOMING, elements=None), None),
        ],
        "jams.overview": [lambda p=p: jams_render.overview(jam_view(p), TEAM) for p in phases],
        "jams.team_panel": [
            lambda: jams_render.team_panel(jam_view(Phase.RUNNING), TEAM),
            lambda: jams_render.team_panel(jam_view(Phase.RUNNING), None),
        ],
        "jams.my_invites": [
            lambda: jams_render.my_invites(jam_view(Phase.RUNNING), TEAM, INVITES),
            lambda: jams_render.my_invites(jam_view(Phase.RUNNING), None, INVITES),
        ],
        "jams.what_happens": [
            lambda p=p, s=s: jams_render.what_happens(jam_view(p), entry(s))
            for p in phases
            for s in statuses
        ],
        "jams.after_withdrawal": [
            lambda p=p: jams_render.after_withdrawal(jam_view(p)) for p in phases
        ],
        "jams.entry_card": [
            lambda s=s: jams_render.entry_card(jam_view(Phase.RUNNING), entry(s), url)
            for s in statuses
        ]
        + [lambda: jams_render.entry_card(jam_view(Phase.RUNNING), None, url)],
        "jams.assignment_list": [
            lambda: jams_render.assignment_list(jam_view(Phase.JUDGING), [assignment()], 1),
            lambda: jams_render.assignment_list(jam_view(Phase.JUDGING), [], None),
        ],
        "jams.judged_entry": [
            lambda: jams_render.judged_entry(jam_view(Phase.JUDGING), assignment(), url),
            lambda: jams_render.judged_entry(jam_view(Phase.JUDGING), None, url),
        ],
        "jams.dashboard": [lambda: jams_render.dashboard(DASHBOARD)],
        "jams.organizer_actions": [
            lambda: jams_render.organizer_actions(jam_view(Phase.RUNNING), ACTIONS)
        ],
        "jams.results_page": [lambda: jams_render.results_page(jam_view(Phase.PUBLISHED), RESULTS)],
        "jams.results_pending": [lambda: jams_render.results_pending(jam_view(Phase.JUDGING))],
        "jams.gallery": [
            lambda: jams_render.gallery(
                jam_view(Phase.PUBLISHED), [result(1), result(2)], RESULTS.awards, url, picked=1
            ),
            lambda: jams_render.gallery(jam_view(Phase.PUBLISHED), [], {}, url),
        ],
        "jams.ballot": [
            lambda: jams_render.ballot(BALLOT, jam_view(Phase.JUDGING)),
            lambda: jams_render.ballot(None, jam_view(Phase.JUDGING, audience_vote=False)),
            lambda: jams_render.ballot(
                votes.Ballot(False, NOW, NOW, [], None), jam_view(Phase.GRACE)
            ),
            lambda: jams_render.ballot(
                votes.Ballot(False, NOW, NOW, BALLOT.entries, None), jam_view(Phase.CLOSED)
            ),
        ],
        "workspaces.notice": [lambda: ws_render.notice(EVIL)],
        "workspaces.first_step": [lambda: ws_render.first_step(EVIL)],
        "workspaces.summary": [lambda: ws_render.summary(FakeMine(), 2)],
        "workspaces.members_table": [lambda: ws_render.members_table([FakeMember()])],
        "workspaces.home_page": [
            lambda: ws_render.home_page(HOME, EVIL, url, NOW),
            lambda: ws_render.home_page(HOME, EVIL, None, NOW),
            lambda: ws_render.home_page(home.WorkspaceHome([], [], [], [], [], []), EVIL, url, NOW),
        ],
        "inline_errors.shown": [lambda: inline_errors.shown(EVIL)["value"]],
        "projects.header": [
            lambda: project_live.header(
                SimpleNamespace(  # type: ignore[arg-type]
                    title=EVIL,
                    logline=EVIL,
                    default_ratio=EVIL,
                    default_fps=24,
                    archived_at=NOW,
                ),
                3,
                [],
            )
        ],
        "projects.take_actions": [
            lambda: project_html.take_actions(1, 2, dict.fromkeys(takes.CARD_ACTIONS, EVIL)),
            lambda: project_html.take_actions(1, 2, {}, favorite=True),
        ],
    }


def renderers(module: ModuleType, prefix: str) -> set[str]:
    """The module's public functions that return HTML (annotated -> Markup)."""
    return {
        f"{prefix}.{name}"
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__
        and not name.startswith("_")
        and inspect.signature(fn).return_annotation in ("Markup", Markup)
    }


def test_every_renderer_is_covered() -> None:
    owned = renderers(jams_render, "jams") | renderers(ws_render, "workspaces")
    owned |= renderers(project_html, "projects") | renderers(project_live, "projects")
    covered = set(calls())
    assert owned <= covered, f"renderers without a hostile-string case: {owned - covered}"


@pytest.mark.parametrize("name", sorted(calls()))
def test_hostile_text_never_becomes_markup(name: str) -> None:
    for make in calls()[name]:
        out = str(make())
        clean(out)
        if name not in ("jams.server_clock",) and out:
            # The hostile text is there, escaped, wherever a field was shown.
            assert "&lt;script&gt;" in out or "%3Cscript%3E" in out or EVIL not in out, name
