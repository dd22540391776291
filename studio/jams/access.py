"""Who may do what in a jam: the one place jam roles are checked.

Jams themselves are public to every signed-in person (the list, the brief,
the schedule). Roles on top of that:
- studio admins (`users.is_admin`) create jams and appoint organizers;
- organizers (admins count as organizers of every jam) run one jam;
- an API key acts inside one workspace, and jams belong to none: a key
  organizes only the jams its person created or was appointed to (an admin's
  key is not the organizer of every jam), and appoints organizers only there;
- team members work on their team's entry, inside the team's workspace, so
  the workspace check (`require_role`) also applies, API-key scope included;
- judges read and score the entries assigned to them.
Missing things and other teams' things are 404; a known jam action without
the role for it is 403.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.accounts.access import Actor, require_role
from studio.accounts.models import Membership, Role
from studio.errors import Forbidden, NotFound
from studio.jams.models import Jam, JamOrganizer, JamTeam, JamTeamMember, Judge

JAM_NOT_FOUND = "No such jam."
NO_TEAM = "You are not in a team of this jam. Register a team or ask a captain to invite you."


def jam_by_slug(session: Session, slug: str) -> Jam:
    jam = session.scalar(select(Jam).where(Jam.slug == slug.strip().lower()))
    if jam is None:
        raise NotFound(JAM_NOT_FOUND, code="jam_not_found")
    return jam


def require_admin(actor: Actor) -> None:
    if not actor.user.is_admin:
        raise Forbidden("Only studio admins can do this.", code="admin_required")


def is_organizer(session: Session, actor: Actor, jam: Jam) -> bool:
    if actor.user.is_admin and not actor.via_api_key:
        return True
    if actor.user.is_admin and jam.created_by == actor.user_id:
        return True
    return (
        session.scalar(
            select(JamOrganizer.id).where(
                JamOrganizer.jam_id == jam.id, JamOrganizer.user_id == actor.user_id
            )
        )
        is not None
    )


def require_organizer(session: Session, actor: Actor, jam: Jam) -> None:
    if not is_organizer(session, actor, jam):
        raise Forbidden("Only this jam's organizers can do this.", code="organizer_required")


def team_of_user(session: Session, jam: Jam, user_id: int) -> JamTeam | None:
    return session.scalar(
        select(JamTeam)
        .join(JamTeamMember, JamTeamMember.team_id == JamTeam.id)
        .where(JamTeamMember.jam_id == jam.id, JamTeamMember.user_id == user_id)
    )


def my_team(session: Session, actor: Actor, jam: Jam, minimum: Role = Role.VIEWER) -> JamTeam:
    """The actor's team in this jam, checked against its workspace too (roles, key scope)."""
    team = team_of_user(session, jam, actor.user_id)
    if team is None:
        raise NotFound(NO_TEAM, code="no_team")
    require_role(session, actor, team.workspace_id, minimum)
    return team


def team_member_ids(session: Session, team: JamTeam) -> set[int]:
    """Everyone on a team: its jam roster and anyone in its workspace (added by hand)."""
    roster = set(
        session.scalars(select(JamTeamMember.user_id).where(JamTeamMember.team_id == team.id))
    )
    workspace = set(
        session.scalars(
            select(Membership.user_id).where(Membership.workspace_id == team.workspace_id)
        )
    )
    return roster | workspace


def judge_of(session: Session, actor: Actor, jam: Jam) -> Judge | None:
    return session.scalar(
        select(Judge).where(Judge.jam_id == jam.id, Judge.user_id == actor.user_id)
    )


def require_judge(session: Session, actor: Actor, jam: Jam) -> Judge:
    judge = judge_of(session, actor, jam)
    if judge is None:
        raise Forbidden("You are not a judge of this jam.", code="judge_required")
    return judge
