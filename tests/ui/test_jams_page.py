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

import httpx
import pytest

from studio.config import Settings
from studio.db.session import Database
from studio.jams import judging
from studio.media.storage import Storage
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
    "line": 10,
    "card": 11,
    "title": 12,
    "queue": 16,
    "judge_pick": 17,
    "judged": 18,
    "slider0": 19,
    "notes": 29,
    "dashboard": 30,
    "judges": 31,
    "teams": 32,
    "entries": 33,
    "results": 34,
    "gallery": 35,
    "ballot": 36,
    "vote_pick": 37,
}
# Organizer actions answer: organize (4), list/overview/team (3), results (4).
AFTER = {"dashboard": 0, "judges": 1, "entries": 3, "overview": 5, "results": 7}
NO_SCORES = [0] * 7  # the sliders a three-criterion rubric leaves hidden


@pytest.fixture
def storage(settings: Settings) -> Storage:
    return Storage(settings.media_path)


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
    invited = call_ui(http, "invite_member", slug, mate.email)[1:]
    assert mate.email in invited[OUT["team"]]
    with pytest.raises(UIError, match="No Studio account"):
        call_ui(http, "invite_member", slug, "nobody@studio.example")

    # A draft with an uploaded film, then submitted: the page says what it means.
    film = upload_file(http, film_bytes())
    saved = call_ui(http, "save_entry", slug, "Night Swim", "A lake.", "Otters", None, film, None)
    assert saved[0] is None and saved[1] is None  # the file inputs are cleared
    line, card = saved[2], saved[3]
    assert 'data-rule="on time"' in line
    assert 'data-status="draft"' in card and "<video" in card and "Night Swim" in card
    assert saved[4] == "Night Swim"
    submitted = call_ui(
        http, "submit_entry", slug, "Night Swim", "A lake.", "Otters", None, None, None
    )
    assert 'data-status="submitted"' in submitted[3] and "revision 2" in submitted[3]
    with pytest.raises(UIError, match=r"Add a film|title"):
        call_ui(http, "submit_entry", slug, "", "", "", None, None, None)

    # The teammate sees the entry; an outsider sees neither the draft nor the team's people.
    mate_page = open_jam(client_for(http, mate), slug)
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
    fields = [
        "Autumn Jam",
        slug,
        "Europe/Paris",
        "Make a film about leaving.",
        (now - timedelta(hours=1)).isoformat(),
        (now + timedelta(days=2)).isoformat(),
        "",
        10,
        3,
        1,
        4,
        2,
        True,
        "character: a retired astronaut; a twin\ngenre (per team): film noir; musical; western",
    ]
    created = call_ui(http, "jam_create", *fields)[1:]
    assert created[OUT["picker"]]["value"] == slug
    assert "Upcoming" in created[OUT["list"]]
    assert (
        "revealed at" in created[OUT["overview"]]
        and "Make a film about leaving" in created[OUT["overview"]]
    )
    assert no_secrets(created), "the organizer's page shows no element before kickoff"
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
        call_ui(team_client, "jam_create", *[*fields[:1], "other-" + slug, *fields[2:]])


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
