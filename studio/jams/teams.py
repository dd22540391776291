"""Teams: register while registration is open, invite members up to the cap.

Invitations are pending (jam_invites, by email) until the invitee accepts:
an invitation grants nothing, and the captain's answer is the same for every
address. Accepting adds the roster row; a member may leave while
registration is open (not the last one; a leaving captain passes captaincy).

Each team gets its own workspace (made by the accounts service, the
registering person as owner, the jam's GPU-seconds grant as its quota), so
every studio tool (projects, takes, rough cuts) works for it unchanged.
One team per person per jam is a UNIQUE (jam_id, user_id) constraint on the
roster: the check below gives the friendly message, the constraint decides races.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from studio.accounts import audit, validation
from studio.accounts import service as accounts
from studio.accounts.access import Actor, require_role
from studio.accounts.models import ApiKey, Membership, Role, User, Workspace
from studio.db.base import utcnow
from studio.errors import Conflict, Forbidden, InvalidInput, NotFound
from studio.jams import access, draws, locks, rules
from studio.jams.clock import Clock, db_clock
from studio.jams.models import Jam, JamInvite, JamTeam, JamTeamMember

ALREADY_IN_TEAM = "{who} already in a team of this jam (one team per person)."


@dataclass(frozen=True)
class TeamMemberView:
    user_id: int
    display_name: str
    email: str


@dataclass(frozen=True)
class TeamView:
    """A team as its own members see it."""

    id: int
    name: str
    workspace_id: int
    workspace_slug: str
    members: list[TeamMemberView]
    size_max: int
    drawn_elements: dict[str, str] | None  # None before kickoff
    shared_elements: dict[str, str] | None  # None before kickoff
    invites: list[PendingInviteView]  # pending, not yet members


@dataclass(frozen=True)
class PendingInviteView:
    """An invitation the team sent that has not been answered yet."""

    id: int
    email: str
    created_at: datetime


@dataclass(frozen=True)
class InviteView:
    """An invitation as the invitee sees it."""

    id: int
    team_id: int
    team_name: str
    invited_by: str  # the captain's display name
    created_at: datetime


@dataclass(frozen=True)
class TeamSummary:
    """A team as anyone sees it (names only; no members' emails)."""

    id: int
    name: str
    members: int


def register_team(
    session: Session, actor: Actor, slug: str, *, name: str, clock: Clock = db_clock
) -> TeamView:
    jam = access.jam_by_slug(session, slug)
    now = clock(session)
    _registration_open(jam, now)
    team_name = " ".join(str(name).split())
    if not 1 <= len(team_name) <= 80:
        raise InvalidInput("A team name must be 1 to 80 characters.", code="invalid_team_name")
    if access.team_of_user(session, jam, actor.user_id) is not None:
        raise Conflict(ALREADY_IN_TEAM.format(who="You are"), code="already_in_team")
    taken = session.scalar(
        select(JamTeam.id).where(
            JamTeam.jam_id == jam.id, func.lower(JamTeam.name) == team_name.lower()
        )
    )
    if taken is not None:
        raise Conflict(
            f"A team called '{team_name}' is already registered.", code="team_name_taken"
        )
    # The team workspace is part of the jam registration, not a free-standing
    # workspace: an API key may register (it proves the person), so the
    # key's workspace scope is set aside for this one call.
    person = dataclasses.replace(actor, workspace_scope=None, api_key_id=None)
    workspace = accounts.create_workspace(session, person, name=f"{team_name} · {jam.title}"[:80])
    workspace.gpu_seconds_quota = jam.gpu_seconds_grant
    workspace.concurrent_jobs_cap = jam.team_concurrent_jobs_cap or None
    team = JamTeam(
        jam_id=jam.id, name=team_name, workspace_id=workspace.id, created_by=actor.user_id
    )
    try:
        with session.begin_nested():
            session.add(team)
            session.flush()
            session.add(JamTeamMember(jam_id=jam.id, team_id=team.id, user_id=actor.user_id))
            session.flush()
    except IntegrityError:
        # A second registration by the same person, or the same name, at the same moment.
        raise Conflict(
            "You are already in a team of this jam, or that team name was just taken.",
            code="already_in_team",
        ) from None
    audit.record(
        session,
        "jam.team_registered",
        actor_user_id=actor.user_id,
        workspace_id=workspace.id,
        target=f"jam:{jam.slug}",
        team_id=team.id,
        name=team_name,
    )
    if rules.elements_revealed(jam, now):
        if jam.drawn_at is None:
            draws.ensure_drawn(session, jam, now, actor_user_id=actor.user_id)
        else:
            draws.draw_new_team(session, jam, team, actor_user_id=actor.user_id)
    session.flush()
    return _view(session, jam, team, now)


def invite_member(
    session: Session, actor: Actor, slug: str, *, email: str, clock: Clock = db_clock
) -> TeamView:
    """The captain invites someone by email. The invitation is pending: it grants
    nothing (no roster row, no workspace access) until the invitee accepts.

    The answer is the same whether or not the address has a Studio account, or
    is already in another team of this jam (accepting decides that), so nobody
    can probe who has an account or who competes. Pending invitations count
    against the cap, so accepted ones always fit."""
    jam = access.jam_by_slug(session, slug)
    team = access.my_team(session, actor, jam, Role.VIEWER)
    _require_captain(session, actor, team, "invite")
    now = clock(session)
    _registration_open(jam, now, inviting=True)
    address = validation.email(email)
    # Lock the team row so that two invitations cannot both take the last place.
    team = locks.lock_team(session, team.id)
    roster = _roster_emails(session, team)
    if address in roster:
        raise Conflict(f"{address} is already on your team.", code="already_member")
    pending = set(session.scalars(select(JamInvite.email).where(JamInvite.team_id == team.id)))
    if address in pending:
        raise Conflict(f"{address} is already invited to your team.", code="already_invited")
    if len(roster) + len(pending) >= jam.team_size_max:
        raise Conflict(
            f"The team is full: teams have at most {jam.team_size_max} members, "
            "pending invitations included. Cancel one to invite someone else.",
            code="team_full",
        )
    invite = JamInvite(jam_id=jam.id, team_id=team.id, email=address, invited_by=actor.user_id)
    try:
        with session.begin_nested():
            session.add(invite)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"{address} is already invited to your team.", code="already_invited"
        ) from None
    audit.record(
        session,
        "jam.member_invited",
        actor_user_id=actor.user_id,
        workspace_id=team.workspace_id,
        target=f"jam:{jam.slug}",
        team_id=team.id,
        invite_id=invite.id,
        email=address,
    )
    session.flush()
    return _view(session, jam, team, now)


def invited_message(email: str) -> str:
    """What the captain is told after inviting: the same for every address."""
    address = " ".join(str(email).split()).lower()
    return (
        f"Invitation sent. If {address} has a Studio account, they will see it on this "
        "jam's page when they sign in (and can accept or decline it)."
    )


def my_invites(session: Session, actor: Actor, slug: str) -> list[InviteView]:
    """The signed-in person's pending invitations in this jam."""
    jam = access.jam_by_slug(session, slug)
    return _invites_for(session, jam, actor.user.email)


def accept_invite(
    session: Session, actor: Actor, slug: str, invite_id: int, *, clock: Clock = db_clock
) -> TeamView:
    """Join the team: within the cap, one team per person (the roster's UNIQUE
    decides races); the person's other pending invitations in this jam go."""
    jam = access.jam_by_slug(session, slug)
    invite = _my_invite(session, actor, jam, invite_id)
    now = clock(session)
    _registration_open(jam, now, inviting=True)
    team = locks.lock_team(session, invite.team_id)
    if access.team_of_user(session, jam, actor.user_id) is not None:
        raise Conflict(
            ALREADY_IN_TEAM.format(who="You are") + " Leave your team first to accept.",
            code="already_in_team",
        )
    members = session.scalar(
        select(func.count()).select_from(JamTeamMember).where(JamTeamMember.team_id == team.id)
    )
    if int(members or 0) >= jam.team_size_max:
        raise Conflict(
            f"The team is full: teams have at most {jam.team_size_max} members.", code="team_full"
        )
    try:
        with session.begin_nested():
            session.add(JamTeamMember(jam_id=jam.id, team_id=team.id, user_id=actor.user_id))
            session.flush()
    except IntegrityError:
        raise Conflict(ALREADY_IN_TEAM.format(who="You are"), code="already_in_team") from None
    if not _is_workspace_member(session, team, actor.user_id):
        session.add(
            Membership(workspace_id=team.workspace_id, user_id=actor.user_id, role=Role.EDITOR)
        )
        audit.record(
            session,
            "member.added",
            actor_user_id=actor.user_id,
            workspace_id=team.workspace_id,
            target=f"user:{actor.user_id}",
            role=Role.EDITOR.value,
            via="jam_invite",
            invited_by=invite.invited_by,
        )
    # Accepting one invitation answers the others in this jam.
    dropped = list(
        session.scalars(
            select(JamInvite.id).where(
                JamInvite.jam_id == jam.id,
                JamInvite.email == invite.email,
                JamInvite.id != invite.id,
            )
        )
    )
    session.execute(
        delete(JamInvite).where(JamInvite.jam_id == jam.id, JamInvite.email == invite.email)
    )
    audit.record(
        session,
        "jam.invite_accepted",
        actor_user_id=actor.user_id,
        workspace_id=team.workspace_id,
        target=f"jam:{jam.slug}",
        team_id=team.id,
        invite_id=invite.id,
        other_invites_dropped=dropped,
    )
    session.flush()
    return _view(session, jam, team, now)


def decline_invite(session: Session, actor: Actor, slug: str, invite_id: int) -> None:
    """The invitee says no (any time)."""
    jam = access.jam_by_slug(session, slug)
    invite = _my_invite(session, actor, jam, invite_id)
    team = session.get_one(JamTeam, invite.team_id)
    session.delete(invite)
    audit.record(
        session,
        "jam.invite_declined",
        actor_user_id=actor.user_id,
        workspace_id=team.workspace_id,
        target=f"jam:{jam.slug}",
        team_id=team.id,
        invite_id=invite_id,
    )
    session.flush()


def cancel_invite(
    session: Session, actor: Actor, slug: str, invite_id: int, *, clock: Clock = db_clock
) -> TeamView:
    """The captain takes back a pending invitation of their own team (any time)."""
    jam = access.jam_by_slug(session, slug)
    team = access.my_team(session, actor, jam, Role.VIEWER)
    invite = session.scalar(
        select(JamInvite).where(JamInvite.id == invite_id, JamInvite.team_id == team.id)
    )
    if invite is None:
        raise NotFound("No such invitation for your team.", code="invite_not_found")
    _require_captain(session, actor, team, "cancel invitations")
    session.delete(invite)
    audit.record(
        session,
        "jam.invite_cancelled",
        actor_user_id=actor.user_id,
        workspace_id=team.workspace_id,
        target=f"jam:{jam.slug}",
        team_id=team.id,
        invite_id=invite_id,
        email=invite.email,
    )
    session.flush()
    return _view(session, jam, team, clock(session))


def leave_team(session: Session, actor: Actor, slug: str, *, clock: Clock = db_clock) -> None:
    """Leave my team while registration is open, so nobody is ever held in a team.

    The last member cannot leave (a team is never empty: its workspace, grant and
    entry stay someone's). A captain may leave when others remain: if they were
    the workspace's only owner, the longest-standing remaining member becomes
    owner (captain). Leaving takes the person out of the roster and the team's
    workspace (their API keys for it are revoked)."""
    jam = access.jam_by_slug(session, slug)
    # The roster, not the workspace: someone removed from the team's workspace by
    # hand is still on the roster and must be able to leave it too.
    team = access.team_of_user(session, jam, actor.user_id)
    if team is None:
        raise NotFound(access.NO_TEAM, code="no_team")
    now = clock(session)
    _registration_open(jam, now, inviting=True)
    team = locks.lock_team(session, team.id)
    roster = list(
        session.scalars(
            select(JamTeamMember).where(JamTeamMember.team_id == team.id).order_by(JamTeamMember.id)
        )
    )
    mine = next(m for m in roster if m.user_id == actor.user_id)
    others = [m for m in roster if m.user_id != actor.user_id]
    if not others:
        raise Conflict(
            "You are the team's only member: a team cannot be left empty. Invite someone "
            "first (they become captain when you leave).",
            code="last_member",
        )
    membership = session.scalar(
        select(Membership).where(
            Membership.workspace_id == team.workspace_id, Membership.user_id == actor.user_id
        )
    )
    new_captain: int | None = None
    if membership is not None:
        if membership.role is Role.OWNER:
            owners = session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.workspace_id == team.workspace_id, Membership.role == Role.OWNER)
            )
            if int(owners or 0) <= 1:
                new_captain = _pass_captaincy(session, team, [m.user_id for m in others])
        session.delete(membership)
        session.execute(
            update(ApiKey)
            .where(
                ApiKey.workspace_id == team.workspace_id,
                ApiKey.user_id == actor.user_id,
                ApiKey.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        )
        audit.record(
            session,
            "member.left",
            actor_user_id=actor.user_id,
            workspace_id=team.workspace_id,
            target=f"user:{actor.user_id}",
            via="jam_leave",
        )
    session.delete(mine)
    audit.record(
        session,
        "jam.member_left",
        actor_user_id=actor.user_id,
        workspace_id=team.workspace_id,
        target=f"jam:{jam.slug}",
        team_id=team.id,
        new_captain=new_captain,
    )
    session.flush()


def get_my_team(session: Session, actor: Actor, slug: str, *, clock: Clock = db_clock) -> TeamView:
    jam = access.jam_by_slug(session, slug)
    team = access.my_team(session, actor, jam)
    now = clock(session)
    if rules.elements_revealed(jam, now):
        draws.ensure_drawn(session, jam, now, actor_user_id=actor.user_id)
    return _view(session, jam, team, now)


def list_teams(session: Session, actor: Actor, slug: str) -> list[TeamSummary]:
    """Public roster: team names and sizes (anyone signed in)."""
    jam = access.jam_by_slug(session, slug)
    rows = session.execute(
        select(JamTeam.id, JamTeam.name, func.count(JamTeamMember.id))
        .outerjoin(JamTeamMember, JamTeamMember.team_id == JamTeam.id)
        .where(JamTeam.jam_id == jam.id)
        .group_by(JamTeam.id, JamTeam.name)
        .order_by(func.lower(JamTeam.name), JamTeam.id)
    ).all()
    return [TeamSummary(tid, name, int(n)) for tid, name, n in rows]


# ---------------------------------------------------------------- helpers


def _registration_open(jam: Jam, now: datetime, *, inviting: bool = False) -> None:
    if now < jam.registration_opens_at:
        raise Conflict(
            f"Registration opens {rules.at_jam(jam, jam.registration_opens_at)}.",
            code="registration_closed",
        )
    if now >= jam.registration_closes_at:
        what = "Teams can no longer change" if inviting else "Registration is closed"
        raise Conflict(
            f"{what}: registration closed {rules.at_jam(jam, jam.registration_closes_at)}.",
            code="registration_closed",
        )


def _require_captain(session: Session, actor: Actor, team: JamTeam, what: str) -> None:
    if not _team_role(session, actor, team).at_least(Role.ADMIN):
        raise Forbidden(f"Only the team's captain (workspace owner or admin) can {what}.")


def _roster_emails(session: Session, team: JamTeam) -> set[str]:
    return set(
        session.scalars(
            select(User.email)
            .join(JamTeamMember, JamTeamMember.user_id == User.id)
            .where(JamTeamMember.team_id == team.id)
        )
    )


def _my_invite(session: Session, actor: Actor, jam: Jam, invite_id: int) -> JamInvite:
    """The actor's own invitation, or 404 (someone else's is not there for them)."""
    invite = session.scalar(
        select(JamInvite).where(
            JamInvite.id == invite_id,
            JamInvite.jam_id == jam.id,
            JamInvite.email == actor.user.email.strip().lower(),
        )
    )
    if invite is None:
        raise NotFound("No such invitation.", code="invite_not_found")
    return invite


def _invites_for(session: Session, jam: Jam, email: str) -> list[InviteView]:
    inviter = aliased(User)
    rows = session.execute(
        select(JamInvite, JamTeam.name, inviter.display_name)
        .join(JamTeam, JamTeam.id == JamInvite.team_id)
        .join(inviter, inviter.id == JamInvite.invited_by)
        .where(JamInvite.jam_id == jam.id, JamInvite.email == email.strip().lower())
        .order_by(JamInvite.id)
    ).all()
    return [InviteView(i.id, i.team_id, name, who, i.created_at) for i, name, who in rows]


def _pass_captaincy(session: Session, team: JamTeam, candidates: list[int]) -> int:
    """Make the longest-standing remaining member (roster order) the workspace owner."""
    for user_id in candidates:
        membership = session.scalar(
            select(Membership).where(
                Membership.workspace_id == team.workspace_id, Membership.user_id == user_id
            )
        )
        if membership is None:
            session.add(
                Membership(workspace_id=team.workspace_id, user_id=user_id, role=Role.OWNER)
            )
            old = None
        else:
            old = membership.role.value
            membership.role = Role.OWNER
        audit.record(
            session,
            "member.role_changed",
            actor_user_id=None,
            workspace_id=team.workspace_id,
            target=f"user:{user_id}",
            old=old,
            new=Role.OWNER.value,
            via="jam_captain_left",
        )
        return user_id
    raise AssertionError("a team with other members has a candidate")


def _team_role(session: Session, actor: Actor, team: JamTeam) -> Role:
    return require_role(session, actor, team.workspace_id).role


def _is_workspace_member(session: Session, team: JamTeam, user_id: int) -> bool:
    return (
        session.scalar(
            select(Membership.id).where(
                Membership.workspace_id == team.workspace_id, Membership.user_id == user_id
            )
        )
        is not None
    )


def _view(session: Session, jam: Jam, team: JamTeam, now: datetime) -> TeamView:
    rows = session.execute(
        select(User.id, User.display_name, User.email)
        .join(JamTeamMember, JamTeamMember.user_id == User.id)
        .where(JamTeamMember.team_id == team.id)
        .order_by(JamTeamMember.id)
    ).all()
    workspace = session.get(Workspace, team.workspace_id)
    assert workspace is not None
    revealed = rules.elements_revealed(jam, now)
    return TeamView(
        id=team.id,
        name=team.name,
        workspace_id=team.workspace_id,
        workspace_slug=workspace.slug,
        members=[TeamMemberView(u, n, e) for u, n, e in rows],
        size_max=jam.team_size_max,
        drawn_elements=team.drawn_elements if revealed else None,
        shared_elements=jam.shared_elements if revealed else None,
        invites=[
            PendingInviteView(i.id, i.email, i.created_at)
            for i in session.scalars(
                select(JamInvite).where(JamInvite.team_id == team.id).order_by(JamInvite.id)
            )
        ],
    )
