"""Judging: judges and conflicts (organizers), balanced assignment, and the
judge console (my entries, rubric scores, private notes, save and submit).

Assignment gives each on-time entry K judges (the jam's judges_per_entry):
entries with the fewest eligible judges are served first, each takes the
least-loaded eligible judges, ties broken by a hash of the jam's seed (so a
rerun gives the same answer). With no exclusions this keeps every judge's
load within one of every other's; exclusions (team members, conflicts) can
only force a deviation where there is no other choice. Never eligible: anyone
on the team (its roster or its workspace) and any judge with a recorded
conflict. Reruns only top up; a conflict recorded later removes that
judge's assignment (and any scores in it).

A judge sees and scores only their assignments, and only between the end of
the grace period and the close of judging.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts import service as accounts
from studio.accounts.access import Actor
from studio.accounts.models import Membership, User
from studio.errors import Conflict, InvalidInput, NotFound
from studio.jams import access, entries, locks, rules
from studio.jams.clock import Clock, db_clock
from studio.jams.models import (
    Assignment,
    Entry,
    EntryStatus,
    Jam,
    JamTeam,
    JamTeamMember,
    Judge,
    JudgeConflict,
    Score,
)

NOT_ASSIGNED = "No such entry among your assignments."
NOTES_MAX = 10_000


@dataclass(frozen=True)
class JudgeView:
    judge_id: int
    user_id: int
    display_name: str
    email: str
    conflicts: list[int]  # team ids


@dataclass(frozen=True)
class AssignmentReport:
    created: int
    loads: dict[int, int]  # judge id -> on-time entries assigned
    short: dict[int, int]  # entry id -> judges missing (not enough eligible judges)


@dataclass(frozen=True)
class AssignmentView:
    """One entry on a judge's console."""

    assignment_id: int
    entry: entries.EntryView
    rubric: list[dict[str, Any]]
    scores: dict[str, float]
    notes: str  # private: only this judge reads it
    saved_at: datetime | None
    submitted_at: datetime | None
    editable: bool  # judging is open
    judging_closes_at: datetime


# ---------------------------------------------------------------- organizers


def add_judge(session: Session, actor: Actor, slug: str, *, email: str) -> JudgeView:
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    user = accounts.get_user_by_email(session, email)
    if user is None:
        raise NotFound(f"No Studio account uses {email.strip()}.", code="user_not_found")
    judge = session.scalar(select(Judge).where(Judge.jam_id == jam.id, Judge.user_id == user.id))
    if judge is None:
        judge = Judge(jam_id=jam.id, user_id=user.id)
        session.add(judge)
        session.flush()
        audit.record(
            session,
            "jam.judge_added",
            actor_user_id=actor.user_id,
            target=f"jam:{jam.slug}",
            user_id=user.id,
        )
    return _judge_view(session, judge, user)


def list_judges(session: Session, actor: Actor, slug: str) -> list[JudgeView]:
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    rows = session.execute(
        select(Judge, User).join(User, User.id == Judge.user_id).where(Judge.jam_id == jam.id)
    ).tuples()
    return [_judge_view(session, j, u) for j, u in sorted(rows, key=lambda r: r[1].display_name)]


def add_conflict(
    session: Session, actor: Actor, slug: str, *, judge_id: int, team_id: int, reason: str = ""
) -> JudgeView:
    """Record that a judge must not judge a team; drops any assignment between them."""
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    judge = session.get(Judge, judge_id)
    team = session.get(JamTeam, team_id)
    if judge is None or judge.jam_id != jam.id:
        raise NotFound("No such judge in this jam.", code="judge_not_found")
    if team is None or team.jam_id != jam.id:
        raise NotFound("No such team in this jam.", code="team_not_found")
    exists = session.scalar(
        select(JudgeConflict.id).where(
            JudgeConflict.judge_id == judge.id, JudgeConflict.team_id == team.id
        )
    )
    if exists is None:
        session.add(
            JudgeConflict(jam_id=jam.id, judge_id=judge.id, team_id=team.id, reason=reason[:300])
        )
        entry_ids = select(Entry.id).where(Entry.team_id == team.id)
        dropped = session.execute(
            delete(Assignment).where(
                Assignment.judge_id == judge.id, Assignment.entry_id.in_(entry_ids)
            )
        ).rowcount  # type: ignore[attr-defined]
        audit.record(
            session,
            "jam.conflict_recorded",
            actor_user_id=actor.user_id,
            target=f"jam:{jam.slug}",
            judge_id=judge.id,
            team_id=team.id,
            assignments_dropped=int(dropped or 0),
        )
        session.flush()
    user = session.get(User, judge.user_id)
    assert user is not None
    return _judge_view(session, judge, user)


def assign_judges(
    session: Session, actor: Actor, slug: str, *, clock: Clock = db_clock
) -> AssignmentReport:
    """Top up every on-time entry to K judges, balanced; safe to rerun."""
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    # One assigner at a time per jam: a second one waits, then sees the first's rows.
    jam = locks.lock_jam(session, jam.id)
    now = clock(session)
    if now <= rules.grace_ends_at(jam):
        raise Conflict(
            "Entries are final only once late entries close, "
            f"{rules.at_jam(jam, rules.grace_ends_at(jam))}: assign judges then.",
            code="too_early",
        )
    if now >= jam.judging_closes_at:
        raise Conflict("Judging has closed.", code="judging_closed")
    judges = list(session.scalars(select(Judge).where(Judge.jam_id == jam.id).order_by(Judge.id)))
    on_time = list(
        session.execute(
            select(Entry.id, Entry.team_id)
            .where(Entry.jam_id == jam.id, Entry.status == EntryStatus.SUBMITTED)
            .order_by(Entry.id)
        ).tuples()
    )
    excluded = _excluded(session, jam)
    current: dict[int, set[int]] = defaultdict(set)  # entry id -> judge ids
    for entry_id, judge_id in session.execute(
        select(Assignment.entry_id, Assignment.judge_id).where(Assignment.jam_id == jam.id)
    ).tuples():
        current[entry_id].add(judge_id)
    valid_entries = {e for e, _ in on_time}
    loads = {j.id: 0 for j in judges}
    for entry_id, judge_ids in current.items():
        if entry_id in valid_entries:
            for judge_id in judge_ids:
                loads[judge_id] = loads.get(judge_id, 0) + 1
    user_of = {j.id: j.user_id for j in judges}

    def eligible(team_id: int, entry_id: int) -> list[int]:
        bad_users, bad_judges = excluded.get(team_id, (set(), set()))
        return [
            j.id
            for j in judges
            if j.user_id not in bad_users
            and j.id not in bad_judges
            and j.id not in current[entry_id]
        ]

    k = jam.judges_per_entry
    pool = {e: eligible(t, e) for e, t in on_time}
    order = sorted(on_time, key=lambda et: (len(pool[et[0]]), et[0]))
    created = 0
    short: dict[int, int] = {}
    for entry_id, _team_id in order:
        need = k - len(current[entry_id])
        if need <= 0:
            continue
        ranked = sorted(pool[entry_id], key=lambda j: (loads[j], _tiebreak(jam, j, entry_id)))
        chosen = ranked[:need]
        for judge_id in chosen:
            session.add(Assignment(jam_id=jam.id, entry_id=entry_id, judge_id=judge_id))
            loads[judge_id] += 1
            current[entry_id].add(judge_id)
            created += 1
        if len(chosen) < need:
            short[entry_id] = need - len(chosen)
    session.flush()
    audit.record(
        session,
        "jam.judges_assigned",
        actor_user_id=actor.user_id,
        target=f"jam:{jam.slug}",
        created=created,
        short=len(short),
        judges=len(user_of),
    )
    return AssignmentReport(created, loads, short)


def _tiebreak(jam: Jam, judge_id: int, entry_id: int) -> bytes:
    return hashlib.sha256(f"{jam.draw_seed}:assign:{judge_id}:{entry_id}".encode()).digest()


def _excluded(session: Session, jam: Jam) -> dict[int, tuple[set[int], set[int]]]:
    """team id -> (user ids on the team, judge ids in conflict with it)."""
    out: dict[int, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    for team_id, user_id in session.execute(
        select(JamTeamMember.team_id, JamTeamMember.user_id).where(JamTeamMember.jam_id == jam.id)
    ).tuples():
        out[team_id][0].add(user_id)
    for team_id, user_id in session.execute(
        select(JamTeam.id, Membership.user_id)
        .join(Membership, Membership.workspace_id == JamTeam.workspace_id)
        .where(JamTeam.jam_id == jam.id)
    ).tuples():
        out[team_id][0].add(user_id)
    for team_id, judge_id in session.execute(
        select(JudgeConflict.team_id, JudgeConflict.judge_id).where(JudgeConflict.jam_id == jam.id)
    ).tuples():
        out[team_id][1].add(judge_id)
    return out


# ---------------------------------------------------------------- judge console


def list_my_assignments(
    session: Session, actor: Actor, slug: str, *, clock: Clock = db_clock
) -> list[AssignmentView]:
    jam = access.jam_by_slug(session, slug)
    judge = access.require_judge(session, actor, jam)
    now = clock(session)
    rows = session.scalars(
        select(Assignment).where(Assignment.judge_id == judge.id).order_by(Assignment.entry_id)
    )
    return [_view(session, jam, a, now) for a in rows]


def get_assigned_entry(
    session: Session, actor: Actor, slug: str, entry_id: int, *, clock: Clock = db_clock
) -> AssignmentView:
    jam = access.jam_by_slug(session, slug)
    assignment = _my_assignment(session, actor, jam, entry_id)
    return _view(session, jam, assignment, clock(session))


def save_scores(
    session: Session,
    actor: Actor,
    slug: str,
    entry_id: int,
    *,
    scores: dict[str, float],
    notes: str | None = None,
    submit: bool = False,
    clock: Clock = db_clock,
) -> AssignmentView:
    """Save (a draft, partial scores allowed) or submit (every criterion scored).
    Scores count in the results only once submitted."""
    jam = access.jam_by_slug(session, slug)
    assignment = _my_assignment(session, actor, jam, entry_id)
    # Two saves of one sheet (two tabs) take turns: the second sees the first's scores.
    assignment = locks.lock_assignment(session, assignment.id)
    now = clock(session)
    _judging_open(jam, now)
    entry = session.get(Entry, entry_id)
    assert entry is not None
    if entry.status is not EntryStatus.SUBMITTED:
        raise Conflict(
            f"This entry is {entry.status.value}; it is no longer judged.",
            code="not_in_competition",
        )
    checked = _check_scores(jam, scores)
    if notes is not None:
        if len(notes) > NOTES_MAX:
            raise InvalidInput(
                f"Notes are limited to {NOTES_MAX} characters.", code="text_too_long"
            )
        assignment.notes = notes
    existing = {
        s.criterion: s
        for s in session.scalars(select(Score).where(Score.assignment_id == assignment.id))
    }
    for key, value in checked.items():
        if key in existing:
            existing[key].value = value
        else:
            session.add(Score(assignment_id=assignment.id, criterion=key, value=value))
    if submit:
        missing = [
            c["key"] for c in jam.rubric if c["key"] not in existing and c["key"] not in checked
        ]
        if missing:
            raise InvalidInput(
                f"Score every criterion before submitting (missing: {', '.join(missing)}).",
                code="scores_incomplete",
            )
    assignment.saved_at = now
    assignment.submitted_at = now if submit else None
    session.flush()
    audit.record(
        session,
        "jam.scores_submitted" if submit else "jam.scores_saved",
        actor_user_id=actor.user_id,
        target=f"entry:{entry_id}",
        assignment_id=assignment.id,
        scores=checked,
    )
    return _view(session, jam, assignment, now)


# ---------------------------------------------------------------- helpers


def _judging_open(jam: Jam, now: datetime) -> None:
    if now <= rules.grace_ends_at(jam):
        raise Conflict(
            "Judging opens when late entries close, "
            f"{rules.at_jam(jam, rules.grace_ends_at(jam))}.",
            code="too_early",
        )
    if now >= jam.judging_closes_at or jam.results_published_at is not None:
        raise Conflict(
            f"Judging closed {rules.at_jam(jam, jam.judging_closes_at)}.", code="judging_closed"
        )


def _check_scores(jam: Jam, scores: dict[str, Any]) -> dict[str, float]:
    criteria = {c["key"]: c for c in jam.rubric}
    unknown = set(scores) - set(criteria)
    if unknown:
        raise InvalidInput(
            f"Unknown criteria: {', '.join(sorted(unknown))} (this jam scores "
            f"{', '.join(criteria)}).",
            code="invalid_scores",
        )
    out: dict[str, float] = {}
    for key, value in scores.items():
        c = criteria[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"'{key}' must be a number.", code="invalid_scores")
        if not c["min"] <= value <= c["max"]:
            raise InvalidInput(
                f"'{key}' must be from {c['min']} to {c['max']} (got {value}).",
                code="invalid_scores",
            )
        out[key] = float(value)
    return out


def _my_assignment(session: Session, actor: Actor, jam: Jam, entry_id: int) -> Assignment:
    judge = access.require_judge(session, actor, jam)
    assignment = session.scalar(
        select(Assignment).where(Assignment.judge_id == judge.id, Assignment.entry_id == entry_id)
    )
    if assignment is None:
        raise NotFound(NOT_ASSIGNED, code="entry_not_found")
    # Belt and braces: a conflict or team membership added later also hides it.
    entry = session.get(Entry, entry_id)
    assert entry is not None
    bad_users, bad_judges = _excluded(session, jam).get(entry.team_id, (set(), set()))
    if actor.user_id in bad_users or judge.id in bad_judges:
        raise NotFound(NOT_ASSIGNED, code="entry_not_found")
    return assignment


def _view(session: Session, jam: Jam, assignment: Assignment, now: datetime) -> AssignmentView:
    entry = session.get(Entry, assignment.entry_id)
    assert entry is not None
    scores = {
        s.criterion: s.value
        for s in session.scalars(select(Score).where(Score.assignment_id == assignment.id))
    }
    is_open = rules.grace_ends_at(jam) < now < jam.judging_closes_at
    return AssignmentView(
        assignment_id=assignment.id,
        entry=entries.view_of(session, jam, entry, now),
        rubric=jam.rubric,
        scores=scores,
        notes=assignment.notes,
        saved_at=assignment.saved_at,
        submitted_at=assignment.submitted_at,
        editable=is_open and jam.results_published_at is None,
        judging_closes_at=jam.judging_closes_at,
    )


def _judge_view(session: Session, judge: Judge, user: User) -> JudgeView:
    conflicts = list(
        session.scalars(select(JudgeConflict.team_id).where(JudgeConflict.judge_id == judge.id))
    )
    return JudgeView(judge.id, user.id, user.display_name, user.email, conflicts)
