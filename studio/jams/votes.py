"""The audience vote: one per signed-in person per jam, never for their own team,
open from the end of the grace period until judging closes, counted only in
the published results (until then nobody, organizers included, sees tallies).

Late entries are on the ballot: the audience award is the one they can win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts.access import Actor
from studio.errors import Conflict, NotFound
from studio.jams import access, rules
from studio.jams.clock import Clock, db_clock
from studio.jams.models import Entry, EntryStatus, Jam, JamTeam, Vote

ON_BALLOT = (EntryStatus.SUBMITTED, EntryStatus.LATE)


@dataclass(frozen=True)
class BallotEntry:
    entry_id: int
    team_name: str
    title: str
    logline: str
    poster_asset_id: int | None  # the team's poster, else a frame of the film
    film_asset_id: int | None
    own_team: bool  # shown, but not votable


@dataclass(frozen=True)
class Ballot:
    open: bool
    opens_at: datetime
    closes_at: datetime
    entries: list[BallotEntry]
    my_vote: int | None  # entry id


def voting_open(jam: Jam, now: datetime) -> bool:
    return (
        jam.audience_vote
        and rules.grace_ends_at(jam) < now < jam.judging_closes_at
        and jam.results_published_at is None
    )


def get_ballot(session: Session, actor: Actor, slug: str, *, clock: Clock = db_clock) -> Ballot:
    """The films to vote on (shown from the end of grace) and my own vote."""
    jam = access.jam_by_slug(session, slug)
    if not jam.audience_vote:
        raise NotFound("This jam has no audience vote.", code="no_audience_vote")
    now = clock(session)
    mine = access.team_of_user(session, jam, actor.user_id)
    listed: list[BallotEntry] = []
    if now > rules.grace_ends_at(jam):
        rows = session.execute(
            select(Entry, JamTeam.name)
            .join(JamTeam, JamTeam.id == Entry.team_id)
            .where(Entry.jam_id == jam.id, Entry.status.in_(ON_BALLOT))
            .order_by(Entry.id)
        ).tuples()
        listed = [
            BallotEntry(
                e.id,
                name,
                e.title,
                e.logline,
                e.poster_asset_id or e.film_poster_asset_id,
                e.film_asset_id,
                mine is not None and e.team_id == mine.id,
            )
            for e, name in rows
        ]
    vote = session.scalar(
        select(Vote.entry_id).where(Vote.jam_id == jam.id, Vote.user_id == actor.user_id)
    )
    return Ballot(
        voting_open(jam, now), rules.grace_ends_at(jam), jam.judging_closes_at, listed, vote
    )


def cast_vote(
    session: Session, actor: Actor, slug: str, entry_id: int, *, clock: Clock = db_clock
) -> Ballot:
    """Vote, or move my vote to another film while voting is open."""
    jam = access.jam_by_slug(session, slug)
    if not jam.audience_vote:
        raise NotFound("This jam has no audience vote.", code="no_audience_vote")
    now = clock(session)
    if not voting_open(jam, now):
        raise Conflict(
            f"Voting is open from {rules.at_jam(jam, rules.grace_ends_at(jam))} until "
            f"{rules.at_jam(jam, jam.judging_closes_at)}.",
            code="voting_closed",
        )
    entry = session.get(Entry, entry_id)
    if entry is None or entry.jam_id != jam.id or entry.status not in ON_BALLOT:
        raise NotFound("No such film on this jam's ballot.", code="entry_not_found")
    team = session.get(JamTeam, entry.team_id)
    assert team is not None
    if actor.user_id in access.team_member_ids(session, team):
        raise Conflict("You cannot vote for your own team's film.", code="own_team")
    vote = session.scalar(select(Vote).where(Vote.jam_id == jam.id, Vote.user_id == actor.user_id))
    if vote is None:
        try:
            with session.begin_nested():
                vote = Vote(jam_id=jam.id, user_id=actor.user_id, entry_id=entry.id, updated_at=now)
                session.add(vote)
                session.flush()
        except IntegrityError:
            # The same person voting twice at once: one vote stands, moved to this film.
            vote = session.scalar(
                select(Vote).where(Vote.jam_id == jam.id, Vote.user_id == actor.user_id)
            )
            assert vote is not None
    vote.entry_id = entry.id
    vote.updated_at = now
    # The audit log records that a vote was cast, not for whom: it is secret.
    audit.record(session, "jam.vote_cast", actor_user_id=actor.user_id, target=f"jam:{jam.slug}")
    session.flush()
    return get_ballot(session, actor, slug, clock=lambda _s: now)
