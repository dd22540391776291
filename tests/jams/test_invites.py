"""Team invitations are pending until the invitee accepts: an invitation grants
nothing, the captain's answer is the same for every address, the cap counts
pending invitations, one team per person holds at accept, and anyone can leave
while registration is open (so nobody is held in a team)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from studio.accounts.access import require_role
from studio.accounts.models import AuditEvent, Membership, Role
from studio.config import Settings
from studio.db.session import Database
from studio.errors import Conflict, Forbidden, NotFound
from studio.jams import access, entries, teams
from studio.jams.models import Jam, JamInvite
from studio.media.storage import LocalStorage
from tests.factories import (
    UserInfo,
    WorkspaceInfo,
    bearer,
    make_api_key,
    make_user,
    make_workspace,
)
from tests.jams.helpers import KICKOFF, REG_OPEN, actor, at, join, make_jam, put, register, upload

WHEN = REG_OPEN + timedelta(hours=2)


def invite(db: Database, slug: str, captain: UserInfo, email: str) -> teams.TeamView:
    with db.session_scope() as session:
        return teams.invite_member(
            session, actor(session, captain), slug, email=email, clock=at(WHEN)
        )


def invites_of(db: Database, slug: str, user: UserInfo) -> list[teams.InviteView]:
    with db.session_scope() as session:
        return teams.my_invites(session, actor(session, user), slug)


def actions(db: Database, slug: str) -> list[str]:
    with db.session_scope() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.target == f"jam:{slug}")
                .order_by(AuditEvent.id)
            )
        )


def test_an_invitation_is_pending_and_grants_nothing_until_accepted(
    db: Database, settings: Settings
) -> None:
    storage = LocalStorage(settings.media_path)
    # Registration stays open after kickoff, so the team can hold a draft already.
    slug, _ = make_jam(db, registration_closes_at=KICKOFF + timedelta(hours=6))
    captain, mate = make_user(db, "cap"), make_user(db, "mate")
    team = register(db, slug, captain, "Otters")
    film = upload(db, slug, captain, storage)
    put(db, slug, captain, storage, KICKOFF + timedelta(hours=1), film_asset_id=film, submit=False)
    later = at(KICKOFF + timedelta(hours=2))

    with db.session_scope() as session:
        sent = teams.invite_member(
            session, actor(session, captain), slug, email=f"  {mate.email.upper()} ", clock=later
        )
    assert [m.email for m in sent.members] == [captain.email]
    assert [i.email for i in sent.invites] == [mate.email]  # normalized
    (pending,) = invites_of(db, slug, mate)
    assert (pending.team_name, pending.team_id) == ("Otters", team.id)

    # Pending: no roster row, no workspace, no draft, not counted as a member.
    with db.session_scope() as session:
        me = actor(session, mate)
        with pytest.raises(NotFound) as no_team:
            teams.get_my_team(session, me, slug, clock=later)
        assert no_team.value.code == "no_team"
        with pytest.raises(NotFound):
            entries.get_my_entry(session, me, slug, clock=later)
        with pytest.raises(NotFound):
            require_role(session, me, team.workspace_id)
        jam = access.jam_by_slug(session, slug)
        otters = access.team_of_user(session, jam, captain.id)
        assert otters is not None and mate.id not in access.team_member_ids(session, otters)
        assert [t.members for t in teams.list_teams(session, me, slug)] == [1]

    with db.session_scope() as session:
        joined = teams.accept_invite(session, actor(session, mate), slug, pending.id, clock=later)
    assert [m.email for m in joined.members] == [captain.email, mate.email]
    assert joined.invites == []
    with db.session_scope() as session:
        me = actor(session, mate)
        assert entries.get_my_entry(session, me, slug, clock=later).status.value == "draft"
        assert require_role(session, me, team.workspace_id).role is Role.EDITOR
    assert invites_of(db, slug, mate) == []
    assert actions(db, slug)[-2:] == ["jam.member_invited", "jam.invite_accepted"]


def test_decline_and_cancel_leave_nothing_behind(db: Database) -> None:
    slug, _ = make_jam(db)
    captain, mate, crew = make_user(db, "cap"), make_user(db, "mate"), make_user(db, "crew")
    register(db, slug, captain, "Otters")
    invite(db, slug, captain, mate.email)
    (pending,) = invites_of(db, slug, mate)
    with db.session_scope() as session:
        teams.decline_invite(session, actor(session, mate), slug, pending.id)
    assert invites_of(db, slug, mate) == []
    with db.session_scope() as session:
        assert teams.get_my_team(session, actor(session, captain), slug).invites == []

    # Invited again, then the captain takes it back; a plain member may not.
    join(db, slug, captain, crew, WHEN)
    again = invite(db, slug, captain, mate.email).invites[0]
    with pytest.raises(Conflict) as twice:
        invite(db, slug, captain, mate.email)
    assert twice.value.code == "already_invited"
    with db.session_scope() as session, pytest.raises(Forbidden):
        teams.cancel_invite(session, actor(session, crew), slug, again.id)
    with db.session_scope() as session:
        left = teams.cancel_invite(session, actor(session, captain), slug, again.id)
    assert left.invites == [] and invites_of(db, slug, mate) == []
    with db.session_scope() as session, pytest.raises(NotFound):
        teams.accept_invite(session, actor(session, mate), slug, again.id, clock=at(WHEN))
    assert {"jam.invite_declined", "jam.invite_cancelled"} <= set(actions(db, slug))


def test_the_cap_counts_pending_invitations(db: Database) -> None:
    slug, _ = make_jam(db, team_size_max=2)
    captain, first, second = make_user(db, "cap"), make_user(db, "a"), make_user(db, "b")
    register(db, slug, captain, "Otters")
    pending = invite(db, slug, captain, first.email).invites[0]
    with pytest.raises(Conflict) as full:
        invite(db, slug, captain, second.email)
    assert full.value.code == "team_full"
    with pytest.raises(Conflict) as full_unknown:  # unknown addresses hold a place too
        invite(db, slug, captain, "nobody-here@studio.example")
    assert full_unknown.value.code == "team_full"
    with db.session_scope() as session:
        teams.cancel_invite(session, actor(session, captain), slug, pending.id)
    assert [i.email for i in invite(db, slug, captain, second.email).invites] == [second.email]


def test_one_team_per_person_holds_at_accept(db: Database) -> None:
    slug, _ = make_jam(db)
    otter, heron, mate = make_user(db, "otter"), make_user(db, "heron"), make_user(db, "mate")
    register(db, slug, otter, "Otters")
    register(db, slug, heron, "Herons")
    invite(db, slug, otter, mate.email)
    invite(db, slug, heron, mate.email)
    # The Herons' captain is invited to the Otters: pending, but cannot be accepted.
    invite(db, slug, otter, heron.email)
    (to_otters,) = invites_of(db, slug, heron)
    with db.session_scope() as session, pytest.raises(Conflict) as taken:
        teams.accept_invite(session, actor(session, heron), slug, to_otters.id, clock=at(WHEN))
    assert taken.value.code == "already_in_team"

    # Accepting one invitation removes the person's others in this jam.
    first, other = invites_of(db, slug, mate)
    with db.session_scope() as session:
        teams.accept_invite(session, actor(session, mate), slug, first.id, clock=at(WHEN))
    assert invites_of(db, slug, mate) == []
    with db.session_scope() as session:
        assert teams.get_my_team(session, actor(session, heron), slug).invites == []
        assert session.get(JamInvite, other.id) is None
    # After registration closes nobody can join.
    late = make_user(db, "late")
    invite(db, slug, heron, late.email)
    (closed,) = invites_of(db, slug, late)
    with db.session_scope() as session, pytest.raises(Conflict) as shut:
        teams.accept_invite(session, actor(session, late), slug, closed.id, clock=at(KICKOFF))
    assert shut.value.code == "registration_closed"


def test_leaving_frees_the_person_and_captaincy_passes(db: Database) -> None:
    slug, _ = make_jam(db)
    captain, mate, heron = make_user(db, "cap"), make_user(db, "mate"), make_user(db, "heron")
    otters = register(db, slug, captain, "Otters")
    register(db, slug, heron, "Herons")
    join(db, slug, captain, mate, WHEN)
    with db.session_scope() as session, pytest.raises(Conflict):
        teams.register_team(session, actor(session, mate), slug, name="Mine", clock=at(WHEN))

    # The captain leaves: the mate becomes the owner, so the team keeps a captain.
    with db.session_scope() as session:
        teams.leave_team(session, actor(session, captain), slug, clock=at(WHEN))
    with db.session_scope() as session:
        assert access.team_of_user(session, access.jam_by_slug(session, slug), captain.id) is None
        gone = session.scalar(
            select(Membership).where(
                Membership.workspace_id == otters.workspace_id, Membership.user_id == captain.id
            )
        )
        assert gone is None
        assert require_role(session, actor(session, mate), otters.workspace_id).role is Role.OWNER
    # ...who is free to join another team, and the new captain can invite.
    join(db, slug, heron, captain, WHEN)
    assert [i.email for i in invite(db, slug, mate, make_user(db, "new").email).invites]

    # The last member cannot leave; nobody leaves after registration closes.
    with db.session_scope() as session, pytest.raises(Conflict) as last:
        teams.leave_team(session, actor(session, mate), slug, clock=at(WHEN))
    assert last.value.code == "last_member"
    with db.session_scope() as session, pytest.raises(Conflict) as shut:
        teams.leave_team(session, actor(session, captain), slug, clock=at(KICKOFF))
    assert shut.value.code == "registration_closed"
    assert "jam.member_left" in actions(db, slug)


def test_invitations_through_the_api(db: Database, http: httpx.Client) -> None:
    admin = make_user(db, "admin", is_admin=True)
    now = datetime.now(UTC)
    slug, _ = make_jam(
        db,
        admin,
        registration_opens_at=now - timedelta(hours=1),
        kickoff_at=now + timedelta(hours=2),
        team_size_max=4,
    )
    captain, mate, heron, stranger = (
        make_user(db, n) for n in ("cap", "mate", "heron", "stranger")
    )
    team = register(db, slug, captain, "Otters", when=now - timedelta(hours=1))
    herons = register(db, slug, heron, "Herons", when=now - timedelta(hours=1))

    def key(user: UserInfo, team_view: teams.TeamView | None = None) -> dict[str, str]:
        if team_view is None:
            return bearer(make_api_key(db, user, make_workspace(db, owner=user)))
        where = WorkspaceInfo(team_view.workspace_id, team_view.workspace_slug, user)
        return bearer(make_api_key(db, user, where))

    cap_auth, heron_auth = key(captain, team), key(heron, herons)
    mate_auth, stranger_auth = key(mate), key(stranger)

    # The same answer for an account, no account, and someone in another team.
    said = {}
    for email in (mate.email, "no-account@studio.example", heron.email):
        sent = http.post(f"/v1/jams/{slug}/teams/invite", json={"email": email}, headers=cap_auth)
        assert sent.status_code == 201, sent.text
        said[email] = sent.json()["message"].replace(email, "X")
    assert len(set(said.values())) == 1, said
    assert "If X has a Studio account" in said[mate.email]

    mine = http.get(f"/v1/jams/{slug}/invites", headers=mate_auth).json()
    assert [i["team_name"] for i in mine] == ["Otters"]
    invite_id = mine[0]["id"]
    # A stranger (or another team's captain) cannot see, accept, decline or cancel it.
    assert http.get(f"/v1/jams/{slug}/invites", headers=stranger_auth).json() == []
    for path in (f"invites/{invite_id}/accept", f"invites/{invite_id}/decline"):
        got = http.post(f"/v1/jams/{slug}/{path}", headers=stranger_auth)
        assert got.status_code == 404 and got.json()["error"] == "invite_not_found", got.text
    got = http.delete(f"/v1/jams/{slug}/invites/{invite_id}", headers=heron_auth)
    assert got.status_code == 404 and got.json()["error"] == "invite_not_found", got.text
    outside = http.get(f"/v1/jams/{slug}/teams/mine", headers=mate_auth)
    assert outside.status_code == 404 and outside.json()["error"] == "no_team", outside.text

    joined = http.post(f"/v1/jams/{slug}/invites/{invite_id}/accept", headers=mate_auth)
    assert joined.status_code == 200, joined.text
    assert [m["email"] for m in joined.json()["members"]] == [captain.email, mate.email]
    pending = {i["email"]: i["id"] for i in joined.json()["invites"]}
    assert set(pending) == {"no-account@studio.example", heron.email}
    cancelled = http.delete(
        f"/v1/jams/{slug}/invites/{pending['no-account@studio.example']}", headers=cap_auth
    )
    assert cancelled.status_code == 200, cancelled.text
    declined = http.post(
        f"/v1/jams/{slug}/invites/{pending[heron.email]}/decline", headers=heron_auth
    )
    assert declined.status_code == 204, declined.text
    with db.session_scope() as session:
        jam_id = session.scalar(select(Jam.id).where(Jam.slug == slug))
        assert session.scalars(select(JamInvite).where(JamInvite.jam_id == jam_id)).all() == []

    # Leaving through a key for the team's workspace: the key dies with the membership.
    mate_team_auth = key(mate, team)
    left = http.post(f"/v1/jams/{slug}/teams/leave", headers=mate_team_auth)
    assert left.status_code == 200, left.text
    again = http.post(f"/v1/jams/{slug}/teams/leave", headers=mate_team_auth)
    assert again.status_code == 401, again.text
    gone = http.post(f"/v1/jams/{slug}/teams/leave", headers=mate_auth)
    assert gone.status_code == 404 and gone.json()["error"] == "no_team", gone.text
