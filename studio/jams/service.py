"""Jams: create and edit (admins, organizers), list and read (everyone signed in),
and the organizer's dashboard.

Functions are verb_noun(session, actor, ...); they flush, never commit. Every
time-dependent answer reads the database clock through `clock` (see clock.py);
tests pass their own. Sub-resources live next door: teams.py, entries.py,
judging.py, votes.py, results.py.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts import service as accounts
from studio.accounts.access import Actor
from studio.accounts.models import User
from studio.errors import Conflict, InvalidInput, NotFound
from studio.jams import access, draws, rules
from studio.jams.clock import Clock, db_clock
from studio.jams.models import (
    Assignment,
    Entry,
    EntryStatus,
    Jam,
    JamOrganizer,
    JamTeam,
    JamTeamMember,
    Judge,
    Score,
    Vote,
)
from studio.jams.rules import JamRules, Phase


@dataclass(frozen=True)
class JamView:
    """What anyone signed in sees of a jam. `elements`, `shared_elements` and
    `draw_seed` are None before kickoff, for everyone (organizers edit the
    element pool through get_jam_setup)."""

    id: int
    slug: str
    title: str
    brief: str
    timezone: str
    schedule: dict[str, datetime]
    grace_seconds: int
    phase: Phase
    server_now: datetime  # the database clock: countdowns count from this
    registration_open: bool
    team_size_max: int
    film_min_seconds: float
    film_max_seconds: float
    film_max_bytes: int
    rubric: list[dict[str, Any]]
    gpu_seconds_grant: int
    audience_vote: bool
    film_needs_sound: bool
    judges_per_entry: int
    normalize_scores: bool
    elements: list[dict[str, Any]] | None
    shared_elements: dict[str, str] | None
    draw_seed: int | None
    results_published: bool
    # The viewer's own place in the jam.
    is_organizer: bool
    is_judge: bool
    my_team_id: int | None


def schedule_of(jam: Jam) -> dict[str, datetime]:
    return {
        "registration_opens_at": jam.registration_opens_at,
        "registration_closes_at": jam.registration_closes_at,
        "kickoff_at": jam.kickoff_at,
        "deadline_at": jam.deadline_at,
        "grace_ends_at": rules.grace_ends_at(jam),
        "judging_closes_at": jam.judging_closes_at,
        "results_at": jam.results_at,
    }


def view_of(session: Session, actor: Actor, jam: Jam, now: datetime) -> JamView:
    revealed = rules.elements_revealed(jam, now)
    if revealed:
        draws.ensure_drawn(session, jam, now, actor_user_id=actor.user_id)
    team = access.team_of_user(session, jam, actor.user_id)
    return JamView(
        id=jam.id,
        slug=jam.slug,
        title=jam.title,
        brief=jam.brief,
        timezone=jam.timezone,
        schedule=schedule_of(jam),
        grace_seconds=jam.grace_seconds,
        phase=rules.phase_at(jam, now),
        server_now=now,
        registration_open=rules.registration_open(jam, now),
        team_size_max=jam.team_size_max,
        film_min_seconds=jam.film_min_seconds,
        film_max_seconds=jam.film_max_seconds,
        film_max_bytes=jam.film_max_bytes,
        rubric=jam.rubric,
        gpu_seconds_grant=jam.gpu_seconds_grant,
        audience_vote=jam.audience_vote,
        film_needs_sound=jam.film_needs_sound,
        judges_per_entry=jam.judges_per_entry,
        normalize_scores=jam.normalize_scores,
        elements=jam.elements if revealed else None,
        shared_elements=jam.shared_elements if revealed else None,
        draw_seed=jam.draw_seed if revealed else None,
        results_published=jam.results_published_at is not None,
        is_organizer=access.is_organizer(session, actor, jam),
        is_judge=access.judge_of(session, actor, jam) is not None,
        my_team_id=team.id if team else None,
    )


# ---------------------------------------------------------------- read


def list_jams(session: Session, actor: Actor, *, clock: Clock = db_clock) -> list[JamView]:
    now = clock(session)
    jams = session.scalars(select(Jam).order_by(Jam.kickoff_at.desc(), Jam.id.desc()))
    return [view_of(session, actor, jam, now) for jam in jams]


def count_jams(session: Session) -> int:
    """How many jams there are (every jam is public): one cheap query, so a page's
    timer can tell whether its list needs listing again."""
    return int(session.scalar(select(func.count()).select_from(Jam)) or 0)


def get_jam(session: Session, actor: Actor, slug: str, *, clock: Clock = db_clock) -> JamView:
    """The jam page: rules, schedule, phase and the server's clock for the countdown."""
    jam = access.jam_by_slug(session, slug)
    return view_of(session, actor, jam, clock(session))


def get_jam_setup(session: Session, actor: Actor, slug: str) -> Jam:
    """The full rules, element pool included, for the organizers' editor."""
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    return jam


# ---------------------------------------------------------------- write


def create_jam(session: Session, actor: Actor, values: JamRules) -> Jam:
    """Studio admins only. Missing rules get the defaults (48 h, 45/30/25 rubric...)."""
    access.require_admin(actor)
    jam = Jam(created_by=actor.user_id, draw_seed=secrets.randbits(62))
    rules.apply_rules(jam, values, creating=True)
    if session.scalar(select(Jam.id).where(Jam.slug == jam.slug)) is not None:
        raise Conflict(f"The slug '{jam.slug}' is taken.", code="slug_taken")
    session.add(jam)
    session.flush()
    audit.record(session, "jam.created", actor_user_id=actor.user_id, target=f"jam:{jam.slug}")
    return jam


def update_jam(
    session: Session, actor: Actor, slug: str, values: JamRules, *, clock: Clock = db_clock
) -> Jam:
    """Organizers edit rules and schedule. The element pool is frozen from kickoff
    (teams have seen it) and the rubric from the first score."""
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    now = clock(session)
    given = values.given()
    if "slug" in given and given["slug"] != jam.slug:
        raise InvalidInput("A jam's slug cannot change (links and exports use it).")
    if "elements" in given and now >= jam.kickoff_at:
        raise Conflict("The elements are frozen: the jam has kicked off.", code="elements_locked")
    if "rubric" in given and _has_scores(session, jam):
        raise Conflict("The rubric is frozen: judges have scored.", code="rubric_locked")
    if jam.results_published_at is not None:
        raise Conflict("Results are published; the jam can no longer change.", code="published")
    rules.apply_rules(jam, values, creating=False)
    audit.record(
        session,
        "jam.updated",
        actor_user_id=actor.user_id,
        target=f"jam:{jam.slug}",
        fields=sorted(given),
    )
    session.flush()
    return jam


def _has_scores(session: Session, jam: Jam) -> bool:
    return (
        session.scalar(
            select(Score.id)
            .join(Assignment, Assignment.id == Score.assignment_id)
            .where(Assignment.jam_id == jam.id)
            .limit(1)
        )
        is not None
    )


def draw_elements(session: Session, actor: Actor, slug: str, *, clock: Clock = db_clock) -> Jam:
    """Organizers may force the kickoff draw (it also happens on the first read)."""
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    now = clock(session)
    if now < jam.kickoff_at:
        raise Conflict("The draw happens at kickoff, not before.", code="before_kickoff")
    draws.ensure_drawn(session, jam, now, actor_user_id=actor.user_id)
    return jam


def add_organizer(session: Session, actor: Actor, slug: str, *, email: str) -> int:
    """Studio admins appoint organizers. Returns the user id."""
    access.require_admin(actor)
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)  # an admin's API key: its own jams only
    user = accounts.get_user_by_email(session, email)
    if user is None:
        raise NotFound(f"No Studio account uses {email.strip()}.", code="user_not_found")
    exists = session.scalar(
        select(JamOrganizer.id).where(
            JamOrganizer.jam_id == jam.id, JamOrganizer.user_id == user.id
        )
    )
    if exists is None:
        session.add(JamOrganizer(jam_id=jam.id, user_id=user.id))
        audit.record(
            session,
            "jam.organizer_added",
            actor_user_id=actor.user_id,
            target=f"jam:{jam.slug}",
            user_id=user.id,
        )
        session.flush()
    return user.id


# ---------------------------------------------------------------- dashboard


@dataclass(frozen=True)
class TeamRow:
    team_id: int
    name: str
    members: int
    entry_status: str | None  # None: no entry yet
    entry_title: str | None


@dataclass(frozen=True)
class JudgeProgress:
    judge_id: int
    user_id: int
    display_name: str
    assigned: int
    submitted: int


@dataclass(frozen=True)
class Dashboard:
    jam: JamView
    teams: list[TeamRow]
    entries_by_state: dict[str, int]
    judges: list[JudgeProgress]
    assignments: int
    assignments_submitted: int
    votes_cast: int  # how many, never for whom, until results are published


def organizer_dashboard(
    session: Session, actor: Actor, slug: str, *, clock: Clock = db_clock
) -> Dashboard:
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    view = view_of(session, actor, jam, clock(session))
    members = (
        select(JamTeamMember.team_id, func.count().label("n"))
        .where(JamTeamMember.jam_id == jam.id)
        .group_by(JamTeamMember.team_id)
        .subquery()
    )
    rows = session.execute(
        select(JamTeam.id, JamTeam.name, members.c.n, Entry.status, Entry.title)
        .outerjoin(members, members.c.team_id == JamTeam.id)
        .outerjoin(Entry, Entry.team_id == JamTeam.id)
        .where(JamTeam.jam_id == jam.id)
        .order_by(func.lower(JamTeam.name))
    ).all()
    teams = [
        TeamRow(tid, name, int(n or 0), status.value if status else None, title)
        for tid, name, n, status, title in rows
    ]
    by_state = {s.value: 0 for s in EntryStatus}
    for team in teams:
        if team.entry_status:
            by_state[team.entry_status] += 1
    judge_rows = session.execute(
        select(
            Judge.id,
            Judge.user_id,
            User.display_name,
            func.count(Assignment.id),
            func.count(Assignment.submitted_at),
        )
        .join(User, User.id == Judge.user_id)
        .outerjoin(Assignment, Assignment.judge_id == Judge.id)
        .where(Judge.jam_id == jam.id)
        .group_by(Judge.id, Judge.user_id, User.display_name)
        .order_by(User.display_name)
    ).all()
    judges = [JudgeProgress(j, u, n, int(a), int(s)) for j, u, n, a, s in judge_rows]
    votes = session.scalar(select(func.count()).select_from(Vote).where(Vote.jam_id == jam.id))
    return Dashboard(
        jam=view,
        teams=teams,
        entries_by_state=by_state,
        judges=judges,
        assignments=sum(j.assigned for j in judges),
        assignments_submitted=sum(j.submitted for j in judges),
        votes_cast=int(votes or 0),
    )
