"""Entries: the deadline rule on a controlled clock and on the database clock,
film validation, drafts kept private, and every change audited."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from studio.accounts.models import AuditEvent
from studio.config import Settings
from studio.db.session import Database
from studio.errors import Conflict, InvalidInput, NotFound
from studio.jams import entries
from studio.jams.clock import db_clock
from studio.jams.models import Entry, EntryStatus, Jam
from studio.media.storage import LocalStorage, Storage
from tests.factories import UserInfo, make_user
from tests.jams.helpers import (
    DEADLINE,
    GRACE,
    KICKOFF,
    REG_OPEN,
    actor,
    at,
    film_bytes,
    join,
    make_jam,
    put,
    register,
    team_with_film,
    upload,
    upload_film_bytes,
)


@pytest.fixture
def storage(settings: Settings) -> Storage:
    return LocalStorage(settings.media_path)


def entry_row(db: Database, entry_id: int) -> tuple[EntryStatus, object, int]:
    with db.session_scope() as session:
        entry = session.get(Entry, entry_id)
        assert entry is not None
        return entry.status, entry.submitted_at, entry.revision


def test_one_second_either_side_of_the_deadline_and_after_grace(
    db: Database, storage: Storage
) -> None:
    slug, _ = make_jam(db)
    early, early_film = team_with_film(db, slug, storage)
    late, late_film = team_with_film(db, slug, storage)
    refused, refused_film = team_with_film(db, slug, storage)

    on_time = put(
        db, slug, early, storage, DEADLINE - timedelta(seconds=1), film_asset_id=early_film
    )
    assert on_time.status is EntryStatus.SUBMITTED
    assert on_time.submitted_at == DEADLINE - timedelta(seconds=1)

    after = put(db, slug, late, storage, DEADLINE + timedelta(seconds=1), film_asset_id=late_film)
    assert after.status is EntryStatus.LATE

    draft = put(
        db,
        slug,
        refused,
        storage,
        DEADLINE - timedelta(hours=1),
        film_asset_id=refused_film,
        submit=False,
    )
    assert draft.status is EntryStatus.DRAFT
    with pytest.raises(Conflict) as too_late:
        put(db, slug, refused, storage, DEADLINE + timedelta(seconds=GRACE + 1), title="Changed")
    assert too_late.value.code == "deadline_passed"
    assert "not changed" in too_late.value.message
    assert entry_row(db, draft.id) == (EntryStatus.DRAFT, None, 1)  # nothing changed
    with db.session_scope() as session:
        assert session.get(Entry, draft.id).title == "Night Swim"  # type: ignore[union-attr]

    # Exactly at the deadline is on time; the last second of grace is late.
    assert put(db, slug, early, storage, DEADLINE).status is EntryStatus.SUBMITTED
    assert (
        put(db, slug, early, storage, DEADLINE + timedelta(seconds=GRACE)).status
        is EntryStatus.LATE
    )


def test_replacing_after_the_deadline_makes_an_entry_late_and_after_grace_changes_nothing(
    db: Database, storage: Storage
) -> None:
    slug, _ = make_jam(db)
    captain, film = team_with_film(db, slug, storage)
    first = put(db, slug, captain, storage, DEADLINE - timedelta(minutes=5), film_asset_id=film)
    again = put(db, slug, captain, storage, DEADLINE - timedelta(seconds=1), title="Cut 2")
    assert (again.id, again.status, again.revision) == (first.id, EntryStatus.SUBMITTED, 2)
    with pytest.raises(Conflict):
        put(db, slug, captain, storage, DEADLINE + timedelta(seconds=GRACE, microseconds=1))
    assert entry_row(db, first.id) == (
        EntryStatus.SUBMITTED,
        DEADLINE - timedelta(seconds=1),
        2,
    )
    late = put(db, slug, captain, storage, DEADLINE + timedelta(seconds=30), title="Cut 3")
    assert late.status is EntryStatus.LATE and late.revision == 3
    with db.session_scope() as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.target == f"entry:{first.id}")
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["entry.submitted", "entry.submitted", "entry.late"]


def test_entries_open_at_kickoff(db: Database, storage: Storage) -> None:
    slug, _ = make_jam(db)
    captain, film = team_with_film(db, slug, storage)
    with pytest.raises(Conflict) as early:
        put(db, slug, captain, storage, KICKOFF - timedelta(seconds=1), film_asset_id=film)
    assert early.value.code == "not_started"


def test_the_database_clock_decides_in_production(db: Database, storage: Storage) -> None:
    with db.session_scope() as session:
        now = db_clock(session)
    open_slug, _ = make_jam(
        db,
        registration_opens_at=now - timedelta(hours=3),
        registration_closes_at=now - timedelta(minutes=1),
        kickoff_at=now - timedelta(hours=1),
        deadline_at=now + timedelta(hours=1),
        grace_seconds=0,
    )
    closed_slug, _ = make_jam(
        db,
        registration_opens_at=now - timedelta(hours=3),
        registration_closes_at=now - timedelta(minutes=1),
        kickoff_at=now - timedelta(hours=2),
        deadline_at=now - timedelta(seconds=5),
        grace_seconds=0,
    )
    for slug in (open_slug, closed_slug):
        user = make_user(db)
        register(db, slug, user, when=now - timedelta(hours=3))  # registers at now - 2 h
        film = upload(db, slug, user, storage)
        with db.session_scope() as session:
            before = db_clock(session)
        values = entries.EntryInput(title="Live", film_asset_id=film)
        if slug == closed_slug:
            with db.session_scope() as session, pytest.raises(Conflict):
                entries.put_entry(session, actor(session, user), slug, values, storage=storage)
            continue
        with db.session_scope() as session:
            view = entries.put_entry(session, actor(session, user), slug, values, storage=storage)
        with db.session_scope() as session:
            after = db_clock(session)
        assert view.status is EntryStatus.SUBMITTED
        assert view.submitted_at is not None and before <= view.submitted_at <= after


def test_films_are_validated_before_they_count(db: Database, storage: Storage, tmp_path) -> None:  # type: ignore[no-untyped-def]
    slug, _ = make_jam(db, film_max_bytes=200_000)
    captain, _film = team_with_film(db, slug, storage)
    cases = {
        "film_length": film_bytes(seconds=6.0),  # the jam takes 1..4 s
        "invalid_film": b"#EXTM3U\n#EXT-X-VERSION:3\nfile:///etc/passwd\n",  # a playlist
    }
    for code, data in cases.items():
        with db.session_scope() as session, pytest.raises(InvalidInput) as bad:
            upload_film_bytes(session, actor(session, captain), slug, data, storage=storage)
        assert bad.value.code == code, bad.value.message
    concat = b"ffconcat version 1.0\nfile '/etc/hostname'\n"
    with db.session_scope() as session, pytest.raises(InvalidInput) as bad:
        upload_film_bytes(session, actor(session, captain), slug, concat, storage=storage)
    assert bad.value.code == "invalid_film"
    with db.session_scope() as session, pytest.raises(InvalidInput) as big:
        upload_film_bytes(session, actor(session, captain), slug, b"\0" * 200_001, storage=storage)
    assert big.value.code == "film_too_large" and "MB" in big.value.message

    # A film from another team's workspace is "not found", never borrowed.
    _other, other_film = team_with_film(db, slug, storage)
    with pytest.raises(NotFound) as borrowed:
        put(db, slug, captain, storage, KICKOFF + timedelta(hours=1), film_asset_id=other_film)
    assert borrowed.value.code == "film_not_found"
    # Submitting without a film is refused with a reason.
    with pytest.raises(InvalidInput) as no_film:
        put(db, slug, captain, storage, KICKOFF + timedelta(hours=1))
    assert no_film.value.code == "film_required"


def test_drafts_stay_private_to_the_team(db: Database, storage: Storage) -> None:
    slug, admin = make_jam(db)
    captain, film = team_with_film(db, slug, storage)
    draft = put(
        db,
        slug,
        captain,
        storage,
        KICKOFF + timedelta(hours=1),
        film_asset_id=film,
        title="Secret Draft",
        submit=False,
    )
    outsider = make_user(db, "outsider")
    with db.session_scope() as session:
        with pytest.raises(NotFound):
            entries.get_my_entry(session, actor(session, outsider), slug, clock=at(KICKOFF))
        mine = entries.get_my_entry(session, actor(session, captain), slug, clock=at(KICKOFF))
        assert mine.title == "Secret Draft"
        # Organizers run the jam but do not read drafts either.
        listed = entries.list_entries(session, actor(session, admin), slug, clock=at(KICKOFF))
        assert draft.id not in [e.id for e in listed]
        with pytest.raises(NotFound):
            entries.disqualify_entry(
                session, actor(session, admin), slug, draft.id, reason="peeking", clock=at(KICKOFF)
            )


def test_disqualified_entries_cannot_be_resubmitted(db: Database, storage: Storage) -> None:
    slug, admin = make_jam(db)
    captain, film = team_with_film(db, slug, storage)
    entry = put(db, slug, captain, storage, KICKOFF + timedelta(hours=1), film_asset_id=film)
    with db.session_scope() as session:
        done = entries.disqualify_entry(
            session,
            actor(session, admin),
            slug,
            entry.id,
            reason="Made before the jam",
            clock=at(KICKOFF + timedelta(hours=2)),
        )
    assert done.status is EntryStatus.DISQUALIFIED
    with pytest.raises(Conflict) as refused:
        put(db, slug, captain, storage, KICKOFF + timedelta(hours=3))
    assert "Made before the jam" in refused.value.message
    with db.session_scope() as session:
        count = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.target == f"entry:{entry.id}")
        )
        assert count == 2  # entry.submitted, entry.disqualified


def test_a_draft_save_in_grace_never_unsubmits_an_on_time_film(
    db: Database, storage: Storage
) -> None:
    slug, _ = make_jam(db)
    team, film = team_with_film(db, slug, storage)
    submitted = put(db, slug, team, storage, DEADLINE - timedelta(minutes=5), film_asset_id=film)
    assert submitted.status is EntryStatus.SUBMITTED
    with pytest.raises(Conflict) as refused:
        put(
            db,
            slug,
            team,
            storage,
            DEADLINE + timedelta(seconds=5),
            title="Typo fixed",
            submit=False,
        )
    assert refused.value.code == "submitted_after_deadline"
    status, submitted_at, revision = entry_row(db, submitted.id)
    assert (status, submitted_at, revision) == (
        EntryStatus.SUBMITTED,
        DEADLINE - timedelta(minutes=5),
        1,
    )


def test_two_members_saving_the_first_entry_at_once_both_succeed(
    db: Database, storage: Storage
) -> None:
    """One team, two members, the team's first entry, at the same moment: one save
    creates the entry, the other replaces it; never an error, never two rows."""
    slug, _ = make_jam(db)
    captain, film = team_with_film(db, slug, storage)
    mate = make_user(db, "mate")
    join(db, slug, captain, mate, REG_OPEN + timedelta(hours=1))
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def save(user: UserInfo, title: str) -> None:
        barrier.wait()
        try:
            when = DEADLINE - timedelta(minutes=1)
            outcomes.append(put(db, slug, user, storage, when, film_asset_id=film, title=title))
        except Exception as exc:  # the assertion below reports it
            outcomes.append(exc)

    threads = [
        threading.Thread(target=save, args=(captain, "Take A")),
        threading.Thread(target=save, args=(mate, "Take B")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(o, entries.EntryView) for o in outcomes), outcomes
    with db.session_scope() as session:
        query = select(Entry).join(Jam, Jam.id == Entry.jam_id).where(Jam.slug == slug)
        rows = session.scalars(query).all()
        assert len(rows) == 1 and rows[0].revision == 2
