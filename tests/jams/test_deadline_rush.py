"""200 teams submit in the last second, on Postgres, through real connections
and the real database clock: every accepted entry is stored exactly once, in
the state the clock gave it, and nothing accepted is lost."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from studio.accounts import service as accounts
from studio.accounts.models import AuditEvent
from studio.config import Settings
from studio.db.session import Database
from studio.errors import Conflict
from studio.jams import entries, service
from studio.jams.clock import db_clock
from studio.jams.models import Entry, EntryStatus, Jam, JamTeam
from studio.jams.rules import JamRules
from studio.media.storage import LocalStorage
from tests.factories import UserInfo, unique_email
from tests.jams.helpers import actor, film_bytes, join, make_jam, register, upload

TEAMS = 200
DOUBLED = 50  # teams whose two members press submit at the same moment


def quick_user(db: Database, label: str) -> UserInfo:
    """No password: hashing 250 argon2 passwords would be most of this test's time."""
    with db.session_scope() as session:
        user = accounts.create_user(session, email=unique_email(label))
        return UserInfo(user.id, user.email, "")


def test_two_hundred_teams_in_the_last_second(
    backend: str, db: Database, database_url: str, settings: Settings
) -> None:
    if backend != "postgres":
        pytest.skip("the deadline rush is a Postgres test (SQLite serializes all writers)")
    storage = LocalStorage(settings.media_path)
    with db.session_scope() as session:
        now = db_clock(session)
    slug, admin = make_jam(
        db,
        registration_opens_at=now - timedelta(hours=3),
        kickoff_at=now - timedelta(hours=1),
        deadline_at=now + timedelta(hours=1),
    )
    film = film_bytes()
    people: list[tuple[int, UserInfo, int]] = []  # (team index, person, film asset id)
    for i in range(TEAMS):
        captain = quick_user(db, f"c{i}")
        register(db, slug, captain, name=f"Team {i:03d}", when=now - timedelta(hours=3))
        asset = upload(db, slug, captain, storage, film)
        people.append((i, captain, asset))
        if i < DOUBLED:
            mate = quick_user(db, f"m{i}")
            join(db, slug, captain, mate, now - timedelta(hours=2))
            people.append((i, mate, asset))

    # The deadline lands inside the burst: 1.5 s from now, 1 s of grace after it.
    with db.session_scope() as session:
        start = db_clock(session)
        deadline = start + timedelta(seconds=1.5)
        service.update_jam(
            session,
            actor(session, admin),
            slug,
            JamRules(deadline_at=deadline, grace_seconds=1),
            clock=lambda _s: now,
        )
    grace_end = deadline + timedelta(seconds=1)

    engine = create_engine(
        database_url.replace("postgresql://", "postgresql+psycopg://"),
        pool_size=40,
        max_overflow=0,
        pool_timeout=60,
    )
    # Warm the pool so the burst measures the database, not connection setup.
    warm = [engine.connect() for _ in range(40)]
    for connection in warm:
        connection.close()

    results: dict[int, list[tuple[str, object, object]]] = defaultdict(list)
    lock = threading.Lock()
    gate = threading.Barrier(len(people))
    go_at = time.monotonic() + 1.0  # all threads start ~0.5 s before the deadline

    def submit(team: int, person: UserInfo, asset: int) -> None:
        gate.wait()
        time.sleep(max(0.0, go_at - time.monotonic()))
        try:
            with Session(engine) as session, session.begin():
                view = entries.put_entry(
                    session,
                    actor(session, person),
                    slug,
                    entries.EntryInput(title=f"Film {team}", film_asset_id=asset),
                    storage=storage,
                )
                outcome = ("accepted", view.status, view.submitted_at)
        except Conflict as exc:
            outcome = ("refused", exc.code, None)
        with lock:
            results[team].append(outcome)

    threads = [threading.Thread(target=submit, args=p) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    engine.dispose()
    assert sum(len(r) for r in results.values()) == len(people), "a submission vanished"

    with db.session_scope() as session:
        jam_id = session.scalar(select(Jam.id).where(Jam.slug == slug))
        rows = {e.team_id: e for e in session.scalars(select(Entry).where(Entry.jam_id == jam_id))}
        team_ids = {
            name: team_id
            for name, team_id in session.execute(
                select(JamTeam.name, JamTeam.id).where(JamTeam.jam_id == jam_id)
            )
        }
        audited = Counter(
            session.scalars(
                select(AuditEvent.target).where(
                    AuditEvent.action.in_(["entry.submitted", "entry.late"])
                )
            )
        )

    tally: Counter[str] = Counter()
    for team, outcomes in results.items():
        accepted = [o for o in outcomes if o[0] == "accepted"]
        for _, status, at in accepted:
            # Each answer agrees with the rule applied to its own database time.
            assert at is not None
            expected = EntryStatus.SUBMITTED if at <= deadline else EntryStatus.LATE
            assert status is expected and at <= grace_end
            tally[str(status)] += 1
        tally["refused"] += len(outcomes) - len(accepted)
        row = rows.get(team_ids[f"Team {team:03d}"])
        if not accepted:
            assert row is None, f"team {team} was refused but has an entry"
            continue
        # Stored exactly once (UNIQUE team_id), every accepted write applied once.
        assert row is not None
        assert row.revision == len(accepted)
        assert audited[f"entry:{row.id}"] == len(accepted)
        last = max(accepted, key=lambda o: o[2])  # type: ignore[arg-type,return-value]
        assert (row.status, row.submitted_at) == (last[1], last[2])
        assert row.status is (
            EntryStatus.SUBMITTED if row.submitted_at <= deadline else EntryStatus.LATE  # type: ignore[operator]
        )
    print(f"\ndeadline rush, {len(people)} submissions: {dict(tally)}")
    assert tally["submitted"] + tally["late"] > 0
