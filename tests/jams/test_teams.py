"""Teams and the kickoff draw: registration window, own workspace with the
grant, the cap, one team per person (a database constraint), reproducible draws."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from studio.accounts.models import AuditEvent, Workspace
from studio.db.session import Database
from studio.errors import Conflict
from studio.jams import draws, results, service, teams
from studio.jams.models import Jam, JamTeamMember
from tests.factories import make_user
from tests.jams.helpers import (
    KICKOFF,
    REG_OPEN,
    SECRET_WORDS,
    actor,
    at,
    join,
    make_jam,
    register,
)


def test_registration_workspace_cap_and_one_team_per_person(db: Database) -> None:
    slug, _ = make_jam(db, team_size_max=2, gpu_seconds_grant=1234, team_concurrent_jobs_cap=3)
    captain, mate, extra, rival = (make_user(db, n) for n in ("cap", "mate", "extra", "rival"))
    with db.session_scope() as session, pytest.raises(Conflict) as early:
        teams.register_team(
            session, actor(session, captain), slug, name="Early", clock=at(REG_OPEN - timedelta(1))
        )
    assert early.value.code == "registration_closed"
    team = register(db, slug, captain, name="Otters")
    register(db, slug, rival, name="Herons")
    with db.session_scope() as session:
        workspace = session.get(Workspace, team.workspace_id)
        assert workspace is not None and workspace.gpu_seconds_quota == 1234
        assert workspace.concurrent_jobs_cap == 3  # the jam's hard cap per team
        when = at(REG_OPEN + timedelta(hours=2))
        with pytest.raises(Conflict) as taken:
            teams.register_team(session, actor(session, extra), slug, name="otters", clock=when)
        assert taken.value.code == "team_name_taken"
    join(db, slug, captain, mate, REG_OPEN + timedelta(hours=2))
    with db.session_scope() as session:
        with pytest.raises(Conflict) as full:
            teams.invite_member(
                session, actor(session, captain), slug, email=extra.email, clock=when
            )
        assert full.value.code == "team_full"
        with pytest.raises(Conflict) as twice:
            teams.register_team(session, actor(session, mate), slug, name="Again", clock=when)
        assert twice.value.code == "already_in_team"
    # The database itself refuses a second team for one person in one jam.
    with db.session_scope() as session:
        jam_id = session.scalar(select(Jam.id).where(Jam.slug == slug))
        rival_team = teams.get_my_team(session, actor(session, rival), slug, clock=at(REG_OPEN)).id
    with pytest.raises(IntegrityError), db.session_scope() as session:
        session.add(JamTeamMember(jam_id=jam_id, team_id=rival_team, user_id=mate.id))
        session.flush()


def test_elements_hidden_until_kickoff_then_drawn_reproducibly(db: Database) -> None:
    slug, admin = make_jam(db, registration_closes_at=KICKOFF + timedelta(hours=2))
    captain = make_user(db, "cap")
    team = register(db, slug, captain)
    before = at(KICKOFF - timedelta(seconds=1))
    with db.session_scope() as session:
        me, boss = actor(session, captain), actor(session, admin)
        seen = [
            service.get_jam(session, me, slug, clock=before),
            service.get_jam(session, boss, slug, clock=before),
            [v for v in service.list_jams(session, me, clock=before) if v.slug == slug],
            teams.get_my_team(session, me, slug, clock=before),
            service.organizer_dashboard(session, boss, slug, clock=before),
            results.export_csv(session, boss, slug, "teams", clock=before),
        ]
        for thing in seen:
            assert not any(word in repr(thing) for word in SECRET_WORDS), thing
    with db.session_scope() as session:
        mine = teams.get_my_team(session, actor(session, captain), slug, clock=at(KICKOFF))
        jam = session.scalar(select(Jam).where(Jam.slug == slug))
        assert jam is not None
        # Reproducible: the recorded seed and the published formula give the same draw.
        assert mine.drawn_elements == draws.team_draw(jam, team.id)
        assert mine.shared_elements == draws.shared_draw(jam)
        assert mine.drawn_elements and mine.drawn_elements["genre"] in (
            "film noir",
            "musical",
            "western",
        )
        event = session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "jam.elements_drawn", AuditEvent.target == f"jam:{slug}"
            )
        )
        assert event is not None and event.details["seed"] == jam.draw_seed
        assert event.details["teams"] == {str(team.id): mine.drawn_elements}
    # A team registering after kickoff is drawn at once; the first draw never changes.
    late = make_user(db, "late")
    with db.session_scope() as session:
        later = teams.register_team(
            session,
            actor(session, late),
            slug,
            name="Late Birds",
            clock=at(KICKOFF + timedelta(1 / 24)),
        )
        again = teams.get_my_team(session, actor(session, captain), slug, clock=at(KICKOFF))
    assert later.drawn_elements is not None and again.drawn_elements == mine.drawn_elements
