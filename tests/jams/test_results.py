"""Results: a hand-computed ranking with z-score normalization and ties, awards,
and results and votes hidden until published."""

from __future__ import annotations

from datetime import timedelta

import pytest

from studio.config import Settings
from studio.db.session import Database
from studio.errors import Conflict, Forbidden, NotFound
from studio.jams import judging, results, service, votes
from studio.jams.rules import JamRules
from studio.media.storage import LocalStorage, Storage
from tests.factories import UserInfo, make_user
from tests.jams.helpers import DEADLINE, GRACE, actor, at, make_jam, put, team_with_film

RUBRIC = [
    {"key": "a", "name": "A", "weight": 2, "min": 0, "max": 10},
    {"key": "b", "name": "B", "weight": 1, "min": 0, "max": 10},
]
JUDGING = DEADLINE + timedelta(seconds=GRACE + 60)
AFTER = DEADLINE + timedelta(days=30)


@pytest.fixture
def storage(settings: Settings) -> Storage:
    return LocalStorage(settings.media_path)


def scored_jam(
    db: Database,
    storage: Storage,
    sheets: dict[str, list[tuple[int, int]]],
    submitted: list[timedelta],
    normalize: bool,
) -> tuple[str, UserInfo, list[int], list[UserInfo]]:
    """Entries submitted at DEADLINE - submitted[i]; judge name -> (a, b) per entry."""
    slug, admin = make_jam(
        db, rubric=RUBRIC, judges_per_entry=len(sheets), normalize_scores=normalize
    )
    judge_users = {}
    for name in sheets:
        user = make_user(db, name)
        with db.session_scope() as session:
            judging.add_judge(session, actor(session, admin), slug, email=user.email)
        judge_users[name] = user
    ids, captains = [], []
    for i, before in enumerate(submitted):
        captain, film = team_with_film(db, slug, storage, f"c{i}")
        captains.append(captain)
        ids.append(put(db, slug, captain, storage, DEADLINE - before, film_asset_id=film).id)
    with db.session_scope() as session:
        judging.assign_judges(session, actor(session, admin), slug, clock=at(JUDGING))
    for name, marks in sheets.items():
        for entry_id, (a, b) in zip(ids, marks, strict=True):
            with db.session_scope() as session:
                judging.save_scores(
                    session, actor(session, judge_users[name]), slug, entry_id,
                    scores={"a": a, "b": b}, submit=True, clock=at(JUDGING),
                )  # fmt: skip
    return slug, admin, ids, captains


def test_ranking_matches_the_hand_computed_example(db: Database, storage: Storage) -> None:
    # J1 is generous (around 8), J2 harsh (around 3). Per judge and criterion
    # every value is mean +- 1, so every z-score is +1 or -1:
    #   z(a): J1 +1 +1 -1 -1 | J2 +1 -1 +1 -1 -> mean a: E1 1, E2 0, E3 0, E4 -1
    #   z(b): J1 -1 +1 +1 -1 | J2 +1 -1 -1 +1 -> mean b: 0 for all
    # score = (2a + b) / 3: E1 2/3, E2 0, E3 0, E4 -2/3. E2 and E3 tie on the
    # score and on every criterion and sheet count: E3 was submitted earlier.
    sheets = {
        "j1": [(9, 7), (9, 9), (7, 9), (7, 7)],
        "j2": [(4, 4), (2, 2), (4, 2), (2, 4)],
    }
    submitted = [timedelta(hours=4), timedelta(hours=1), timedelta(hours=2), timedelta(hours=3)]
    slug, admin, (e1, e2, e3, e4), _ = scored_jam(db, storage, sheets, submitted, True)
    with db.session_scope() as session:
        got = results.preview_results(session, actor(session, admin), slug)
    assert [r.entry_id for r in got.ranking] == [e1, e3, e2, e4]
    assert [r.rank for r in got.ranking] == [1, 2, 3, 4]
    assert [round(r.score or 0, 6) for r in got.ranking] == [0.666667, 0.0, 0.0, -0.666667]
    assert got.ranking[0].criteria == pytest.approx({"a": 1.0, "b": 0.0})
    assert got.awards == {"grand_prize": e1, "best_a": e1, "best_b": e1}

    # Raw scores (0..100 per criterion) for the same sheets:
    # E1 a 6.5 b 5.5 -> (130 + 55) / 3 = 61.667; E2 and E3 55 (tie, E3 earlier); E4 48.333.
    with db.session_scope() as session:
        service.update_jam(
            session, actor(session, admin), slug, JamRules(normalize_scores=False),
            clock=at(JUDGING),
        )  # fmt: skip
        raw = results.preview_results(session, actor(session, admin), slug)
    assert [r.entry_id for r in raw.ranking] == [e1, e3, e2, e4]
    assert [round(r.score or 0, 3) for r in raw.ranking] == [61.667, 55.0, 55.0, 48.333]


def test_an_equal_score_goes_to_the_heavier_criterion(db: Database, storage: Storage) -> None:
    # One judge: X (6, 3) and Y (5, 5) both score (2*60 + 30)/3 = (2*50 + 50)/3 = 50.
    # Y was submitted first, but X is better on 'a', the heavier criterion.
    sheets = {"j": [(6, 3), (5, 5)]}
    slug, admin, (x, y), _ = scored_jam(
        db, storage, sheets, [timedelta(hours=1), timedelta(hours=2)], False
    )
    with db.session_scope() as session:
        got = results.preview_results(session, actor(session, admin), slug)
    assert [(r.entry_id, round(r.score or 0, 6)) for r in got.ranking] == [(x, 50.0), (y, 50.0)]
    assert got.awards["best_b"] == y


def test_results_and_votes_stay_hidden_until_published(db: Database, storage: Storage) -> None:
    sheets = {"j": [(8, 8), (6, 6)]}
    slug, admin, (first, second), captains = scored_jam(
        db, storage, sheets, [timedelta(hours=1), timedelta(hours=2)], False
    )
    fans = [make_user(db, f"fan{i}") for i in range(3)]
    for fan in fans:
        with db.session_scope() as session:
            votes.cast_vote(session, actor(session, fan), slug, second, clock=at(JUDGING))
    with db.session_scope() as session, pytest.raises(Conflict) as own:
        votes.cast_vote(session, actor(session, captains[0]), slug, first, clock=at(JUDGING))
    assert own.value.code == "own_team"
    with db.session_scope() as session:
        # A second vote moves the first: still one per person.
        votes.cast_vote(session, actor(session, fans[0]), slug, first, clock=at(JUDGING))
        votes.cast_vote(session, actor(session, fans[0]), slug, second, clock=at(JUDGING))
        for who in (fans[1], captains[0]):
            with pytest.raises(NotFound) as hidden:
                results.get_results(session, actor(session, who), slug)
            assert hidden.value.code == "results_not_published"
        preview = results.preview_results(session, actor(session, admin), slug)
        assert all(r.votes == 0 for r in preview.ranking) and "audience" not in preview.awards
        with pytest.raises(Conflict):
            results.publish_results(session, actor(session, admin), slug, clock=at(JUDGING))
        with pytest.raises(Forbidden):
            results.publish_results(session, actor(session, captains[0]), slug, clock=at(AFTER))
    with db.session_scope() as session:
        results.publish_results(session, actor(session, admin), slug, clock=at(AFTER))
    with db.session_scope() as session:
        public = results.get_results(session, actor(session, fans[2]), slug)
        gallery = results.gallery(session, actor(session, fans[2]), slug)
    assert public.awards["grand_prize"] == first and public.awards["audience"] == second
    assert {r.entry_id: r.votes for r in public.ranking} == {first: 0, second: 3}
    assert [g.entry_id for g in gallery] == [first, second]
