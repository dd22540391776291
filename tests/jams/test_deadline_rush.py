"""2,000 teams press submit within one second as submissions close, on Postgres,
through two real `studio serve` processes sharing the database and the real
HTTP API (API-key auth, film probe, locks, the database clock): every accepted
entry is stored once, in the state the database clock gave it (submitted up to
the deadline, late within the grace period), every refused save (after the
grace period) leaves the team's entry as it was, or absent.

100 teams have two members pressing submit at the same instant through
different servers; 100 teams had already submitted on time and submit again.
The organizer closes submissions (the deadline becomes now) once a quarter of
the teams are decided, so that on-time, late and refused saves all occur
whatever this shared machine's speed; a save in flight then is judged by the
deadline it read (put_entry's jam lock).
Figures (time to settle, request p50/p99) are bench/deadline_rush.py's job:
this test prints them but asserts only correctness.
"""

from __future__ import annotations

import secrets
import threading
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
    Closing,
    Prior,
    burst,
    close_during_rush,
    db_now,
    jam_id_of,
    populate,
    schedule,
    verify,
    web_processes,
)

TEAMS = 2000
DOUBLED = 100  # two members press submit at once, each through another server
PRIOR = 100  # already submitted on time before the rush; they submit again


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

        # The rush: every team presses submit within one second. The organizer
        # closes submissions (deadline = now) once a quarter of the teams are
        # decided, with a grace period of about a quarter of the backlog left:
        # this machine is shared and its speed varies tenfold, and this way
        # some saves are on time, some late and some refused, whatever it does.
        closing = Closing()
        organizer = threading.Thread(
            target=close_during_rush,
            args=(db, slug, jam_id, admin.id),
            kwargs={"since": db_now(db), "teams": TEAMS, "closing": closing},
        )
        organizer.start()
        outcomes = burst(urls, slug, lambda: schedule(teams, time.time() + 0.1, 1.0))
        organizer.join(timeout=60)
    assert closing.deadline is not None, "the organizer never closed submissions"
    deadline = closing.deadline
    grace_end = deadline + timedelta(seconds=closing.grace_seconds)

    report = verify(
        db, jam_id, teams, outcomes, deadline=deadline, grace_end=grace_end, prior=prior
    )
    print(
        f"\ndeadline rush (grace {closing.grace_seconds} s): "
        f"{len(outcomes)} saves from {TEAMS} teams through 2 web processes: "
        f"{dict(report.tally)}; settled {report.last_done - deadline.timestamp():.1f} s after "
        f"the deadline; request p50 {report.median * 1000:.0f} ms, "
        f"p99 {report.percentile(0.99) * 1000:.0f} ms"
    )
    assert len(outcomes) == TEAMS + DOUBLED
    assert report.tally["submitted"] > 0 and report.tally["late"] > 0
    assert report.tally["refused"] > 0
