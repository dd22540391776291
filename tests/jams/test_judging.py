"""Judging: balanced, conflict-free assignment; judges read and score only
their own assignments, within the judging window."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from studio.config import Settings
from studio.db.session import Database
from studio.errors import Conflict, Forbidden, InvalidInput, NotFound
from studio.jams import judging, teams
from studio.jams.models import Assignment, Entry, Jam
from studio.media.storage import LocalStorage, Storage
from tests.factories import UserInfo, make_user
from tests.jams.helpers import (
    DEADLINE,
    GRACE,
    KICKOFF,
    actor,
    at,
    join,
    make_jam,
    put,
    team_with_film,
)

JUDGING = DEADLINE + timedelta(seconds=GRACE + 60)


@pytest.fixture
def storage(settings: Settings) -> Storage:
    return LocalStorage(settings.media_path)


def judges_for(db: Database, slug: str, admin: UserInfo, count: int) -> list[tuple[int, UserInfo]]:
    made = []
    for i in range(count):
        user = make_user(db, f"judge{i}")
        with db.session_scope() as session:
            view = judging.add_judge(session, actor(session, admin), slug, email=user.email)
        made.append((view.judge_id, user))
    return made


def test_each_entry_gets_k_judges_balanced_and_never_its_own_or_a_conflict(
    db: Database, storage: Storage
) -> None:
    slug, admin = make_jam(db, judges_per_entry=3)
    judges = judges_for(db, slug, admin, 7)
    captains = []
    for i in range(10):
        captain, film = team_with_film(db, slug, storage, f"cap{i}")
        captains.append(captain)
        when = DEADLINE - timedelta(minutes=1) if i < 9 else DEADLINE + timedelta(seconds=5)
        put(db, slug, captain, storage, when, film_asset_id=film)
    # Judge 0 is on team 0 (invited and accepted before kickoff); judge 1 has a
    # conflict with team 1.
    join(db, slug, captains[0], judges[0][1], KICKOFF - timedelta(days=1))
    with db.session_scope() as session:
        team1 = teams.get_my_team(session, actor(session, captains[1]), slug, clock=at(KICKOFF)).id
        judging.add_conflict(
            session, actor(session, admin), slug, judge_id=judges[1][0], team_id=team1,
            reason="Former colleague",
        )  # fmt: skip
    with db.session_scope() as session, pytest.raises(Conflict):
        judging.assign_judges(session, actor(session, admin), slug, clock=at(DEADLINE))
    with db.session_scope() as session:
        report = judging.assign_judges(session, actor(session, admin), slug, clock=at(JUDGING))
    assert report.short == {} and report.created == 27
    with db.session_scope() as session:
        jam_id = session.scalar(select(Jam.id).where(Jam.slug == slug))
        rows = session.execute(
            select(Assignment.entry_id, Assignment.judge_id).where(Assignment.jam_id == jam_id)
        ).all()
        team_of_entry = {
            e: t
            for e, t in session.execute(
                select(Entry.id, Entry.team_id).where(Entry.jam_id == jam_id)
            )
        }
        team_of_captain = [
            teams.get_my_team(session, actor(session, c), slug, clock=at(KICKOFF)).id
            for c in captains
        ]
    per_entry = Counter(e for e, _ in rows)
    assert sorted(per_entry.values()) == [3] * 9
    assert all(team_of_entry[e] != team_of_captain[9] for e, _ in rows)  # the late entry: none
    for entry_id, judge_id in rows:
        assert (judge_id, team_of_entry[entry_id]) != (judges[0][0], team_of_captain[0])
        assert (judge_id, team_of_entry[entry_id]) != (judges[1][0], team1)
    loads = Counter(j for _, j in rows)
    assert len(loads) == 7 and max(loads.values()) - min(loads.values()) <= 1, loads
    # A rerun only tops up: nothing to do.
    with db.session_scope() as session:
        again = judging.assign_judges(session, actor(session, admin), slug, clock=at(JUDGING))
    assert again.created == 0


def test_not_enough_judges_is_reported_not_hidden(db: Database, storage: Storage) -> None:
    slug, admin = make_jam(db, judges_per_entry=3)
    judges_for(db, slug, admin, 2)
    captain, film = team_with_film(db, slug, storage)
    put(db, slug, captain, storage, DEADLINE, film_asset_id=film)
    with db.session_scope() as session:
        report = judging.assign_judges(session, actor(session, admin), slug, clock=at(JUDGING))
    assert report.created == 2 and list(report.short.values()) == [1]


def test_a_judge_reads_and_scores_only_assigned_entries_while_judging_is_open(
    db: Database, storage: Storage
) -> None:
    slug, admin = make_jam(db, judges_per_entry=1)
    (j1, judge_a), (j2, judge_b) = judges_for(db, slug, admin, 2)
    entry_ids = []
    for i in range(2):
        captain, film = team_with_film(db, slug, storage, f"c{i}")
        entry_ids.append(put(db, slug, captain, storage, DEADLINE, film_asset_id=film).id)
    with db.session_scope() as session:
        judging.assign_judges(session, actor(session, admin), slug, clock=at(JUDGING))
    with db.session_scope() as session:
        mine = judging.list_my_assignments(
            session, actor(session, judge_a), slug, clock=at(JUDGING)
        )
        assert len(mine) == 1
        own, other = mine[0].entry.id, next(e for e in entry_ids if e != mine[0].entry.id)
        with pytest.raises(NotFound):
            judging.get_assigned_entry(
                session, actor(session, judge_a), slug, other, clock=at(JUDGING)
            )
        with pytest.raises(NotFound):
            judging.save_scores(
                session, actor(session, judge_a), slug, other, scores={"artistic": 5},
                clock=at(JUDGING),
            )  # fmt: skip
        outsider = make_user(db, "fan")
        with pytest.raises(Forbidden):
            judging.list_my_assignments(session, actor(session, outsider), slug, clock=at(JUDGING))
    full = {"artistic": 8, "technical": 7, "adherence": 9}
    cases = [
        ({"artistic": 11}, "invalid_scores"),
        ({"story": 5}, "invalid_scores"),
        ({"artistic": "9"}, "invalid_scores"),
    ]
    for scores, code in cases:
        with db.session_scope() as session, pytest.raises(InvalidInput) as bad:
            judging.save_scores(
                session, actor(session, judge_a), slug, own, scores=scores, clock=at(JUDGING)
            )
        assert bad.value.code == code
    with db.session_scope() as session, pytest.raises(InvalidInput) as partial:
        judging.save_scores(
            session, actor(session, judge_a), slug, own, scores={"artistic": 8}, submit=True,
            clock=at(JUDGING),
        )  # fmt: skip
    assert partial.value.code == "scores_incomplete"
    with db.session_scope() as session:
        judging.save_scores(
            session, actor(session, judge_a), slug, own, scores={"artistic": 8}, notes="pacing",
            clock=at(JUDGING),
        )  # fmt: skip
        done = judging.save_scores(
            session, actor(session, judge_a), slug, own, scores=full, submit=True,
            clock=at(JUDGING),
        )  # fmt: skip
    assert done.scores == {k: float(v) for k, v in full.items()} and done.notes == "pacing"
    assert done.submitted_at == JUDGING
    closed = at(DEADLINE + timedelta(days=30))
    with db.session_scope() as session, pytest.raises(Conflict) as late:
        judging.save_scores(session, actor(session, judge_a), slug, own, scores=full, clock=closed)
    assert late.value.code == "judging_closed"
    assert j1 != j2 and judge_b.id != judge_a.id


def test_a_conflict_recorded_later_removes_the_assignment(db: Database, storage: Storage) -> None:
    slug, admin = make_jam(db, judges_per_entry=1)
    [(judge_id, judge)] = judges_for(db, slug, admin, 1)
    captain, film = team_with_film(db, slug, storage)
    entry = put(db, slug, captain, storage, DEADLINE, film_asset_id=film)
    with db.session_scope() as session:
        judging.assign_judges(session, actor(session, admin), slug, clock=at(JUDGING))
        assert judging.get_assigned_entry(
            session, actor(session, judge), slug, entry.id, clock=at(JUDGING)
        )
        judging.add_conflict(
            session, actor(session, admin), slug, judge_id=judge_id, team_id=entry.team_id
        )
    with db.session_scope() as session, pytest.raises(NotFound):
        judging.get_assigned_entry(
            session, actor(session, judge), slug, entry.id, clock=at(JUDGING)
        )
    with db.session_scope() as session:
        report = judging.assign_judges(session, actor(session, admin), slug, clock=at(JUDGING))
    assert report.created == 0 and list(report.short.values()) == [1]
