"""Teams: register while registration is open, invite members up to the cap.

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

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts import service as accounts
from studio.accounts.access import Actor, require_role
from studio.accounts.models import Membership, Role, User, Workspace
from studio.errors import Conflict, Forbidden, InvalidInput, NotFound
from studio.jams import access, draws, rules
from studio.jams.clock import Clock, db_clock
from studio.jams.models import Jam, JamTeam, JamTeamMember

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
    """A team admin adds a person (who has a Studio account) to the team and its workspace."""
    jam = access.jam_by_slug(session, slug)
    team = access.my_team(session, actor, jam, Role.VIEWER)
    mine = _team_role(session, actor, team)
    if not mine.at_least(Role.ADMIN):
        raise Forbidden("Only the team's captain (workspace owner or admin) can invite.")
    now = clock(session)
    _registration_open(jam, now, inviting=True)
    user = accounts.get_user_by_email(session, email)
    if user is None:
        raise NotFound(
            f"No Studio account uses {email.strip()}. Ask them to sign in once, then invite them.",
            code="user_not_found",
        )
    # Lock the team row so that two invitations cannot both take the last place.
    session.scalar(select(JamTeam).where(JamTeam.id == team.id).with_for_update())
    count = session.scalar(
        select(func.count()).select_from(JamTeamMember).where(JamTeamMember.team_id == team.id)
    )
    if int(count or 0) >= jam.team_size_max:
        raise Conflict(
            f"The team is full: teams have at most {jam.team_size_max} members.", code="team_full"
        )
    if access.team_of_user(session, jam, user.id) is not None:
        raise Conflict(ALREADY_IN_TEAM.format(who=f"{user.email} is"), code="already_in_team")
    try:
        with session.begin_nested():
            session.add(JamTeamMember(jam_id=jam.id, team_id=team.id, user_id=user.id))
            session.flush()
    except IntegrityError:
        raise Conflict(
            ALREADY_IN_TEAM.format(who=f"{user.email} is"), code="already_in_team"
        ) from None
    if not _is_workspace_member(session, team, user.id):
        accounts.add_member(
            session,
            dataclasses.replace(actor, workspace_scope=None, api_key_id=None),
            team.workspace_id,
            email=user.email,
            role=Role.EDITOR,
        )
    audit.record(
        session,
        "jam.member_invited",
        actor_user_id=actor.user_id,
        workspace_id=team.workspace_id,
        target=f"jam:{jam.slug}",
        team_id=team.id,
        user_id=user.id,
    )
    session.flush()
    return _view(session, jam, team, now)


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
            f"Registration opens at {jam.registration_opens_at.isoformat()}.",
            code="registration_closed",
        )
    if now >= jam.registration_closes_at:
        what = "Teams can no longer change" if inviting else "Registration is closed"
        raise Conflict(
            f"{what}: registration closed at {jam.registration_closes_at.isoformat()}.",
            code="registration_closed",
        )


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
    )
