"""Entries are dated by when the request reached the web process, not by when it got
its locks: at the deadline, hundreds of teams submit in the same second and wait
for each other. The database clock still bounds the arrival time."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select

from studio.db.session import Database
from studio.jams import locks
from studio.jams.clock import ARRIVAL_TOLERANCE, arrival_clock, db_clock
from studio.jams.models import Entry, EntryStatus, Jam
from tests.factories import bearer
from tests.jams.helpers import film_bytes, running_jam_team


def test_arrival_is_bounded_by_the_database_clock(db: Database) -> None:
    with db.session_scope() as session:
        now = db_clock(session)
        earlier = now - timedelta(seconds=5)
        assert arrival_clock(earlier)(session) == earlier
        # A web host whose clock runs ahead cannot date an entry in the future...
        assert arrival_clock(now + timedelta(hours=1))(session) >= now
        assert arrival_clock(now + timedelta(hours=1))(session) < now + timedelta(minutes=1)
        # ...and one far behind cannot date it long before the database's now.
        long_ago = arrival_clock(now - timedelta(hours=1))(session)
        assert long_ago >= now - ARRIVAL_TOLERANCE
        assert long_ago < now - ARRIVAL_TOLERANCE + timedelta(minutes=1)
        assert arrival_clock(None)(session) >= now


def test_a_submit_sent_before_the_deadline_is_on_time_though_it_waited_past_it(
    db: Database, http: httpx.Client
) -> None:
    # Grace 0: after the deadline nothing is taken, so a wait would lose the film.
    slug, team, key = running_jam_team(db, grace_seconds=0)
    film = http.post(
        f"/v1/jams/{slug}/entry/film",
        content=film_bytes(),
        headers={**bearer(key), "Content-Type": "video/mp4"},
    )
    assert film.status_code == 201, film.text
    with db.session_scope() as session:  # the deadline comes 3 s from now, whatever setup took
        jam = session.scalars(select(Jam).where(Jam.slug == slug)).one()
        deadline = db_clock(session) + timedelta(seconds=3)
        jam.deadline_at = deadline

    # Another request of the team (a teammate's save) holds the team's lock from
    # before the deadline until after it.
    holding = threading.Event()
    release = threading.Event()

    def teammate_holding_the_lock() -> None:
        with db.session_scope() as session:
            locks.lock_team(session, team.id)
            holding.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=teammate_holding_the_lock)
    holder.start()
    assert holding.wait(timeout=10)
    try:
        wait_until(db, deadline - timedelta(seconds=1))
        releaser = threading.Timer(2.5, release.set)  # the lock goes 1.5 s after the deadline
        releaser.start()
        sent_at = time.monotonic()
        response = http.put(
            f"/v1/jams/{slug}/entry",
            json={"title": "Pressed in time", "film": {"asset_id": film.json()["asset_id"]}},
            headers=bearer(key),
            timeout=30,
        )
        waited = time.monotonic() - sent_at
    finally:
        release.set()
        holder.join()

    assert waited > 2.0, "the save did not wait for the team's lock: the test proves nothing"
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "submitted"
    with db.session_scope() as session:
        entry = session.query(Entry).filter(Entry.team_id == team.id).one()
        assert entry.status is EntryStatus.SUBMITTED
        assert entry.submitted_at is not None and entry.submitted_at <= deadline
        assert db_clock(session) > deadline  # it was saved after the deadline, dated before


def wait_until(db: Database, moment: datetime) -> None:
    with db.session_scope() as session:
        left = (moment - db_clock(session)).total_seconds()
    time.sleep(max(0.0, left))
