"""The Jams page handlers, called the way a signed-in browser (or anyone with
a session) calls them: `/gradio_api/call/<api_name>`.

Jams are built with schedules relative to the real database clock, so each
test's jam is in the phase it needs (running, upcoming, judging, closed);
what happened earlier (registrations, entries, scores, votes) is recorded
through the services with a fixed clock, as tests/jams does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from studio.config import Settings
from studio.db.session import Database
from studio.jams import entries, judging, service
from studio.media.storage import LocalStorage, Storage
from tests.factories import UIError, UserInfo, call_ui, login, make_user
from tests.jams.helpers import (
    SECRET_WORDS,
    actor,
    film_bytes,
    make_jam,
    put,
    register,
    upload,
)

# Output positions (see JamUI.all_outputs in studio/ui/pages/jams.py); open_jam
# and jam_create put the tab switch first.
OUT = {
    "picker": 0,
    "list": 1,
    "overview": 2,
    "team": 3,
    "register_box": 4,
    "invite_box": 5,
    "submit_tab": 6,
    "judge_tab": 7,
    "organize_tab": 8,
    "results_tab": 9,
    "line": 10,
    "card": 11,
    "withdraw": 12,
    "title": 13,
    "queue": 17,
    "judge_pick": 18,
    "judged": 19,
    "slider0": 20,
    "notes": 30,
    "dashboard": 31,
    "judges": 32,
    "teams": 33,
    "entries": 34,
    "results": 35,
    "gallery": 36,
    "ballot": 37,
    "vote_pick": 38,
    "settings_box": 39,
    "settings": 40,  # the 17 rule fields, in SETTINGS order
    "organizers_box": 57,
    "create_box": 58,
}
# The invitations section comes last (so the positions above never move).
INV = {"html": -5, "box": -4, "pick": -3, "pending_box": -2, "pending_pick": -1}
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
    "results_at",
    "team_max",
    "film_min",
    "film_max",
    "per_entry",
    "gpu_minutes",
    "audience",
    "normalize",
]
# Organizer actions answer: organize (4), list/overview/team (3), results (4).
AFTER = {"dashboard": 0, "judges": 1, "entries": 3, "overview": 5, "results": 7}
NO_SCORES = [0] * 7  # the sliders a three-criterion rubric leaves hidden


@pytest.fixture
def storage(settings: Settings) -> Storage:
    return LocalStorage(settings.media_path)


def client_for(server: httpx.Client, user: UserInfo) -> httpx.Client:
    client = httpx.Client(base_url=str(server.base_url), timeout=30)
    login(client, user)
    return client


def open_jam(http: httpx.Client, slug: str) -> list[Any]:
    return call_ui(http, "open_jam", slug)[1:]


def no_secrets(value: Any) -> bool:
    text = json.dumps(value)
    return not any(word in text for word in SECRET_WORDS)


def upload_file(http: httpx.Client, data: bytes, name: str = "film.mp4") -> dict[str, Any]:
    response = http.post("/gradio_api/upload", files={"files": (name, data, "video/mp4")})
    assert response.status_code == 200, response.text
    return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}}


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
        title = f"{name} at Night"
        made = put(
            db,
            slug,
            captain,
            storage,
            deadline - timedelta(hours=1),
            film_asset_id=film,
            title=title,
        )
        captains.append(captain)
        entry_ids.append(made.id)
    return {"slug": slug, "admin": admin, "captains": captains, "entries": entry_ids}


def test_a_team_registers_invites_and_submits(db: Database, http: httpx.Client) -> None:
    slug, _ = running_jam(db)
    captain, mate, outsider = make_user(db, "captain"), make_user(db, "mate"), make_user(db, "out")
    login(http, captain)

    listed = call_ui(http, "refresh_jams", None)
    assert slug in listed[OUT["list"]] and "Running" in listed[OUT["list"]]
    page = open_jam(http, slug)
    assert page[OUT["register_box"]]["visible"] is True
    assert page[OUT["submit_tab"]]["visible"] is False
    # After kickoff, the elements lead the jam page, with the countdown to the deadline.
    overview = page[OUT["overview"]]
    assert overview.index("jam-elements") < overview.index("jam-title")
    assert not no_secrets(overview) and 'class="countdown"' in overview
    assert "Deadline" in overview and "local-time" in overview

    registered = call_ui(http, "register_team", slug, "Otters")[1:]
    assert "Otters" in registered[OUT["team"]] and captain.email in registered[OUT["team"]]
    assert registered[OUT["invite_box"]]["visible"] is True
    assert registered[OUT["submit_tab"]]["visible"] is True
    # Invitations are pending: listed for the team, nothing granted until accepted.
    invited = call_ui(http, "invite_member", slug, mate.email)[1:]
    assert "1 of 3 members" in invited[OUT["team"]]
    assert f"{mate.email} <span" in invited[OUT["team"]] and "invited" in invited[OUT["team"]]
    assert invited[INV["pending_box"]]["visible"] is True
    # An address without an account is answered the same way (nothing to probe).
    unknown = call_ui(http, "invite_member", slug, "nobody@studio.example")[1:]
    assert "nobody@studio.example" in unknown[OUT["team"]]
    (nobody,) = [v for label, v in unknown[INV["pending_pick"]]["choices"] if "nobody" in label]
    cancelled = call_ui(http, "cancel_invite", slug, nobody)
    assert "nobody@studio.example" not in cancelled[OUT["team"]]
    mate_client = client_for(http, mate)
    before = open_jam(mate_client, slug)
    assert "You're invited to join <b>Otters</b>" in before[INV["html"]]
    assert before[INV["box"]]["visible"] is True and before[OUT["submit_tab"]]["visible"] is False
    ((_, invite_id),) = before[INV["pick"]]["choices"]
    with pytest.raises(UIError, match="not in a team"):
        call_ui(mate_client, "save_entry", slug, "Mine", "", "", None, None, None)
    with pytest.raises(UIError, match="No such invitation"):
        call_ui(client_for(http, outsider), "accept_invite", slug, invite_id)
    joined = call_ui(mate_client, "accept_invite", slug, invite_id)
    assert mate.email in joined[OUT["team"]] and "2 of 3 members" in joined[OUT["team"]]
    assert joined[OUT["submit_tab"]]["visible"] is True and joined[INV["box"]]["visible"] is False

    # A draft with an uploaded film, then submitted: the page says what it means.
    film = upload_file(http, film_bytes())
    saved = call_ui(http, "save_entry", slug, "Night Swim", "A lake.", "Otters", None, film, None)
    assert saved[0] is None and saved[1] is None  # the file inputs are cleared
    line, card = saved[2], saved[3]
    assert 'data-rule="on time"' in line
    assert 'data-status="draft"' in card and "<video" in card and "Night Swim" in card
    assert saved[4]["visible"] is True  # Withdraw, once there is an entry
    assert saved[5] == "Night Swim"
    submitted = call_ui(
        http, "submit_entry", slug, "Night Swim", "A lake.", "Otters", None, None, None
    )
    assert 'data-status="submitted"' in submitted[3] and "revision 2" in submitted[3]
    with pytest.raises(UIError, match=r"Add a film|title"):
        call_ui(http, "submit_entry", slug, "", "", "", None, None, None)

    # The teammate sees the entry; an outsider sees neither the draft nor the team's people.
    mate_page = open_jam(mate_client, slug)
    assert "Night Swim" in mate_page[OUT["card"]]
    outside = client_for(http, outsider)
    seen = open_jam(outside, slug)
    assert "Night Swim" not in json.dumps(seen) and captain.email not in json.dumps(seen)
    assert seen[OUT["submit_tab"]]["visible"] is False
    with pytest.raises(UIError, match="not in a team"):
        call_ui(outside, "save_entry", slug, "Mine now", "", "", None, None, None)
    with pytest.raises(UIError, match="not in a team"):
        call_ui(outside, "invite_member", slug, outsider.email)


def test_elements_stay_hidden_before_kickoff(db: Database, http: httpx.Client) -> None:
    admin = make_user(db, "admin", is_admin=True)
    captain = make_user(db, "captain")
    login(http, admin)
    now = datetime.now(UTC)
    slug = f"autumn-{captain.id}"
    kickoff = now + timedelta(days=2)
    closes = (kickoff - timedelta(hours=6)).replace(second=0, microsecond=0)
    form = {
        "title": "Autumn Jam",
        "brief": "Make a film about leaving.",
        "zone": "Europe/Paris",
        "opens": (now - timedelta(hours=1)).isoformat(),
        "closes": closes.astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%d %H:%M"),
        "kickoff": kickoff.isoformat(),
        "deadline": "",
        "grace": 10,
        "judging": "",
        "results_at": "",
        "team_max": 3,
        "film_min": 1,
        "film_max": 4,
        "per_entry": 2,
        "gpu_minutes": 30,
        "audience": True,
        "normalize": False,
    }
    elements = (
        "character: a retired astronaut; a twin\ngenre (per team): film noir; musical; western"
    )
    fields = [*(form[name] for name in SETTINGS), slug, elements]
    created = call_ui(http, "jam_create", *fields)[1:]
    assert created[OUT["picker"]]["value"] == slug
    assert "Upcoming" in created[OUT["list"]]
    assert (
        "revealed at" in created[OUT["overview"]]
        and "Make a film about leaving" in created[OUT["overview"]]
    )
    assert no_secrets(created), "the organizer's page shows no element before kickoff"
    # Every schedule field of the form counts: registration closes six hours before kickoff.
    with db.session_scope() as session:
        made = service.get_jam_setup(session, actor(session, admin), slug)
        assert made.registration_closes_at == closes
        assert made.deadline_at == made.kickoff_at + timedelta(hours=48)
        assert made.grace_seconds == 600 and made.gpu_seconds_grant == 1800
    assert "Registration" in created[OUT["overview"]]
    settings = created[OUT["settings"] : OUT["settings"] + len(SETTINGS)]
    assert dict(zip(SETTINGS, settings, strict=True))["closes"] == form["closes"]
    late = {**form, "closes": (kickoff + timedelta(days=3)).isoformat()}
    with pytest.raises(UIError, match="registration must close by the deadline"):
        call_ui(http, "jam_create", *(late[name] for name in SETTINGS), "late-" + slug, "")
    with pytest.raises(UIError, match="slug"):
        call_ui(http, "jam_create", *fields)
    with pytest.raises(UIError, match="No such jam"):
        call_ui(http, "open_jam", "no-such-jam")
    with pytest.raises(UIError, match="at kickoff"):
        call_ui(http, "jam_draw", slug)

    team_client = client_for(http, captain)
    call_ui(team_client, "register_team", slug, "Otters")
    page = open_jam(team_client, slug)
    assert "Otters" in page[OUT["team"]] and no_secrets(page)
    assert (
        'data-rule="closed"' in page[OUT["line"]] and "entries open at kickoff" in page[OUT["line"]]
    )
    with pytest.raises(UIError, match="Only studio admins"):
        call_ui(team_client, "jam_create", *fields[:-2], "other-" + slug, elements)


def test_a_judge_scores_only_assigned_entries(
    db: Database, http: httpx.Client, storage: Storage
) -> None:
    jam = judging_jam(db, storage)
    slug, otters = jam["slug"], jam["captains"][0]
    judge_a, judge_b = make_user(db, "judge-a"), make_user(db, "judge-b")
    organizer = client_for(http, jam["admin"])
    for judge in (judge_a, judge_b):
        call_ui(organizer, "jam_add_judge", slug, judge.email)
    assigned = call_ui(organizer, "jam_assign_judges", slug)
    assert "0 of 2 score sheets submitted" in assigned[AFTER["dashboard"]]

    login(http, judge_a)
    page = open_jam(http, slug)
    assert page[OUT["judge_tab"]]["visible"] is True
    assert page[OUT["organize_tab"]]["visible"] is False
    mine = [value for _, value in page[OUT["judge_pick"]]["choices"]]
    assert len(mine) == 1 and page[OUT["judge_pick"]]["value"] == mine[0]
    other = next(e for e in jam["entries"] if e != mine[0])
    assert "<video" in page[OUT["judged"]] and "not scored yet" in page[OUT["judged"]]
    # The elements the film had to use: the draw for everyone and the team's own.
    with db.session_scope() as session:
        shared = service.get_jam(session, actor(session, judge_a), slug).shared_elements
        drawn = judging.get_assigned_entry(
            session, actor(session, judge_a), slug, mine[0]
        ).entry.drawn_elements
    assert shared and set(shared) == {"character", "prop"} and drawn and set(drawn) == {"genre"}
    judged = page[OUT["judged"]]
    assert f"team's draw: genre: <b>{drawn['genre']}</b>" in judged
    assert "for everyone: " in judged
    for category, value in shared.items():
        assert f"{category}: <b>{value}</b>" in judged
    slider = page[OUT["slider0"]]
    assert slider["visible"] is True and (slider["minimum"], slider["maximum"]) == (1, 10)
    assert "Artistic" in slider["label"] and page[OUT["slider0"] + 3]["visible"] is False
    # The unassigned entry is not there, by id or by title.
    with pytest.raises(UIError, match="No such entry among your assignments"):
        call_ui(http, "open_assignment", slug, other)
    with pytest.raises(UIError, match="No such entry among your assignments"):
        call_ui(http, "submit_scores", slug, other, 9, 9, 9, *NO_SCORES, "")

    saved = call_ui(http, "save_scores", slug, mine[0], 8, 6, 7, *NO_SCORES, "Strong sound.")
    assert "saved, not submitted" in saved[2] and saved[-1] == "Strong sound."
    with pytest.raises(UIError, match="from 1 to 10"):
        call_ui(http, "submit_scores", slug, mine[0], 11, 6, 7, *NO_SCORES, "")
    done = call_ui(http, "submit_scores", slug, mine[0], 8, 6, 7, *NO_SCORES, "Strong sound.")
    assert "1 of 1 submitted" in done[0]
    with db.session_scope() as session:
        sheet = judging.get_assigned_entry(session, actor(session, judge_a), slug, mine[0])
        assert sheet.scores == {"artistic": 8, "technical": 6, "adherence": 7}
        assert sheet.submitted_at is not None and sheet.notes == "Strong sound."

    # Neither a team captain nor a judge runs the organizers' actions.
    captain = client_for(http, otters)
    for client in (captain, http):
        for name, args in [
            ("jam_assign_judges", [slug]),
            ("jam_add_judge", [slug, otters.email]),
            ("jam_publish_results", [slug]),
            ("jam_export_csv", [slug, "scores"]),
            ("jam_disqualify", [slug, other, "Uses a stock film"]),
        ]:
            with pytest.raises(UIError, match="Only this jam's organizers"):
                call_ui(client, name, *args)
    with pytest.raises(UIError, match="not a judge"):
        call_ui(captain, "open_assignment", slug, other)
    # The captain's page has no judge console and no dashboard.
    captain_page = open_jam(captain, slug)
    assert captain_page[OUT["judge_tab"]]["visible"] is False
    assert "Only this jam's organizers" in captain_page[OUT["dashboard"]]
    # Submitted films are on the public ballot after grace; your own team's is not votable.
    assert [label for label, _ in captain_page[OUT["vote_pick"]]["choices"]] == [
        "Herons at Night — Herons"
    ]

    # Voting is open between grace and the close of judging; never for your own team.
    with pytest.raises(UIError, match="own team"):
        call_ui(captain, "cast_vote", slug, jam["entries"][0])
    voter = client_for(http, make_user(db, "voter"))
    ballot = call_ui(voter, "cast_vote", slug, jam["entries"][0])
    assert "Your vote: <b>Otters at Night</b>" in ballot[2]

    # The organizer: a conflict drops judge B's assignment, a disqualification shows, CSV.
    board = open_jam(organizer, slug)
    judges = dict((label.split(" <")[0], value) for label, value in board[OUT["judges"]]["choices"])
    teams = dict(board[OUT["teams"]]["choices"])
    b_entry = next(e for e in jam["entries"] if e != mine[0])
    b_team = "Otters" if b_entry == jam["entries"][0] else "Herons"
    judge_b_name = next(name for name in judges if name.startswith("judge-b"))
    call_ui(organizer, "jam_add_conflict", slug, judges[judge_b_name], teams[b_team], "friends")
    judge_b = client_for(http, judge_b)
    assert open_jam(judge_b, slug)[OUT["judge_pick"]]["choices"] == []
    with pytest.raises(UIError, match="reason"):
        call_ui(organizer, "jam_disqualify", slug, b_entry, "")
    out = call_ui(organizer, "jam_disqualify", slug, b_entry, "Made before kickoff")
    assert out[0] == "" and "disqualified 1" in out[1 + AFTER["dashboard"]]
    exported = call_ui(organizer, "jam_export_csv", slug, "scores")[0]
    csv_text = organizer.get(exported["url"]).text
    assert csv_text.splitlines()[0].startswith("entry_id,team,title,judge,artistic")
    assert ",8.0,6.0,7.0," in csv_text


def test_results_and_gallery_after_publication(
    db: Database, http: httpx.Client, storage: Storage
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
    assert "Results are published after judging closes" in before[OUT["results"]]
    assert "Otters at Night" not in before[OUT["results"]] + before[OUT["gallery"]]
    assert before[OUT["vote_pick"]]["choices"] == []  # voting closed with judging
    with pytest.raises(UIError, match="Only this jam's organizers"):
        call_ui(viewer, "jam_publish_results", slug)

    organizer = client_for(http, admin)
    published = call_ui(organizer, "jam_publish_results", slug)
    board = published[AFTER["results"]]
    assert "Grand prize</b>: Otters at Night" in board
    assert board.index("Otters at Night") < board.index("Herons at Night")
    after = open_jam(viewer, slug)
    assert "Grand prize" in after[OUT["results"]]
    assert after[OUT["gallery"]].count("<video") == 2
    assert "results out" in after[OUT["list"]] and "Finished" in after[OUT["list"]]


def skipped(values: list[Any]) -> bool:
    """gr.skip() for each output: an update that changes nothing (the browser keeps it)."""
    text = json.dumps(values)
    return all(
        isinstance(v, dict) and v.get("__type__") == "update" and "value" not in v for v in values
    ) and not any(word in text for word in ("<div", "<span", "visible"))


def attribute(html: str, name: str) -> int:
    """The first `name="<number>"` in some HTML."""
    return int(html.split(f'{name}="', 1)[1].split('"', 1)[0])


def event_js(http: httpx.Client, api_name: str) -> str:
    """The `js=` an event runs in the browser before it is sent."""
    config = http.get("/config").json()
    (dep,) = [d for d in config["dependencies"] if d.get("api_name") == api_name]
    return str(dep.get("js") or "")


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
    assert 'data-status="submitted"' in page[OUT["card"]]
    assert page[OUT["withdraw"]]["visible"] is True
    # The browser asks first; cancelling throws, so nothing is sent.
    js = event_js(http, "withdraw_entry")
    assert "confirm(" in js and "throw" in js and "submit it again" in js

    line, card, button = call_ui(http, "withdraw_entry", slug)
    assert 'data-status="withdrawn"' in card and "out of the jury ranking" in card
    assert "<b>Submit</b> again until the deadline" in card and "counts on time" in card
    assert 'class="countdown"' in card and 'data-rule="on time"' in line
    assert button["visible"] is False
    with db.session_scope() as session:
        mine = entries.get_my_entry(session, actor(session, captain), slug)
        assert mine.status.value == "withdrawn" and mine.revision == 2
    # Before the deadline the team may come back, on time.
    back = call_ui(http, "submit_entry", slug, "Night Swim", "", "", None, None, None)
    assert 'data-status="submitted"' in back[3] and back[4]["visible"] is True
    with pytest.raises(UIError, match="not in a team"):
        call_ui(client_for(http, outsider), "withdraw_entry", slug)

    # Judging: a withdrawn entry stays out, and the page says so.
    jam = judging_jam(db, storage)
    herons = client_for(http, jam["captains"][1])
    out = call_ui(herons, "withdraw_entry", jam["slug"])
    assert 'data-status="withdrawn"' in out[1] and "Entries are closed" in out[1]
    assert "Submit</b> again" not in out[1] and out[2]["visible"] is False
    with pytest.raises(UIError, match="Too late"):
        call_ui(herons, "submit_entry", jam["slug"], "Herons at Night", "", "", None, None, None)
    listed = open_jam(client_for(http, jam["admin"]), jam["slug"])[OUT["entries"]]["choices"]
    assert any("Herons at Night" in label and "(withdrawn)" in label for label, _ in listed)
    lone = make_user(db, "lone")
    register(db, jam["slug"], lone, "Lone", when=datetime.now(UTC) - timedelta(days=4))
    with pytest.raises(UIError, match="no entry yet"):
        call_ui(client_for(http, lone), "withdraw_entry", jam["slug"])


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

    def settings(page: list[Any], at: int = OUT["settings"]) -> dict[str, Any]:
        return dict(zip(SETTINGS, page[at : at + len(SETTINGS)], strict=True))

    # Not an organizer yet: no tab, no rules, and the handlers refuse.
    before = open_jam(org, slug)
    assert before[OUT["organize_tab"]]["visible"] is False
    assert before[OUT["settings_box"]]["visible"] is False
    assert settings(before)["title"] == "" and settings(before)["deadline"] == ""
    as_shown = settings(open_jam(boss, slug))
    for client in (org, team):
        with pytest.raises(UIError, match="Only this jam's organizers"):
            call_ui(client, "jam_update_settings", slug, *as_shown.values())
        with pytest.raises(UIError, match="Only studio admins"):
            call_ui(client, "jam_add_organizer", slug, organizer.email)

    # The admin: every setup box; appoints the organizer by email.
    page = open_jam(boss, slug)
    assert page[OUT["organizers_box"]]["visible"] is True
    assert page[OUT["create_box"]]["visible"] is True
    with pytest.raises(UIError, match="No Studio account"):
        call_ui(boss, "jam_add_organizer", slug, "nobody@studio.example")
    assert call_ui(boss, "jam_add_organizer", slug, organizer.email) == [""]

    # The organizer: the Organize tab and the settings, in the jam's zone.
    page = open_jam(org, slug)
    assert page[OUT["organize_tab"]]["visible"] is True
    assert page[OUT["settings_box"]]["visible"] is True
    assert page[OUT["organizers_box"]]["visible"] is False
    assert page[OUT["create_box"]]["visible"] is False
    shown = settings(page)
    assert shown["title"] == "Spring Jam" and shown["zone"] == "Europe/Paris"
    assert shown["grace"] == 10 and shown["gpu_minutes"] == 15 and shown["audience"] is True
    with db.session_scope() as session:
        was = service.get_jam_setup(session, actor(session, admin), slug)
        kickoff, closes = was.kickoff_at, was.registration_closes_at
        deadline = was.deadline_at
    paris = ZoneInfo("Europe/Paris")
    assert shown["kickoff"].startswith(kickoff.astimezone(paris).strftime("%Y-%m-%d %H:%M"))

    later = (deadline + timedelta(hours=3)).astimezone(paris).strftime("%Y-%m-%d %H:%M")
    edited = {
        **shown,
        "title": "Harbour Jam",
        "brief": "A night at sea.",
        "deadline": later,
        "grace": 15,
        "team_max": 5,
        "film_min": 2,
        "film_max": 5,
        "per_entry": 2,
        "gpu_minutes": 30,
        "audience": False,
        "normalize": True,
    }
    out = call_ui(org, "jam_update_settings", slug, *edited.values())
    assert "Harbour Jam" in out[OUT["overview"]] and "A night at sea." in out[OUT["overview"]]
    assert out[OUT["results_tab"]]["visible"] is False  # no audience vote any more
    # Saving answers: overview (10), submit line (3), organize (4), results (4), setup.
    saved = settings(out, at=22)
    assert saved["deadline"] == later and saved["title"] == "Harbour Jam"
    with db.session_scope() as session:
        jam = service.get_jam_setup(session, actor(session, admin), slug)
        assert jam.title == "Harbour Jam" and jam.brief == "A night at sea."
        assert jam.deadline_at == datetime.fromisoformat(later).replace(tzinfo=paris)
        assert (jam.grace_seconds, jam.team_size_max, jam.judges_per_entry) == (900, 5, 2)
        assert (jam.film_min_seconds, jam.film_max_seconds) == (2.0, 5.0)
        assert jam.gpu_seconds_grant == 1800 and not jam.audience_vote and jam.normalize_scores
        # Times left as shown keep their exact value (seconds and all).
        assert jam.kickoff_at == kickoff and jam.registration_closes_at == closes

    # The service's rules stand: a deadline before kickoff is refused, nothing saved.
    early = (kickoff - timedelta(hours=1)).astimezone(paris).strftime("%Y-%m-%d %H:%M")
    with pytest.raises(UIError, match=r"Schedule: .*deadline"):
        call_ui(org, "jam_update_settings", slug, *{**saved, "deadline": early}.values())
    with pytest.raises(UIError, match="Unknown time zone"):
        call_ui(org, "jam_update_settings", slug, *{**saved, "zone": "Mars/Base"}.values())
    with db.session_scope() as session:
        assert service.get_jam_setup(session, actor(session, admin), slug).title == "Harbour Jam"
    # The team sees the new rules; its captain still cannot change them.
    assert "Harbour Jam" in open_jam(team, slug)[OUT["overview"]]
    with pytest.raises(UIError, match="Only this jam's organizers"):
        call_ui(team, "jam_update_settings", slug, *saved.values())


def test_the_timer_reads_only_what_is_on_screen(
    db: Database, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    slug, admin = running_jam(db)
    captain = make_user(db, "captain")
    register(db, slug, captain, "Otters", when=now - timedelta(hours=2))
    login(http, captain)
    listing = call_ui(http, "refresh_jams", None)[OUT["list"]]
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

    # Hidden page: nothing is read, nothing changes.
    monkeypatch.setattr(service, "list_jams", refuse)
    monkeypatch.setattr(service, "get_jam", refuse)
    hidden = call_ui(http, "tick_jam", slug, False, False, rows)
    assert len(hidden) == 7 and skipped(hidden), hidden
    # On screen, nothing picked, list current: nothing to send either...
    # ...but a fresh sample of the server's clock, for the countdowns on screen.
    idle = call_ui(http, "tick_jam", None, True, False, rows)
    assert len(idle) == 7 and skipped(idle[:6]), idle
    assert abs(attribute(idle[6], "data-now") - datetime.now(UTC).timestamp() * 1000) < 60_000
    # A jam picked: only that jam (get_jam), never the whole list.
    monkeypatch.undo()
    monkeypatch.setattr(service, "list_jams", refuse)
    shown = call_ui(http, "tick_jam", slug, True, False, rows)
    assert skipped(shown[:1]), shown[0]
    overview, team, line = shown[1], shown[2], shown[3]
    assert f'data-target="{deadline_ms}"' in overview and "Otters" in team
    server_now = attribute(overview, "data-now")
    assert abs(server_now - datetime.now(UTC).timestamp() * 1000) < 60_000
    assert 'data-rule="on time"' in line and f'data-target="{deadline_ms}"' in line
    assert shown[5]["visible"] is False  # no entry: nothing to withdraw

    # The list is listed again when its moment has come, or when a jam appeared.
    monkeypatch.undo()
    due = call_ui(http, "tick_jam", slug, True, True, rows)
    assert slug in due[0] and "Running" in due[0]
    running_jam(db, admin=admin, title=f"Tide Jam {captain.id}")
    grown = call_ui(http, "tick_jam", None, True, False, rows)
    assert f"Tide Jam {captain.id}" in grown[0] and grown[0].count("<tr data-jam=") == rows + 1
    assert skipped(grown[1:6]) and 'class="jam-server-clock"' in grown[6]


def test_invitees_decline_or_accept_and_members_leave(db: Database, http: httpx.Client) -> None:
    now = datetime.now(UTC)
    slug, _ = running_jam(db)
    captain, mate, judge = make_user(db, "captain"), make_user(db, "mate"), make_user(db, "judge")
    register(db, slug, captain, "Otters", when=now - timedelta(hours=2))
    register(db, slug, make_user(db, "heron"), "Herons", when=now - timedelta(hours=2))
    cap = client_for(http, captain)
    call_ui(cap, "invite_member", slug, judge.email)
    call_ui(cap, "invite_member", slug, mate.email)

    # Declining: the invitation is gone for both sides; the judge was never on the team.
    judge_client = client_for(http, judge)
    (to_judge,) = [v for _, v in open_jam(judge_client, slug)[INV["pick"]]["choices"]]
    declined = call_ui(judge_client, "decline_invite", slug, to_judge)
    assert declined[INV["html"]] == "" and declined[INV["box"]]["visible"] is False
    assert "Register one below" in declined[OUT["team"]]
    assert judge.email not in open_jam(cap, slug)[OUT["team"]]

    # Accepting, then leaving (the browser asks first): free to register elsewhere.
    mate_client = client_for(http, mate)
    (to_mate,) = [v for _, v in open_jam(mate_client, slug)[INV["pick"]]["choices"]]
    call_ui(mate_client, "accept_invite", slug, to_mate)
    js = event_js(mate_client, "leave_team")
    assert "confirm(" in js and "throw" in js and "Leave this team?" in js
    solo = client_for(http, make_user(db, "solo"))
    call_ui(solo, "register_team", slug, "Solo")
    with pytest.raises(UIError, match="only member"):
        call_ui(solo, "leave_team", slug)
    left = call_ui(mate_client, "leave_team", slug)
    assert left[OUT["submit_tab"]]["visible"] is False
    assert left[OUT["register_box"]]["visible"] is True
    assert mate.email not in open_jam(cap, slug)[OUT["team"]]
    again = call_ui(mate_client, "register_team", slug, "Mates")[1:]
    assert "Mates" in again[OUT["team"]]
