"""2,000 teams press submit in the last second before the deadline, on Postgres,
through two real `studio serve` processes sharing the database and the real
HTTP API (API-key auth, film probe, locks, arrival dating, the database clock):
every accepted entry is stored once, in the state its arrival time gave it
(submitted up to the deadline, late within the grace period), every refused
save (after the grace period) leaves the team's entry as it was, or absent.

100 teams have two members pressing submit at the same instant through
different servers; 100 teams submitted on time before the rush. Three waves,
so that late and refused saves occur whatever this shared machine's speed:
most teams press in the last second (on time if their request reached a web
process by the deadline); 50 press just after it (late: the grace period is
long until the organizer ends it); once every save is answered the organizer
ends the grace period and 50 of the early teams press again (refused, their
entries unchanged).
Figures (time to settle, request p50/p99) are bench/deadline_rush.py's job:
this test prints them but asserts only correctness.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from pathlib import Path

import pytest

from studio.config import Settings
from studio.db.session import Database
from studio.jams.models import EntryStatus
from studio.media.storage import LocalStorage
from tests.conftest import TEST_SECRET
from tests.jams.helpers import film_bytes, make_jam
from tests.jams.rush import (
    Prior,
    Send,
    burst,
    close_late_entries,
    db_now,
    jam_id_of,
    populate,
    schedule,
    set_deadline,
    verify,
    web_processes,
)

TEAMS = 2000
DOUBLED = 100  # two members press submit at once, each through another server
PRIOR = 100  # already submitted on time before the rush
LATE = 50  # press just after the deadline
REFUSED = 50  # of the PRIOR teams, press again after the grace period


def test_two_thousand_teams_in_the_last_second_through_two_web_processes(
    backend: str, db: Database, settings: Settings, artifacts_dir: Path
) -> None:
    if backend != "postgres":
        pytest.skip("the deadline rush is a Postgres test (SQLite serializes all writers)")
    storage = LocalStorage(settings.media_path)
    now = db_now(db)
    slug, admin = make_jam(
        db,
        registration_opens_at=now - timedelta(hours=3),
        kickoff_at=now - timedelta(hours=1),
        deadline_at=now + timedelta(hours=1),
    )
    jam_id = jam_id_of(db, slug)
    film = storage.path_for(f"rush/film-{secrets.token_hex(4)}.mp4")
    film.parent.mkdir(parents=True, exist_ok=True)
    film.write_bytes(film_bytes())
    teams = populate(db, storage, jam_id, film, teams=TEAMS, doubled=DOUBLED)

    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(settings.data_dir),
        "STUDIO_DATABASE_URL": settings.database_url,
        "STUDIO_DATA_DIR": str(settings.data_dir),
        "STUDIO_MEDIA_DIR": str(settings.media_path),
        "STUDIO_SECRET_KEY": TEST_SECRET,
    }
    with web_processes(env, 2, artifacts_dir / "deadline-rush") as urls:
        # Before the rush, 100 teams submit at once, well ahead of the deadline.
        early = teams[DOUBLED : DOUBLED + PRIOR]
        prior = {}
        for answer in burst(urls, slug, lambda: schedule(early, time.time() + 0.05, 0.0)):
            assert answer.code == 200 and answer.body["status"] == "submitted", answer
            prior[answer.send.team] = Prior(
                EntryStatus.SUBMITTED, answer.submitted_at, answer.body["revision"]
            )

        refused_wave = early[:REFUSED]
        late_wave = teams[-LATE:]
        last_second = [t for t in teams if t not in refused_wave and t not in late_wave]
        deadlines = []

        def arm() -> list[Send]:  # the deadline 1.2 s from now, a long grace period
            deadline = set_deadline(db, slug, admin.id, in_seconds=1.2, grace_seconds=3600)
            deadlines.append(deadline)
            at = deadline.timestamp()
            return schedule(last_second, at - 1.0, 0.9) + schedule(late_wave, at + 0.3, 0.5)

        outcomes = burst(urls, slug, arm)
        (deadline,) = deadlines
        grace_end = close_late_entries(db, slug, admin.id, deadline)
        outcomes += burst(
            urls, slug, lambda: schedule(refused_wave, grace_end.timestamp() + 1.5, 0.2)
        )

    report = verify(
        db, jam_id, teams, outcomes, deadline=deadline, grace_end=grace_end, prior=prior
    )
    pressed_in_time = [o for o in outcomes if o.sent < deadline.timestamp()]
    on_time = sum(o.accepted and o.body["status"] == "submitted" for o in pressed_in_time)
    print(
        f"\ndeadline rush: {len(outcomes)} saves from {TEAMS} teams through 2 web processes: "
        f"{dict(report.tally)}; {on_time} of {len(pressed_in_time)} pressed before the deadline "
        f"were on time; settled {report.last_done - deadline.timestamp():.1f} s after the "
        f"deadline; request p50 {report.median * 1000:.0f} ms, "
        f"p99 {report.percentile(0.99) * 1000:.0f} ms"
    )
    # How many of the last second's saves arrived in time depends on this machine's
    # load (the web processes' event loops read requests between CPU-bound saves):
    # the figure is printed, each save's status is checked against its own arrival.
    assert len(outcomes) == TEAMS + DOUBLED
    assert report.tally["late"] >= LATE  # pressed after the deadline: late, never on time
    assert report.tally["refused"] == REFUSED
