"""What an organizer can do now, and where a person can open an entry.

`organizer_actions` answers, before anyone clicks, whether the kickoff draw,
judge assignment and publication apply at this moment, and if not, why and
until when. It mirrors the checks of draw_elements, assign_judges and
publish_results, which keep the last word (the clock moves between the page
and the click).

`entry_place` decides which view of a jam shows an entry to this person (a
link to an entry opens the judge console for its judge, the Submit tab for
its team, the gallery once results are out, the dashboard for organizers).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.errors import NotFound
from studio.jams import access, rules
from studio.jams.clock import Clock, db_clock
from studio.jams.models import Assignment, Entry, EntryStatus, Jam, Judge

DRAW, ASSIGN, PUBLISH = "draw", "assign", "publish"


@dataclass(frozen=True)
class OrganizerAction:
    key: str  # draw | assign | publish
    available: bool
    reason: str  # what it does (available) or why not yet / no longer
    at: datetime | None = None  # the moment the reason speaks of ("... at <at>")


def organizer_actions(
    session: Session, actor: Actor, slug: str, *, clock: Clock = db_clock
) -> list[OrganizerAction]:
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    now = clock(session)
    return [_draw(jam, now), _assign(session, jam, now), _publish(jam, now)]


def _draw(jam: Jam, now: datetime) -> OrganizerAction:
    if jam.drawn_at is not None:
        return OrganizerAction(DRAW, False, "The elements were drawn", jam.drawn_at)
    if now < jam.kickoff_at:
        return OrganizerAction(DRAW, False, "The draw runs by itself at kickoff", jam.kickoff_at)
    return OrganizerAction(
        DRAW, True, "Kickoff has passed: draw the required elements for every team now."
    )


def _assign(session: Session, jam: Jam, now: datetime) -> OrganizerAction:
    if jam.results_published_at is not None:
        return OrganizerAction(ASSIGN, False, "Results are published", jam.results_published_at)
    grace_end = rules.grace_ends_at(jam)
    if now <= grace_end:
        return OrganizerAction(
            ASSIGN, False, "Judges are assigned once late entries close", grace_end
        )
    if now >= jam.judging_closes_at:
        return OrganizerAction(ASSIGN, False, "Judging closed", jam.judging_closes_at)
    judges = session.scalar(select(func.count()).select_from(Judge).where(Judge.jam_id == jam.id))
    if not judges:
        return OrganizerAction(ASSIGN, False, "Appoint judges first (Judges and conflicts, below).")
    on_time = int(
        session.scalar(
            select(func.count())
            .select_from(Entry)
            .where(Entry.jam_id == jam.id, Entry.status == EntryStatus.SUBMITTED)
        )
        or 0
    )
    if not on_time:
        return OrganizerAction(ASSIGN, False, "No on-time entry to judge.")
    assigned = int(
        session.scalar(
            select(func.count()).select_from(Assignment).where(Assignment.jam_id == jam.id)
        )
        or 0
    )
    wanted = on_time * jam.judges_per_entry
    if assigned >= wanted:
        what = f"Every on-time entry has its {jam.judges_per_entry} judges; run again to top up."
    else:
        what = (
            f"Give each of the {on_time} on-time entries {jam.judges_per_entry} judges "
            f"({assigned} of {wanted} assignments made)."
        )
    return OrganizerAction(ASSIGN, True, what)


def _publish(jam: Jam, now: datetime) -> OrganizerAction:
    if jam.results_published_at is not None:
        return OrganizerAction(PUBLISH, False, "Results were published", jam.results_published_at)
    if now < jam.judging_closes_at:
        return OrganizerAction(
            PUBLISH, False, "Results can be published once judging closes", jam.judging_closes_at
        )
    return OrganizerAction(
        PUBLISH, True, "Judging has closed: publish the ranking, awards and gallery."
    )


# ---------------------------------------------------------------- links to an entry


class EntryPlace(enum.StrEnum):
    JUDGE = "judge"  # assigned to me: the judge console
    TEAM = "team"  # my team's entry: the Submit tab
    GALLERY = "gallery"  # results are out and the film is in the gallery
    ORGANIZER = "organizer"  # I run the jam: the dashboard


GALLERY_STATES = (EntryStatus.SUBMITTED, EntryStatus.LATE)


def entry_place(session: Session, actor: Actor, slug: str, entry_id: int) -> EntryPlace:
    """Where this person may open the entry; NotFound (the same for every reason)
    when they may not see it at all."""
    jam = access.jam_by_slug(session, slug)
    entry = session.get(Entry, entry_id)
    if entry is None or entry.jam_id != jam.id:
        raise NotFound("No such entry in this jam.", code="entry_not_found")
    judge = access.judge_of(session, actor, jam)
    if judge is not None and session.scalar(
        select(Assignment.id).where(
            Assignment.judge_id == judge.id, Assignment.entry_id == entry.id
        )
    ):
        return EntryPlace.JUDGE
    team = access.team_of_user(session, jam, actor.user_id)
    if team is not None and team.id == entry.team_id:
        return EntryPlace.TEAM
    if jam.results_published_at is not None and entry.status in GALLERY_STATES:
        return EntryPlace.GALLERY
    if entry.status is not EntryStatus.DRAFT and access.is_organizer(session, actor, jam):
        return EntryPlace.ORGANIZER
    raise NotFound("No such entry in this jam.", code="entry_not_found")


def jam_slug_for(session: Session, ref: str) -> str:
    """A jam's address may name it by slug (what the pages write) or by id."""
    ref = (ref or "").strip().lower()
    try:
        return access.jam_by_slug(session, ref).slug
    except NotFound:
        if not ref.isdigit():
            raise
    jam = session.get(Jam, int(ref))
    if jam is None:
        raise NotFound(access.JAM_NOT_FOUND, code="jam_not_found")
    return jam.slug
