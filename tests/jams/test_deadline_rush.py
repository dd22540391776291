"""2,000 teams submit in the last second before the deadline, on Postgres,
through two real `studio serve` processes sharing the database and the real
HTTP API (API-key auth, film probe, locks, the database clock): every accepted
entry is stored once, in the state the database clock gave it (submitted up to
the deadline, late within the grace period), every refused save (after the
grace period) leaves the team's entry as it was, or absent.

100 teams have two members pressing submit at the same instant through
different servers; 100 teams had already submitted on time and submit again.
The deadline and the grace period are placed from a calibration burst just
before (this machine is shared, its speed varies), so that on-time, late and
refused saves all occur.
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
from studio.media.storage import Storage
from tests.conftest import TEST_SECRET
from tests.jams.helpers import film_bytes, make_jam
from tests.jams.rush import (
    Prior,
    Send,
    burst,
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
PRIOR = 100  # already submitted on time before the rush; they submit again


def test_two_thousand_teams_in_the_last_second_through_two_web_processes(
    backend: str, db: Database, settings: Settings, artifacts_dir: Path
) -> None:
    if backend != "postgres":
        pytest.skip("the deadline rush is a Postgres test (SQLite serializes all writers)")
    storage = Storage(settings.media_path)
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
        # It also measures this machine right now (it is shared and its speed
        # varies tenfold): how soon the first answers come, and saves per second.
        early = teams[DOUBLED : DOUBLED + PRIOR]
        calibration = burst(
            urls, slug, lambda: schedule(early, first=time.time() + 0.05, spread=0.0)
        )
        prior = {}
        for answer in calibration:
            assert answer.code == 200 and answer.body["status"] == "submitted", answer
            prior[answer.send.team] = Prior(
                EntryStatus.SUBMITTED, answer.submitted_at, answer.body["revision"]
            )
        started = min(o.sent for o in calibration)
        first_answers = sorted(o.done - started for o in calibration)[len(calibration) // 10]
        per_second = len(calibration) / (max(o.done for o in calibration) - started)

        # The rush: every team presses submit within one second, which ends just
        # before the deadline. The deadline is placed after the first answers
        # can come (so some saves are on time), the grace period covers about a
        # third of the expected backlog (so some are late and the rest refused).
        lead = 0.1 + max(1.05, 2 * first_answers)  # from arming to the deadline
        grace = max(2, round((TEAMS + DOUBLED) / per_second / 3))
        deadline = grace_end = now

        def arm() -> list[Send]:
            nonlocal deadline, grace_end
            deadline = set_deadline(db, slug, admin.id, in_seconds=lead, grace_seconds=grace)
            grace_end = deadline + timedelta(seconds=grace)
            return schedule(teams, first=time.time() + 0.1, spread=1.0)

        outcomes = burst(urls, slug, arm)

    report = verify(
        db, jam_id, teams, outcomes, deadline=deadline, grace_end=grace_end, prior=prior
    )
    print(
        f"\ndeadline rush (deadline {lead:.1f} s after arming, grace {grace} s): "
        f"{len(outcomes)} saves from {TEAMS} teams through 2 web processes: "
        f"{dict(report.tally)}; settled {report.last_done - deadline.timestamp():.1f} s after "
        f"the deadline; request p50 {report.median * 1000:.0f} ms, "
        f"p99 {report.percentile(0.99) * 1000:.0f} ms"
    )
    assert len(outcomes) == TEAMS + DOUBLED
    assert report.tally["submitted"] > 0 and report.tally["late"] > 0
    assert report.tally["refused"] > 0
