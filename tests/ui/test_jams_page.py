"""The Jams page handlers, called the way a signed-in browser (or anyone with
a session) calls them: `/gradio_api/call/<api_name>`, inputs and outputs
read by the components' names (tests/ui/named.py).

Jams are built with schedules relative to the real database clock, so each
test's jam is in the phase it needs (running, upcoming, judging, closed);
what happened earlier (registrations, entries, scores, votes) is recorded
through the services with a fixed clock, as tests/jams does.

An error shows beside the action that caused it (its error line), and every
other output of that event is left as it was (the form keeps what was typed).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from studio.config import Settings
from studio.db.session import Database
from studio.jams import entries, judging, service
from studio.media.storage import LocalStorage, Storage
from tests.factories import UserInfo, call_ui, login, make_user
from tests.jams.helpers import (
    SECRET_WORDS,
    actor,
    film_bytes,
    make_jam,
    put,
    register,
    upload,
)
from tests.ui.named import call, dependency, error, rows, table, untouched, value, visible
from tests.ui.pages import Pages, build_pages, named, request_of, shown

SETTINGS = [
    "title",
    "brief",
    "zone",
    "opens",
    "closes",
    "kickoff",
    "deadline",
    "grace",
    "judging",
    "results-at",
    "team-max",
    "film-min",
    "film-max",
    "per-entry",
    "gpu-minutes",
    "audience",
    "normalize",
    "rubric",
]
NO_SCORES = {f"judge_score_{i}": 0 for i in range(3, 10)}  # hidden for a 3-criterion rubric
RUBRIC_HEADERS = ["Criterion", "Weight", "Min", "Max"]
PICKER_FORMAT = "%Y-%m-%d %H:%M:%S"
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.fixture
def storage(settings: Settings) -> Storage:
    return LocalStorage(settings.media_path)


def client_for(server: httpx.Client, user: UserInfo) -> httpx.Client:
    client = httpx.Client(base_url=str(server.base_url), timeout=30)
    login(client, user)
    return client


def open_jam(http: httpx.Client, slug: str) -> dict[str, Any]:
    return call(http, "open_jam", jam_pick=slug)


def no_secrets(out: Any) -> bool:
    text = json.dumps(out)
    return not any(word in text for word in SECRET_WORDS)


def upload_file(http: httpx.Client, data: bytes, name: str = "film.mp4") -> dict[str, Any]:
    response = http.post("/gradio_api/upload", files={"files": (name, data, "video/mp4")})
    assert response.status_code == 200, response.text
    return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}}


def choices(out: dict[str, Any], name: str) -> list[Any]:
    return list(out[name]["choices"])


def settings_of(out: dict[str, Any], prefix: str = "settings") -> dict[str, Any]:
    shown = {name: value(out, f"{prefix}-{name}") for name in SETTINGS}
    shown["rubric"] = rows(out, f"{prefix}-rubric")
    return shown


def settings_inputs(form: dict[str, Any], prefix: str = "settings") -> dict[str, Any]:
    given = {f"{prefix}-{name}": v for name, v in form.items()}
    given[f"{prefix}-rubric"] = table(form["rubric"], RUBRIC_HEADERS)
    return given


def running_jam(db: Database, **overrides: Any) -> tuple[str, UserInfo]:
    """Kicked off an hour ago; registration open one more hour; deadline in two."""
    now = datetime.now(UTC)
    values = {
        "registration_opens_at": now - timedelta(hours=2),
        "kickoff_at": now - timedelta(hours=1),
        "registration_closes_at": now + timedelta(hours=1),
        "deadline_at": now + timedelta(hours=2),
    }
    return make_jam(db, **{**values, **overrides})


def judging_jam(db: Database, storage: Storage, **overrides: Any) -> dict[str, Any]:
    """Deadline yesterday, judging open two more days; two teams submitted on time."""
    now = datetime.now(UTC)
    kickoff = now - timedelta(days=3)
    deadline = now - timedelta(days=1)
    values = {
        "registration_opens_at": kickoff - timedelta(days=1),
        "kickoff_at": kickoff,
        "deadline_at": deadline,
        "judging_closes_at": now + timedelta(days=2),
        "judges_per_entry": 1,
        **overrides,
    }
    slug, admin = make_jam(db, **values)
    captains, entry_ids = [], []
    for name in ("Otters", "Herons"):
        captain = make_user(db, name.lower())
        register(db, slug, captain, name, when=kickoff - timedelta(days=1))
        film = upload(db, slug, captain, storage)
        made = put(
            db,
            slug,
            captain,
            storage,
            deadline - timedelta(hours=1),
            film_asset_id=film,
            title=f"{name} at Night",
        )
        captains.append(captain)
        entry_ids.append(made.id)
    return {"slug": slug, "admin": admin, "captains": captains, "entries": entry_ids}


def test_a_team_registers_invites_and_submits(db: Database, http: httpx.Client) -> None:
    slug, _ = running_jam(db)
    captain, mate, outsider = make_user(db, "captain"), make_user(db, "mate"), make_user(db, "out")
    login(http, captain)

    listed = call(http, "refresh_jams", jam_pick=None)
    assert slug in listed["jam-list"] and "Running" in listed["jam-list"]
    assert f'href="/jams?jam={slug}"' in listed["jam-list"]  # a nav-link per jam
    page = open_jam(http, slug)
    assert page["jam-tabs"]["selected"] == "jam"
    assert visible(page, "jam-register-box") is True
    assert visible(page, "tab-jam-submit") is False
    # After kickoff, the elements lead the jam page, with the countdown to the deadline.
    overview = page["jam-overview"]
    assert overview.index("jam-elements") < overview.index("jam-title")
    assert not no_secrets(overview) and 'class="countdown"' in overview
    # Times name the jam's zone (the browser adds the viewer's): never raw ISO text.
    assert 'data-zone="Europe/Paris"' in overview and ("CEST" in overview or "CET" in overview)
    assert "+00:00</time>" not in overview

    registered = call(http, "register_team", jam_pick=slug, jam_team_name="Otters")
    assert "Otters" in registered["jam-team"] and captain.email in registered["jam-team"]
    assert registered["tab-jam-submit"]["visible"] is True
    assert error(registered, "jam-register-error") == ""
    # An error stays beside its button; the form keeps what was typed.
    again = call(http, "register_team", jam_pick=slug, jam_team_name="Otters II")
    assert "already" in error(again, "jam-register-error").lower()
    assert untouched(again, "jam-team-name", "jam-team", "jam-overview")
    # Invitations are pending: listed for the team, nothing granted until accepted.
    invited = call(http, "invite_member", jam_pick=slug, jam_invite_email=mate.email)
    assert "1 of 3 members" in invited["jam-team"]
    assert f"{mate.email} <span" in invited["jam-team"] and "invited" in invited["jam-team"]
    assert (
        invited["jam-pending-box"]["visible"] is True and value(invited, "jam-invite-email") == ""
    )
    bad = call(http, "invite_member", jam_pick=slug, jam_invite_email="not an email")
    assert error(bad, "jam-team-error") and untouched(bad, "jam-invite-email", "jam-team")
    # An address without an account is answered the same way (nothing to probe).
    unknown = call(http, "invite_member", jam_pick=slug, jam_invite_email="nobody@studio.example")
    assert "nobody@studio.example" in unknown["jam-team"]
    (nobody,) = [v for label, v in choices(unknown, "jam-pending-pick") if "nobody" in label]
    cancelled = call(http, "cancel_invite", jam_pick=slug, jam_pending_pick=nobody)
    assert "nobody@studio.example" not in cancelled["jam-team"]
    mate_client = client_for(http, mate)
    before = open_jam(mate_client, slug)
    assert "You're invited to join <b>Otters</b>" in before["jam-invites"]
    assert before["jam-invites-box"]["visible"] is True
    assert before["tab-jam-submit"]["visible"] is False
    ((_, invite_id),) = choices(before, "jam-invite-pick")
    refused = call(mate_client, "save_entry", jam_pick=slug, entry_title="Mine")
    assert "not in a team" in error(refused, "entry-error")
    stolen = call(
        client_for(http, outsider), "accept_invite", jam_pick=slug, jam_invite_pick=invite_id
    )
    assert "No such invitation" in error(stolen, "jam-invites-error")
    joined = call(mate_client, "accept_invite", jam_pick=slug, jam_invite_pick=invite_id)
    assert mate.email in joined["jam-team"] and "2 of 3 members" in joined["jam-team"]
    assert joined["tab-jam-submit"]["visible"] is True
    assert joined["jam-invites-box"]["visible"] is False

    # A draft with an uploaded film, then submitted: the page says what it means.
    film = upload_file(http, film_bytes())
    saved = call(
        http,
        "save_entry",
        jam_pick=slug,
        entry_title="Night Swim",
        entry_logline="A lake.",
        entry_credits="Otters",
        entry_film=film,
    )
    assert saved["entry-poster"] is None and saved["entry-film"] is None  # inputs cleared
    assert 'data-rule="on time"' in saved["jam-submit-line"]
    card = saved["jam-entry"]
    assert 'data-status="draft"' in card and "<video" in card and "Night Swim" in card
    assert "copy-link" in card and "entry=" in card  # a link to this entry
    assert saved["entry-withdraw"]["visible"] is True
    assert value(saved, "entry-title") == "Night Swim"
    submitted = call(
        http,
        "submit_entry",
        jam_pick=slug,
        entry_title="Night Swim",
        entry_logline="A lake.",
        entry_credits="Otters",
    )
    assert 'data-status="submitted"' in submitted["jam-entry"]
    assert "revision 2" in submitted["jam-entry"]
    # Submitting without a title: the reason beside the buttons, every field as typed.
    empty = call(http, "submit_entry", jam_pick=slug, entry_logline="Still typing")
    assert "title" in error(empty, "entry-error").lower()
    assert untouched(empty, "entry-title", "entry-logline", "entry-credits", "entry-film")
    assert untouched(empty, "jam-entry", "entry-workspace-film")

    # The teammate sees the entry; an outsider sees neither the draft nor the team's people.
    assert "Night Swim" in open_jam(mate_client, slug)["jam-entry"]
    outside = client_for(http, outsider)
    seen = open_jam(outside, slug)
    assert "Night Swim" not in json.dumps(seen) and captain.email not in json.dumps(seen)
    assert seen["tab-jam-submit"]["visible"] is False
    stolen_entry = call(outside, "save_entry", jam_pick=slug, entry_title="Mine now")
    assert "not in a team" in error(stolen_entry, "entry-error")
    crashed = call(outside, "invite_member", jam_pick=slug, jam_invite_email=outsider.email)
    assert "not in a team" in error(crashed, "jam-team-error")


def test_create_jam_opens_it_with_pickers_rubric_and_no_premature_actions(
    db: Database, http: httpx.Client
) -> None:
    admin = make_user(db, "admin", is_admin=True)
    captain = make_user(db, "captain")
    login(http, admin)
    now = datetime.now(UTC)
    paris = ZoneInfo("Europe/Paris")
    slug = f"autumn-{captain.id}"
    kickoff = (now + timedelta(days=2)).replace(second=0, microsecond=0)
    closes = kickoff - timedelta(hours=6)

    def picked(moment: datetime) -> str:
        """What a date-time picker sends: wall-clock in the form's zone."""
        return moment.astimezone(paris).strftime(PICKER_FORMAT)

    form = {
        "title": "Autumn Jam",
        "brief": "Make a film about leaving.",
        "zone": "Europe/Paris",
        "opens": picked(now - timedelta(hours=1)),
        "closes": picked(closes),
        "kickoff": picked(kickoff),
        "deadline": "",
        "grace": 10,
        "judging": "",
        "results-at": "",
        "team-max": 3,
        "film-min": 1,
        "film-max": 4,
        "per-entry": 2,
        "gpu-minutes": 30,
        "audience": True,
        "normalize": False,
        "rubric": [["Story", 50, 1, 5], ["Craft", 30, 1, 5], ["Sound & music", 20, 0, 10]],
    }
    elements = (
        "character: a retired astronaut; a twin\ngenre (per team): film noir; musical; western"
    )
    page = call(http, "refresh_jams", jam_pick=None)
    assert page["tab-jam-new"]["visible"] is True  # admins create jams in their own tab
    assert page["tab-jam-organize"]["visible"] is False  # no jam picked: nothing to run

    # An error leaves the whole form as typed, and says why beside the button.
    late = {**form, "closes": picked(kickoff + timedelta(days=3))}
    refused = call(
        http,
        "jam_create",
        **settings_inputs(late, "create"),
        create_slug=slug,
        create_elements=elements,
    )
    assert "registration must close by the deadline" in error(refused, "create-error")
    assert untouched(refused, "jam-tabs", "jam-pick", "jam-overview")
    bad_rubric = {**form, "rubric": [["Story", 0, 1, 5]]}
    refused = call(http, "jam_create", **settings_inputs(bad_rubric, "create"), create_slug=slug)
    assert "weight" in error(refused, "create-error")

    created = call(
        http,
        "jam_create",
        **settings_inputs(form, "create"),
        create_slug=slug,
        create_elements=elements,
    )
    assert error(created, "create-error") == ""
    # The new jam is picked and opens on its Jam tab.
    assert created["jam-tabs"]["selected"] == "jam"
    assert value(created, "jam-pick") == slug
    assert (slug, slug) in [tuple(c) for c in choices(created, "jam-pick")] or any(
        c[1] == slug for c in choices(created, "jam-pick")
    )
    assert "revealed at" in created["jam-overview"]
    assert "Make a film about leaving" in created["jam-overview"]
    assert "Upcoming" in created["jam-list"]
    assert no_secrets(created), "the organizer's page shows no element before kickoff"
    with db.session_scope() as session:
        made = service.get_jam_setup(session, actor(session, admin), slug)
        assert made.registration_closes_at == closes
        assert made.kickoff_at == kickoff
        assert made.deadline_at == made.kickoff_at + timedelta(hours=48)
        assert made.grace_seconds == 600 and made.gpu_seconds_grant == 1800
        assert [(c["name"], c["weight"], c["min"], c["max"]) for c in made.rubric] == [
            ("Story", 50, 1, 5),
            ("Craft", 30, 1, 5),
            ("Sound & music", 20, 0, 10),
        ]
        assert [c["key"] for c in made.rubric] == ["story", "craft", "sound_music"]
    # The editor shows the same: pickers in the jam's zone, the rubric as a table.
    shown = settings_of(created)
    assert shown["closes"] == picked(closes) and shown["kickoff"] == picked(kickoff)
    assert shown["zone"] == "Europe/Paris"
    assert shown["rubric"] == [
        ["Story", 50, 1, 5],
        ["Craft", 30, 1, 5],
        ["Sound & music", 20, 0, 10],
    ]
    assert "Europe/Paris" in value(created, "settings-hint")
    # Organize: no draw, assignment or publication before they apply, and the page says
    # why and from when (the jam's zone named, the viewer's added by the browser).
    assert created["tab-jam-organize"]["visible"] is True
    for button in ("org-draw", "org-assign", "org-publish"):
        assert created[button]["visible"] is False, button
    actions = created["org-actions"]
    assert 'data-action="draw" data-available="no"' in actions
    assert "The draw runs by itself at kickoff" in actions and "<time" in actions
    assert "Judges are assigned once late entries close" in actions
    assert "Results can be published once judging closes" in actions
    # A direct call is refused by the service, in words (no ISO time), beside the actions.
    early = call(http, "jam_draw", jam_pick=slug)
    assert "at kickoff" in error(early, "org-actions-error")
    early = call(http, "jam_assign_judges", jam_pick=slug)
    message = error(early, "org-actions-error")
    assert "late entries close" in message and "(Europe/Paris)" in message
    assert not ISO_TIME.search(message), message
    taken = call(http, "jam_create", **settings_inputs(form, "create"), create_slug=slug)
    assert "slug" in error(taken, "create-error")
    # Everyone else: no New jam tab, and the handler refuses.
    team_client = client_for(http, captain)
    call(team_client, "register_team", jam_pick=slug, jam_team_name="Otters")
    team_page = open_jam(team_client, slug)
    assert "Otters" in team_page["jam-team"] and no_secrets(team_page)
    assert team_page["tab-jam-new"]["visible"] is False
    line = team_page["jam-submit-line"]
    assert 'data-rule="closed"' in line and "entries open at kickoff" in line
    other = call(
        team_client, "jam_create", **settings_inputs(form, "create"), create_slug="x-" + slug
    )
    assert "Only studio admins" in error(other, "create-error")


def test_the_rubric_editor_round_trip_and_freeze(
    db: Database, http: httpx.Client, storage: Storage
) -> None:
    """Organizers edit criteria, weights and ranges; keys stay while names stay; the
    service validates; once a judge has scored, the rubric is frozen but the rest of
    the form still saves."""
    now = datetime.now(UTC)
    slug, admin = running_jam(db)
    boss = client_for(http, admin)
    shown = settings_of(open_jam(boss, slug))
    assert shown["rubric"] == [
        ["Artistic", 45, 1, 10],
        ["Technical", 30, 1, 10],
        ["Adherence to the brief", 25, 1, 10],
    ]
    edited = {
        **shown,
        "rubric": [
            ["Artistic", 40, 1, 10],
            ["Technical", 30, 1, 10],
            ["Adherence to the brief", 20, 1, 10],
            ["Sound", 10, 0, 5],
            ["", None, None, None],  # an empty row the table editor leaves
        ],
    }
    saved = call(boss, "jam_update_settings", jam_pick=slug, **settings_inputs(edited))
    assert error(saved, "org-save-error") == ""
    assert settings_of(saved)["rubric"][-1] == ["Sound", 10, 0, 5]
    assert "Sound 10" in saved["jam-overview"]  # the jam page shows the new rubric
    with db.session_scope() as session:
        rubric = service.get_jam_setup(session, actor(session, admin), slug).rubric
    assert [c["key"] for c in rubric] == ["artistic", "technical", "adherence", "sound"]
    # The service's rules: min below max; the row and the criterion are named.
    wrong = {**edited, "rubric": [["Artistic", 40, 10, 1]]}
    refused = call(boss, "jam_update_settings", jam_pick=slug, **settings_inputs(wrong))
    assert "min must be less than max" in error(refused, "org-save-error")
    assert untouched(refused, "settings-rubric", "settings-title", "jam-overview")
    nameless = {**edited, "rubric": [["", 40, 1, 10]]}
    refused = call(boss, "jam_update_settings", jam_pick=slug, **settings_inputs(nameless))
    assert "Rubric row 1: give the criterion a name" in error(refused, "org-save-error")

    # Once a judge has scored, the rubric freezes; other settings still save.
    judge = make_user(db, "judge")
    jam = judging_jam(db, storage)
    organizer = client_for(http, jam["admin"])
    with db.session_scope() as session:
        boss_actor = actor(session, jam["admin"])
        judging.add_judge(session, boss_actor, jam["slug"], email=judge.email)
        judging.assign_judges(session, boss_actor, jam["slug"])
    with db.session_scope() as session:
        first = judging.list_my_assignments(session, actor(session, judge), jam["slug"])[0]
        judging.save_scores(
            session,
            actor(session, judge),
            jam["slug"],
            first.entry.id,
            scores={"artistic": 5, "technical": 5, "adherence": 5},
        )
    frozen = settings_of(open_jam(organizer, jam["slug"]))
    renamed = call(
        organizer,
        "jam_update_settings",
        jam_pick=jam["slug"],
        **settings_inputs({**frozen, "title": "Harbour Jam"}),
    )
    assert error(renamed, "org-save-error") == ""
    assert "Harbour Jam" in renamed["jam-overview"]
    changed = {**frozen, "rubric": [["Artistic", 100, 1, 10]]}
    refused = call(
        organizer, "jam_update_settings", jam_pick=jam["slug"], **settings_inputs(changed)
    )
    assert "rubric is frozen" in error(refused, "org-save-error")
    del now


def test_a_judge_scores_only_assigned_entries(
    db: Database, http: httpx.Client, storage: Storage
) -> None:
    jam = judging_jam(db, storage)
    slug, otters = jam["slug"], jam["captains"][0]
    judge_a, judge_b = make_user(db, "judge-a"), make_user(db, "judge-b")
    organizer = client_for(http, jam["admin"])
    board = open_jam(organizer, slug)
    # Judging is open but nobody judges yet: Assign is not offered, and says why.
    assert board["org-assign"]["visible"] is False
    assert "Appoint judges first" in board["org-actions"]
    bad = call(organizer, "jam_add_judge", jam_pick=slug, org_judge_email="nobody@studio.example")
    assert "No Studio account" in error(bad, "org-judge-error")
    assert untouched(bad, "org-judge-email", "jam-dashboard")
    for judge in (judge_a, judge_b):
        call(organizer, "jam_add_judge", jam_pick=slug, org_judge_email=judge.email)
    ready = open_jam(organizer, slug)
    assert ready["org-assign"]["visible"] is True and ready["org-publish"]["visible"] is False
    assert "0 of 2 assignments made" in ready["org-actions"]
    assigned = call(organizer, "jam_assign_judges", jam_pick=slug)
    assert "0 of 2 score sheets submitted" in assigned["jam-dashboard"]

    login(http, judge_a)
    page = open_jam(http, slug)
    assert page["tab-jam-judge"]["visible"] is True
    assert page["tab-jam-organize"]["visible"] is False
    mine = [v for _, v in choices(page, "judge-pick")]
    assert len(mine) == 1 and value(page, "judge-pick") == mine[0]
    other = next(e for e in jam["entries"] if e != mine[0])
    judged = page["judge-entry"]
    assert "<video" in judged and "not scored yet" in judged
    assert f"entry={mine[0]}" in judged  # its copy link
    # The elements the film had to use: the draw for everyone and the team's own.
    with db.session_scope() as session:
        shared = service.get_jam(session, actor(session, judge_a), slug).shared_elements
        drawn = judging.get_assigned_entry(
            session, actor(session, judge_a), slug, mine[0]
        ).entry.drawn_elements
    assert shared and set(shared) == {"character", "prop"} and drawn and set(drawn) == {"genre"}
    assert f"team's draw: genre: <b>{drawn['genre']}</b>" in judged
    for category, drawn_value in shared.items():
        assert f"{category}: <b>{drawn_value}</b>" in judged
    slider = page["judge-score-0"]
    assert slider["visible"] is True and (slider["minimum"], slider["maximum"]) == (1, 10)
    assert "Artistic" in slider["label"] and page["judge-score-3"]["visible"] is False
    # The unassigned entry is not there, by id or by title.
    refused = call(http, "open_assignment", jam_pick=slug, judge_pick=other)
    assert "No such entry among your assignments" in error(refused, "judge-error")
    scores = {"judge_score_0": 9, "judge_score_1": 9, "judge_score_2": 9, **NO_SCORES}
    refused = call(http, "submit_scores", jam_pick=slug, judge_pick=other, **scores)
    assert "No such entry among your assignments" in error(refused, "judge-error")

    marks = {"judge_score_0": 8, "judge_score_1": 6, "judge_score_2": 7, **NO_SCORES}
    saved = call(
        http, "save_scores", jam_pick=slug, judge_pick=mine[0], judge_notes="Strong sound.", **marks
    )
    assert "saved, not submitted" in saved["judge-entry"]
    assert value(saved, "judge-notes") == "Strong sound."
    too_high = call(
        http, "submit_scores", jam_pick=slug, judge_pick=mine[0], **{**marks, "judge_score_0": 11}
    )
    assert "from 1 to 10" in error(too_high, "judge-error")
    assert untouched(too_high, "judge-score-0", "judge-notes", "judge-entry")
    done = call(
        http,
        "submit_scores",
        jam_pick=slug,
        judge_pick=mine[0],
        judge_notes="Strong sound.",
        **marks,
    )
    assert "1 of 1 submitted" in done["judge-queue"]
    with db.session_scope() as session:
        sheet = judging.get_assigned_entry(session, actor(session, judge_a), slug, mine[0])
        assert sheet.scores == {"artistic": 8, "technical": 6, "adherence": 7}
        assert sheet.submitted_at is not None and sheet.notes == "Strong sound."

    # Neither a team captain nor a judge runs the organizers' actions.
    captain = client_for(http, otters)
    for client in (captain, http):
        for name, inputs, line in [
            ("jam_assign_judges", {}, "org-actions-error"),
            ("jam_add_judge", {"org_judge_email": otters.email}, "org-judge-error"),
            ("jam_publish_results", {}, "org-actions-error"),
            ("jam_export_csv", {"org_export_kind": "scores"}, "org-export-error"),
            ("jam_disqualify", {"org_entry_pick": other, "org_dq_reason": "Stock"}, "org-dq-error"),
        ]:
            out = call(client, name, jam_pick=slug, **inputs)
            assert "Only this jam's organizers" in error(out, line), name
    refused = call(captain, "open_assignment", jam_pick=slug, judge_pick=other)
    assert "not a judge" in error(refused, "judge-error")
    captain_page = open_jam(captain, slug)
    assert captain_page["tab-jam-judge"]["visible"] is False
    assert "organizers see its dashboard" in captain_page["org-actions"]
    # Submitted films are on the public ballot after grace; your own team's is not votable.
    assert [label for label, _ in choices(captain_page, "jam-vote-pick")] == [
        "Herons at Night — Herons"
    ]
    assert captain_page["jam-vote-box"]["visible"] is True
    own = call(captain, "cast_vote", jam_pick=slug, jam_vote_pick=jam["entries"][0])
    assert "own team" in error(own, "jam-vote-error")
    voter = client_for(http, make_user(db, "voter"))
    ballot = call(voter, "cast_vote", jam_pick=slug, jam_vote_pick=jam["entries"][0])
    assert "Your vote: <b>Otters at Night</b>" in ballot["jam-ballot"]

    # The organizer: a conflict drops judge B's assignment, a disqualification shows, CSV.
    board = open_jam(organizer, slug)
    judges = {label.split(" <")[0]: v for label, v in choices(board, "org-judge-pick")}
    teams = dict(choices(board, "org-team-pick"))
    b_entry = next(e for e in jam["entries"] if e != mine[0])
    b_team = "Otters" if b_entry == jam["entries"][0] else "Herons"
    judge_b_name = next(name for name in judges if name.startswith("judge-b"))
    call(
        organizer,
        "jam_add_conflict",
        jam_pick=slug,
        org_judge_pick=judges[judge_b_name],
        org_team_pick=teams[b_team],
        org_conflict_reason="friends",
    )
    assert choices(open_jam(client_for(http, judge_b), slug), "judge-pick") == []
    no_reason = call(organizer, "jam_disqualify", jam_pick=slug, org_entry_pick=b_entry)
    assert "reason" in error(no_reason, "org-dq-error")
    out = call(
        organizer,
        "jam_disqualify",
        jam_pick=slug,
        org_entry_pick=b_entry,
        org_dq_reason="Made before kickoff",
    )
    assert value(out, "org-dq-reason") == "" and "disqualified 1" in out["jam-dashboard"]
    exported = call(organizer, "jam_export_csv", jam_pick=slug, org_export_kind="scores")
    csv_text = organizer.get(exported["org-export-file"]["url"]).text
    assert csv_text.splitlines()[0].startswith("entry_id,team,title,judge,artistic")
    assert ",8.0,6.0,7.0," in csv_text


def test_results_and_gallery_after_publication(
    db: Database, http: httpx.Client, storage: Storage, pages: Pages
) -> None:
    now = datetime.now(UTC)
    jam = judging_jam(db, storage, judging_closes_at=now - timedelta(hours=1))
    slug, admin = jam["slug"], jam["admin"]
    judge = make_user(db, "judge")
    during = now - timedelta(hours=2)
    with db.session_scope() as session:
        boss = actor(session, admin)
        judging.add_judge(session, boss, slug, email=judge.email)
        judging.assign_judges(session, boss, slug, clock=lambda _s: during)
    with db.session_scope() as session:
        me = actor(session, judge)
        for entry_id, mark in zip(jam["entries"], (9, 4), strict=True):
            judging.save_scores(
                session,
                me,
                slug,
                entry_id,
                scores={"artistic": mark, "technical": mark, "adherence": mark},
                submit=True,
                clock=lambda _s: during,
            )
    viewer = client_for(http, make_user(db, "viewer"))
    before = open_jam(viewer, slug)
    assert "Results are published after judging closes" in before["jam-results"]
    assert "Otters at Night" not in before["jam-results"] + before["jam-gallery"]
    # Voting closed with judging: no vote form, and the ballot says so.
    assert choices(before, "jam-vote-pick") == [] and before["jam-vote-box"]["visible"] is False
    assert "Voting is closed" in before["jam-ballot"]
    refused = call(viewer, "jam_publish_results", jam_pick=slug)
    assert "Only this jam's organizers" in error(refused, "org-actions-error")

    organizer = client_for(http, admin)
    ready = open_jam(organizer, slug)
    assert ready["org-publish"]["visible"] is True and ready["org-assign"]["visible"] is False
    assert "Judging closed" in ready["org-actions"]
    published = call(organizer, "jam_publish_results", jam_pick=slug)
    board = published["jam-results"]
    assert 'Grand prize</b>: <a class="nav-link"' in board and "Otters at Night" in board
    assert board.index("Otters at Night") < board.index("Herons at Night")
    assert published["org-publish"]["visible"] is False
    assert "Results were published" in published["org-actions"]
    after = open_jam(viewer, slug)
    assert "Grand prize" in after["jam-results"]
    gallery = after["jam-gallery"]
    assert gallery.count("<video") == 2
    # One name per award: the list and the gallery badges say the same words.
    for award in ("Grand prize", "Best Artistic", "Best Technical", "Best Adherence to the brief"):
        assert f"<b>{award}</b>" in after["jam-results"], award
        assert f'class="status approved">{award}</span>' in gallery, award
    assert "best artistic" not in gallery
    assert "results out" in after["jam-list"] and "Finished" in after["jam-list"]
    # A link to an entry now opens it in the gallery, for anyone signed in.
    someone = make_user(db, "someone")
    routed = named(
        pages.jams.route({"jam": slug, "entry": str(jam["entries"][1])}, request_of(someone))
    )
    assert routed["jam-tabs"].selected == "results" and shown(routed["jam-notice"]) == ""
    assert f'class="take picked" id="entry-{jam["entries"][1]}"' in shown(routed["jam-gallery"])


def attribute(html: str, name: str) -> int:
    """The first `name="<number>"` in some HTML."""
    return int(html.split(f'{name}="', 1)[1].split('"', 1)[0])


def event_js(http: httpx.Client, api_name: str) -> str:
    """The `js=` an event runs in the browser before it is sent."""
    return str(dependency(http, api_name).get("js") or "")


def test_a_team_withdraws_its_entry_and_sees_what_it_can_still_do(
    db: Database, http: httpx.Client, storage: Storage
) -> None:
    now = datetime.now(UTC)
    slug, _ = running_jam(db)
    captain, outsider = make_user(db, "captain"), make_user(db, "out")
    register(db, slug, captain, "Otters", when=now - timedelta(hours=2))
    film = upload(db, slug, captain, storage)
    put(db, slug, captain, storage, now, film_asset_id=film, title="Night Swim")
    login(http, captain)

    page = open_jam(http, slug)
    assert 'data-status="submitted"' in page["jam-entry"]
    assert page["entry-withdraw"]["visible"] is True
    # The browser asks first; cancelling throws, so nothing is sent.
    js = event_js(http, "withdraw_entry")
    assert "confirm(" in js and "throw" in js and "submit it again" in js

    out = call(http, "withdraw_entry", jam_pick=slug)
    card = out["jam-entry"]
    assert 'data-status="withdrawn"' in card and "out of the jury ranking" in card
    assert "<b>Submit</b> again until the deadline" in card and "counts on time" in card
    assert 'class="countdown"' in card and 'data-rule="on time"' in out["jam-submit-line"]
    assert out["entry-withdraw"]["visible"] is False
    with db.session_scope() as session:
        mine = entries.get_my_entry(session, actor(session, captain), slug)
        assert mine.status.value == "withdrawn" and mine.revision == 2
    # Before the deadline the team may come back, on time.
    back = call(http, "submit_entry", jam_pick=slug, entry_title="Night Swim")
    assert 'data-status="submitted"' in back["jam-entry"] and back["entry-withdraw"]["visible"]
    refused = call(client_for(http, outsider), "withdraw_entry", jam_pick=slug)
    assert "not in a team" in error(refused, "entry-withdraw-error")

    # Judging: a withdrawn entry stays out, and the page says so.
    jam = judging_jam(db, storage)
    herons = client_for(http, jam["captains"][1])
    out = call(herons, "withdraw_entry", jam_pick=jam["slug"])
    assert (
        'data-status="withdrawn"' in out["jam-entry"] and "Entries are closed" in out["jam-entry"]
    )
    assert "Submit</b> again" not in out["jam-entry"] and out["entry-withdraw"]["visible"] is False
    late = call(herons, "submit_entry", jam_pick=jam["slug"], entry_title="Herons at Night")
    message = error(late, "entry-error")
    assert "Too late" in message and not ISO_TIME.search(message), message
    listed = choices(open_jam(client_for(http, jam["admin"]), jam["slug"]), "org-entry-pick")
    assert any("Herons at Night" in label and "(withdrawn)" in label for label, _ in listed)
    lone = make_user(db, "lone")
    register(db, jam["slug"], lone, "Lone", when=datetime.now(UTC) - timedelta(days=4))
    nothing = call(client_for(http, lone), "withdraw_entry", jam_pick=jam["slug"])
    assert "no entry yet" in error(nothing, "entry-withdraw-error")


def test_admins_appoint_organizers_who_edit_the_jam_settings(
    db: Database, http: httpx.Client
) -> None:
    now = datetime.now(UTC)
    slug, admin = running_jam(db)
    organizer, captain = make_user(db, "organizer"), make_user(db, "captain")
    register(db, slug, captain, "Otters", when=now - timedelta(hours=2))
    org = client_for(http, organizer)
    team = client_for(http, captain)
    boss = client_for(http, admin)

    # Not an organizer yet: no tab, no rules, and the handlers refuse.
    before = open_jam(org, slug)
    assert before["tab-jam-organize"]["visible"] is False
    assert before["org-settings"]["visible"] is False
    assert settings_of(before)["title"] == "" and settings_of(before)["deadline"] is None
    as_shown = settings_of(open_jam(boss, slug))
    for client in (org, team):
        out = call(client, "jam_update_settings", jam_pick=slug, **settings_inputs(as_shown))
        assert "Only this jam's organizers" in error(out, "org-save-error")
        out = call(client, "jam_add_organizer", jam_pick=slug, org_organizer_email=organizer.email)
        assert "Only studio admins" in error(out, "org-organizer-error")

    # The admin: every setup box; appoints the organizer by email.
    page = open_jam(boss, slug)
    assert page["org-organizers"]["visible"] is True and page["tab-jam-new"]["visible"] is True
    missing = call(
        boss, "jam_add_organizer", jam_pick=slug, org_organizer_email="nobody@studio.example"
    )
    assert "No Studio account" in error(missing, "org-organizer-error")
    assert untouched(missing, "org-organizer-email")
    made = call(boss, "jam_add_organizer", jam_pick=slug, org_organizer_email=organizer.email)
    assert value(made, "org-organizer-email") == "" and error(made, "org-organizer-error") == ""

    # The organizer: the Organize tab and the settings, in the jam's zone.
    page = open_jam(org, slug)
    assert page["tab-jam-organize"]["visible"] is True
    assert page["org-settings"]["visible"] is True
    assert page["org-organizers"]["visible"] is False and page["tab-jam-new"]["visible"] is False
    shown = settings_of(page)
    assert shown["title"] == "Spring Jam" and shown["zone"] == "Europe/Paris"
    assert shown["grace"] == 10 and shown["gpu-minutes"] == 15 and shown["audience"] is True
    with db.session_scope() as session:
        was = service.get_jam_setup(session, actor(session, admin), slug)
        kickoff, closes, deadline = was.kickoff_at, was.registration_closes_at, was.deadline_at
    paris = ZoneInfo("Europe/Paris")
    assert shown["kickoff"] == kickoff.astimezone(paris).strftime(PICKER_FORMAT)

    later = (deadline + timedelta(hours=3)).astimezone(paris).strftime("%Y-%m-%d %H:%M:00")
    edited = {
        **shown,
        "title": "Harbour Jam",
        "brief": "A night at sea.",
        "deadline": later,
        "grace": 15,
        "team-max": 5,
        "film-min": 2,
        "film-max": 5,
        "per-entry": 2,
        "gpu-minutes": 30,
        "audience": False,
        "normalize": True,
    }
    out = call(org, "jam_update_settings", jam_pick=slug, **settings_inputs(edited))
    assert error(out, "org-save-error") == ""
    assert "Harbour Jam" in out["jam-overview"] and "A night at sea." in out["jam-overview"]
    assert out["tab-jam-results"]["visible"] is False  # no audience vote any more
    saved = settings_of(out)
    assert saved["deadline"] == later and saved["title"] == "Harbour Jam"
    with db.session_scope() as session:
        jam = service.get_jam_setup(session, actor(session, admin), slug)
        assert jam.title == "Harbour Jam" and jam.brief == "A night at sea."
        assert jam.deadline_at == datetime.fromisoformat(later).replace(tzinfo=paris)
        assert (jam.grace_seconds, jam.team_size_max, jam.judges_per_entry) == (900, 5, 2)
        assert (jam.film_min_seconds, jam.film_max_seconds) == (2.0, 5.0)
        assert jam.gpu_seconds_grant == 1800 and not jam.audience_vote and jam.normalize_scores
        # Times left as shown keep their exact value (sub-second and all).
        assert jam.kickoff_at == kickoff and jam.registration_closes_at == closes

    # The service's rules stand: a deadline before kickoff is refused, nothing saved,
    # and the form keeps what was typed.
    early = (kickoff - timedelta(hours=1)).astimezone(paris).strftime(PICKER_FORMAT)
    out = call(
        org, "jam_update_settings", jam_pick=slug, **settings_inputs({**saved, "deadline": early})
    )
    assert "Schedule:" in error(out, "org-save-error") and "deadline" in error(
        out, "org-save-error"
    )
    assert untouched(out, *(f"settings-{name}" for name in SETTINGS))
    out = call(
        org, "jam_update_settings", jam_pick=slug, **settings_inputs({**saved, "zone": "Mars/Base"})
    )
    assert "Unknown time zone" in error(out, "org-save-error")
    out = call(
        org, "jam_update_settings", jam_pick=slug, **settings_inputs({**saved, "kickoff": "soon"})
    )
    assert "Kickoff: pick a date and time" in error(out, "org-save-error")
    with db.session_scope() as session:
        assert service.get_jam_setup(session, actor(session, admin), slug).title == "Harbour Jam"
    # The team sees the new rules; its captain still cannot change them.
    assert "Harbour Jam" in open_jam(team, slug)["jam-overview"]
    out = call(team, "jam_update_settings", jam_pick=slug, **settings_inputs(saved))
    assert "Only this jam's organizers" in error(out, "org-save-error")


def test_the_timer_reads_only_what_is_on_screen(
    db: Database, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    slug, admin = running_jam(db)
    captain = make_user(db, "captain")
    register(db, slug, captain, "Otters", when=now - timedelta(hours=2))
    login(http, captain)
    listing = call(http, "refresh_jams", jam_pick=None)["jam-list"]
    rows = listing.count("<tr data-jam=")
    with db.session_scope() as session:
        jam = service.get_jam_setup(session, actor(session, admin), slug)
        closes_ms = int(jam.registration_closes_at.timestamp() * 1000)
        deadline_ms = int(jam.deadline_at.timestamp() * 1000)
    # The list says when it next changes (this jam's registration closes, or another
    # jam's moment before that), by the server clock.
    changes, list_now = attribute(listing, "data-changes"), attribute(listing, "data-now")
    assert list_now < changes <= closes_ms
    # The browser-side gate is wired: page on screen, list due, rows shown.
    js = event_js(http, "tick_jam")
    assert "#page-jams" in js and "document.hidden" in js and "data-changes" in js

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the timer read more than the screen shows")

    def tick(picked: str | None, shown: bool, due: bool) -> list[Any]:
        return call_ui(http, "tick_jam", picked, shown, due, rows)

    def skipped(values: list[Any]) -> bool:
        return untouched(dict(enumerate(values)), *range(len(values)))

    names = ["jam-list", "jam-overview", "jam-team", "jam-submit-line", "jam-entry"]
    names += ["entry-withdraw", "jam-server-clock"]
    from tests.ui.named import output_names

    assert output_names(http, "tick_jam") == names
    # Hidden page: nothing is read, nothing changes.
    monkeypatch.setattr(service, "list_jams", refuse)
    monkeypatch.setattr(service, "get_jam", refuse)
    assert skipped(tick(slug, False, False))
    # On screen, nothing picked, list current: only a fresh sample of the server's clock.
    idle = tick(None, True, False)
    assert skipped(idle[:6]), idle
    assert abs(attribute(idle[6], "data-now") - datetime.now(UTC).timestamp() * 1000) < 60_000
    # A jam picked: only that jam (get_jam), never the whole list.
    monkeypatch.undo()
    monkeypatch.setattr(service, "list_jams", refuse)
    shown = dict(zip(names, tick(slug, True, False), strict=True))
    assert skipped([shown["jam-list"]])
    assert f'data-target="{deadline_ms}"' in shown["jam-overview"]
    assert "Otters" in shown["jam-team"]
    server_now = attribute(shown["jam-overview"], "data-now")
    assert abs(server_now - datetime.now(UTC).timestamp() * 1000) < 60_000
    line = shown["jam-submit-line"]
    assert 'data-rule="on time"' in line and f'data-target="{deadline_ms}"' in line
    assert shown["entry-withdraw"]["visible"] is False  # no entry: nothing to withdraw

    # The list is listed again when its moment has come, or when a jam appeared.
    monkeypatch.undo()
    due = tick(slug, True, True)
    assert slug in due[0] and "Running" in due[0]
    running_jam(db, admin=admin, title=f"Tide Jam {captain.id}")
    grown = tick(None, True, False)
    assert f"Tide Jam {captain.id}" in grown[0] and grown[0].count("<tr data-jam=") == rows + 1
    assert skipped(grown[1:6]) and 'class="jam-server-clock"' in grown[6]


def test_invitees_decline_or_accept_and_members_leave(db: Database, http: httpx.Client) -> None:
    now = datetime.now(UTC)
    slug, _ = running_jam(db)
    captain, mate, judge = make_user(db, "captain"), make_user(db, "mate"), make_user(db, "judge")
    register(db, slug, captain, "Otters", when=now - timedelta(hours=2))
    register(db, slug, make_user(db, "heron"), "Herons", when=now - timedelta(hours=2))
    cap = client_for(http, captain)
    call(cap, "invite_member", jam_pick=slug, jam_invite_email=judge.email)
    call(cap, "invite_member", jam_pick=slug, jam_invite_email=mate.email)

    # Declining: the invitation is gone for both sides; the judge was never on the team.
    judge_client = client_for(http, judge)
    (to_judge,) = [v for _, v in choices(open_jam(judge_client, slug), "jam-invite-pick")]
    declined = call(judge_client, "decline_invite", jam_pick=slug, jam_invite_pick=to_judge)
    assert declined["jam-invites"] == "" and declined["jam-invites-box"]["visible"] is False
    assert "Register one below" in declined["jam-team"]
    assert judge.email not in open_jam(cap, slug)["jam-team"]

    # Accepting, then leaving (the browser asks first): free to register elsewhere.
    mate_client = client_for(http, mate)
    (to_mate,) = [v for _, v in choices(open_jam(mate_client, slug), "jam-invite-pick")]
    call(mate_client, "accept_invite", jam_pick=slug, jam_invite_pick=to_mate)
    js = event_js(mate_client, "leave_team")
    assert "confirm(" in js and "throw" in js and "Leave this team?" in js
    solo = client_for(http, make_user(db, "solo"))
    call(solo, "register_team", jam_pick=slug, jam_team_name="Solo")
    stuck = call(solo, "leave_team", jam_pick=slug)
    assert "only member" in error(stuck, "jam-team-error")
    left = call(mate_client, "leave_team", jam_pick=slug)
    assert left["tab-jam-submit"]["visible"] is False
    assert left["jam-register-box"]["visible"] is True
    assert mate.email not in open_jam(cap, slug)["jam-team"]
    again = call(mate_client, "register_team", jam_pick=slug, jam_team_name="Mates")
    assert "Mates" in again["jam-team"]


@pytest.fixture(scope="module")
def pages(db: Database, settings: Settings) -> Pages:
    return build_pages(db, settings)


def test_every_jam_address_opens_its_view_or_the_default(
    db: Database, storage: Storage, pages: Pages
) -> None:
    jam = judging_jam(db, storage)
    slug, admin = jam["slug"], jam["admin"]
    otters, herons = jam["captains"]
    otters_entry = jam["entries"][0]
    judge = make_user(db, "judge")
    with db.session_scope() as session:
        boss = actor(session, admin)
        judging.add_judge(session, boss, slug, email=judge.email)
        judging.assign_judges(session, boss, slug)
        jam_id = service.get_jam(session, boss, slug).id

    def route(user: UserInfo, **query: Any) -> dict[str, Any]:
        return named(pages.jams.route({k: str(v) for k, v in query.items()}, request_of(user)))

    def tab(out: dict[str, Any]) -> str:
        return str(out["jam-tabs"].selected)

    # The jam, by its slug or its id; the list when there is none or it does not exist.
    for ref in (slug, jam_id):
        out = route(otters, view="jams", jam=ref)
        assert tab(out) == "jam" and shown(out["jam-pick"]) == slug
        assert "Otters" in shown(out["jam-team"]) and shown(out["jam-notice"]) == ""
    out = route(otters, view="jams")
    assert tab(out) == "list" and slug in shown(out["jam-list"])
    out = route(otters, jam="no-such-jam")
    assert tab(out) == "list" and "No such jam" in shown(out["jam-notice"])
    # The judge console for its judge; others get the jam page and a note.
    out = route(judge, jam=slug, tab="judge")
    assert tab(out) == "judge" and "0 of 2 submitted" in shown(out["judge-queue"])
    assert shown(out["judge-queue"]).count("<tr data-entry=") == 2
    for tab_name in ("judge", "organize", "new", "nonsense"):
        out = route(otters, jam=slug, tab=tab_name)
        assert tab(out) == "jam" and "not one you can open" in shown(out["jam-notice"]), tab_name
    assert tab(route(admin, jam=slug, tab="organize")) == "organize"
    assert tab(route(otters, jam=slug, tab="submit")) == "submit"
    # An entry opens where this person may see it.
    out = route(judge, jam=slug, entry=otters_entry)
    assert tab(out) == "judge" and shown(out["judge-pick"]) == otters_entry
    assert "Otters at Night" in shown(out["judge-entry"])
    out = route(otters, jam=slug, entry=otters_entry)
    assert tab(out) == "submit" and "Otters at Night" in shown(out["jam-entry"])
    out = route(admin, jam=slug, entry=otters_entry)
    assert tab(out) == "organize" and shown(out["org-entry-pick"]) == otters_entry
    # Another team's entry, a made-up id, another jam's entry: the jam page and a note.
    other_slug, _ = running_jam(db)
    for user, query in [
        (herons, {"jam": slug, "entry": otters_entry}),
        (herons, {"jam": slug, "entry": "12abc"}),
        (herons, {"jam": slug, "entry": 10**9}),
        (otters, {"jam": other_slug, "entry": otters_entry}),
    ]:
        out = route(user, **query)
        assert tab(out) == "jam" and "not one you can open" in shown(out["jam-notice"]), query
        assert "Otters at Night" not in shown(out["jam-entry"]) + shown(out["judge-entry"])
    # A signed-out request: a note, never an exception.
    gone = named(pages.jams.route({"jam": slug}, request_of(UserInfo(10**9, "x@y", "z"))))
    assert "session has ended" in shown(gone["jam-notice"])
