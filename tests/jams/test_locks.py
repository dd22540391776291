"""Jam locks hold under concurrency on SQLite and Postgres (issue 13, finding 7):
parallel invitations never overfill a team, parallel first saves make one entry,
parallel assigners and parallel saves of one score sheet write each row once.

Threads with their own sessions and a barrier, so the requests really overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from studio.config import Settings
from studio.db.session import Database
from studio.errors import Conflict
from studio.jams import judging, teams
from studio.jams.models import Assignment, Entry, JamInvite, Score
from studio.media.storage import LocalStorage
from tests.factories import make_user, unique_email
from tests.jams.helpers import (
    DEADLINE,
    GRACE,
    KICKOFF,
    REG_OPEN,
    actor,
    at,
    make_jam,
    put,
    register,
    team_with_film,
)

WORKERS = 8


def race(count: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run work(i) for i < count at the same moment; results and errors."""
    barrier = threading.Barrier(count)
    results: list[Any] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            value = work(i)
        except BaseException as exc:
            with lock:
                failures.append(exc)
        else:
            with lock:
                results.append(value)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, failures


def count(db: Database, model: type, *where: Any) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_parallel_invitations_never_overfill_a_team(db: Database) -> None:
    slug, _ = make_jam(db, team_size_max=2)  # the captain and one free place
    captain = make_user(db, "captain")
    team = register(db, slug, captain)

    def invite(i: int) -> None:
        with db.session_scope() as session:
            teams.invite_member(
                session,
                actor(session, captain),
                slug,
                email=unique_email(f"guest{i}"),
                clock=at(REG_OPEN + timedelta(hours=1)),
            )

    done, failures = race(WORKERS, invite)
    assert len(done) == 1, failures
    assert all(isinstance(f, Conflict) and f.code == "team_full" for f in failures), failures
    assert count(db, JamInvite, JamInvite.team_id == team.id) == 1


def test_parallel_first_saves_make_one_entry(db: Database, settings: Settings) -> None:
    slug, _ = make_jam(db)
    storage = LocalStorage(settings.media_path)
    captain, film = team_with_film(db, slug, storage)
    during = KICKOFF + timedelta(hours=2)

    def save(i: int) -> int:
        view = put(db, slug, captain, storage, during, title=f"Take {i}", film_asset_id=film)
        return view.id

    ids, failures = race(WORKERS, save)
    assert not failures, failures
    assert len(set(ids)) == 1
    assert count(db, Entry, Entry.id == ids[0]) == 1


def test_parallel_assigners_and_score_saves_write_each_row_once(
    db: Database, settings: Settings
) -> None:
    slug, admin = make_jam(db, judges_per_entry=2)
    storage = LocalStorage(settings.media_path)
    during = KICKOFF + timedelta(hours=2)
    for n in range(3):
        captain, film = team_with_film(db, slug, storage, f"captain{n}")
        put(db, slug, captain, storage, during, film_asset_id=film)
    judges = [make_user(db, f"judge{n}") for n in range(3)]
    with db.session_scope() as session:
        for judge in judges:
            judging.add_judge(session, actor(session, admin), slug, email=judge.email)
    judging_time = at(DEADLINE + timedelta(seconds=GRACE + 60))

    def assign(_: int) -> int:
        with db.session_scope() as session:
            return judging.assign_judges(
                session, actor(session, admin), slug, clock=judging_time
            ).created

    created, failures = race(4, assign)
    assert not failures, failures
    assert sum(created) == 3 * 2  # each entry got its two judges exactly once
    assert count(db, Assignment) >= 6
    with db.session_scope() as session:
        me = actor(session, judges[0])
        entry_id = judging.list_my_assignments(session, me, slug, clock=judging_time)[0].entry.id

    def score(i: int) -> None:
        with db.session_scope() as session:
            judging.save_scores(
                session,
                actor(session, judges[0]),
                slug,
                entry_id,
                scores={"artistic": 1 + i % 9, "technical": 5},
                clock=judging_time,
            )

    _, failures = race(6, score)
    assert not failures, failures
    with db.session_scope() as session:
        me = actor(session, judges[0])
        view = judging.get_assigned_entry(session, me, slug, entry_id, clock=judging_time)
        assert set(view.scores) == {"artistic", "technical"}
        rows = session.scalar(
            select(func.count()).select_from(Score).where(Score.assignment_id == view.assignment_id)
        )
    assert rows == 2
