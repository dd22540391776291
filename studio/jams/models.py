"""Film jams: the competition, its teams, entries, judging, votes and awards.

Rules live in JSON on the jam (elements, rubric) because they are edited as a
whole and read as a whole; everything that is counted, ranked or constrained
(one team per person, one entry per team, one vote per person, K judges per
entry) is a row with a database constraint, so that concurrency cannot break it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from studio.accounts.models import EMAIL_MAX
from studio.db.base import Base, CreatedAtMixin, UTCDateTime, enum_column


class EntryStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # on time: jury and audience
    LATE = "late"  # within the grace period: audience award only
    DISQUALIFIED = "disqualified"
    WITHDRAWN = "withdrawn"


class FilmSource(enum.StrEnum):
    UPLOAD = "upload"
    TAKE = "take"
    ROUGH_CUT = "rough_cut"


class Jam(CreatedAtMixin, Base):
    __tablename__ = "jams"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    brief: Mapped[str] = mapped_column(Text, default="")
    # IANA name the schedule is shown in; instants are stored in UTC.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    registration_opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registration_closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kickoff_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    grace_seconds: Mapped[int] = mapped_column(Integer, default=0)
    judging_closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    results_at: Mapped[datetime] = mapped_column(UTCDateTime())  # planned publication
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # actual
    team_size_max: Mapped[int] = mapped_column(Integer, default=3)
    film_min_seconds: Mapped[float] = mapped_column(Float, default=60.0)
    film_max_seconds: Mapped[float] = mapped_column(Float, default=240.0)
    film_max_bytes: Mapped[int] = mapped_column(BigInteger, default=2 * 1024**3)
    # The organizer's rule: a film without an audio track is refused.
    film_needs_sound: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # [{"category": "character", "options": [...], "per_team": false}, ...]
    elements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # [{"key": "artistic", "name": "Artistic", "weight": 45, "min": 1, "max": 10}, ...]
    rubric: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    gpu_seconds_grant: Mapped[int] = mapped_column(Integer, default=3600)
    # The most jobs one team runs at once even when workers sit idle (0: no
    # cap, so a lone team may use every free worker). Copied to each team's
    # workspace at registration, like the GPU grant.
    team_concurrent_jobs_cap: Mapped[int] = mapped_column(Integer, default=0)
    audience_vote: Mapped[bool] = mapped_column(Boolean, default=True)
    judges_per_entry: Mapped[int] = mapped_column(Integer, default=3)
    normalize_scores: Mapped[bool] = mapped_column(Boolean, default=False)
    # The draw: one seed per jam, made at creation and shown only after
    # kickoff; every draw is derived from it (see draws.py).
    draw_seed: Mapped[int] = mapped_column(BigInteger)
    shared_elements: Mapped[dict[str, str] | None] = mapped_column(JSON)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class JamOrganizer(CreatedAtMixin, Base):
    __tablename__ = "jam_organizers"
    __table_args__ = (UniqueConstraint("jam_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jam_id: Mapped[int] = mapped_column(ForeignKey("jams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class JamTeam(CreatedAtMixin, Base):
    """A team and its own workspace (every studio tool works for it)."""

    __tablename__ = "jam_teams"
    __table_args__ = (
        UniqueConstraint("jam_id", "name"),
        # Lets members reference (team, jam) together: a member row can only
        # name a team of the jam it claims (see JamTeamMember).
        UniqueConstraint("id", "jam_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jam_id: Mapped[int] = mapped_column(ForeignKey("jams.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), unique=True)
    drawn_elements: Mapped[dict[str, str] | None] = mapped_column(JSON)  # per-team categories
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class JamTeamMember(CreatedAtMixin, Base):
    """Who is in which team. UNIQUE (jam_id, user_id): one team per person per jam,
    enforced by the database even when two invitations race."""

    __tablename__ = "jam_team_members"
    __table_args__ = (
        UniqueConstraint("jam_id", "user_id"),
        ForeignKeyConstraint(
            ["team_id", "jam_id"],
            ["jam_teams.id", "jam_teams.jam_id"],
            ondelete="CASCADE",
            name="fk_jam_team_members_team_id_jam_teams",
        ),
        Index("ix_jam_team_members_team_id", "team_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jam_id: Mapped[int] = mapped_column(ForeignKey("jams.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class JamInvite(CreatedAtMixin, Base):
    """A pending invitation to a team: it grants nothing until the invitee
    accepts (accepting adds the roster row, where one team per person is
    enforced). Stored by email, normalized, so an invitation looks the same
    whether or not the address has a Studio account (nothing to probe), and it
    is there when the person signs in. UNIQUE (team_id, email): one per team."""

    __tablename__ = "jam_invites"
    __table_args__ = (
        UniqueConstraint("team_id", "email"),
        ForeignKeyConstraint(
            ["team_id", "jam_id"],
            ["jam_teams.id", "jam_teams.jam_id"],
            ondelete="CASCADE",
            name="fk_jam_invites_team_id_jam_teams",
        ),
        Index("ix_jam_invites_jam_id_email", "jam_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jam_id: Mapped[int] = mapped_column(ForeignKey("jams.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column()
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    invited_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class Entry(Base):
    """A team's film. UNIQUE team_id: one entry per team, replaced in place."""

    __tablename__ = "jam_entries"
    __table_args__ = (Index("ix_jam_entries_jam_id_status", "jam_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jam_id: Mapped[int] = mapped_column(ForeignKey("jams.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(
        ForeignKey("jam_teams.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[EntryStatus] = mapped_column(enum_column(EntryStatus, "entry_status"))
    title: Mapped[str] = mapped_column(String(120), default="")
    logline: Mapped[str] = mapped_column(Text, default="")
    credits: Mapped[str] = mapped_column(Text, default="")
    poster_asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))  # the team's
    film_asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    # A frame of the film (the uploaded film's poster, the take's or the rough cut's),
    # set with the film: the cards show it where the team uploaded no poster.
    film_poster_asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    film_source: Mapped[FilmSource | None] = mapped_column(enum_column(FilmSource, "film_source"))
    film_source_id: Mapped[int | None] = mapped_column(Integer)  # take or rough cut id
    film_seconds: Mapped[float | None] = mapped_column(Float)
    # From the database clock, in the transaction that recorded the entry.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    revision: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every change
    disqualified_reason: Mapped[str | None] = mapped_column(Text)


class Judge(CreatedAtMixin, Base):
    __tablename__ = "jam_judges"
    __table_args__ = (UniqueConstraint("jam_id", "user_id"), UniqueConstraint("id", "jam_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    jam_id: Mapped[int] = mapped_column(ForeignKey("jams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class JudgeConflict(CreatedAtMixin, Base):
    """A judge who must never see a team's entry (friend, employer, relative...)."""

    __tablename__ = "jam_conflicts"
    __table_args__ = (UniqueConstraint("judge_id", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jam_id: Mapped[int] = mapped_column(ForeignKey("jams.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("jam_judges.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("jam_teams.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(300), default="")


class Assignment(CreatedAtMixin, Base):
    """One judge on one entry: private notes, and scores once saved."""

    __tablename__ = "jam_assignments"
    __table_args__ = (
        UniqueConstraint("entry_id", "judge_id"),
        Index("ix_jam_assignments_judge_id", "judge_id"),
        Index("ix_jam_assignments_jam_id", "jam_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jam_id: Mapped[int] = mapped_column(ForeignKey("jams.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("jam_entries.id", ondelete="CASCADE"))
    judge_id: Mapped[int] = mapped_column(ForeignKey("jam_judges.id", ondelete="CASCADE"))
    notes: Mapped[str] = mapped_column(Text, default="")  # private to the judge
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # counts from here


class Score(Base):
    """One criterion's score in one assignment: rows, so results aggregate in bulk."""

    __tablename__ = "jam_scores"
    __table_args__ = (UniqueConstraint("assignment_id", "criterion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("jam_assignments.id", ondelete="CASCADE"))
    criterion: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)


class Vote(CreatedAtMixin, Base):
    """The audience vote. UNIQUE (jam_id, user_id): one per signed-in person."""

    __tablename__ = "jam_votes"
    __table_args__ = (
        UniqueConstraint("jam_id", "user_id"),
        Index("ix_jam_votes_entry_id", "entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jam_id: Mapped[int] = mapped_column(ForeignKey("jams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("jam_entries.id", ondelete="CASCADE"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Award(CreatedAtMixin, Base):
    """Written when results are published: grand_prize, audience, best_<criterion>."""

    __tablename__ = "jam_awards"
    __table_args__ = (UniqueConstraint("jam_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jam_id: Mapped[int] = mapped_column(ForeignKey("jams.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    entry_id: Mapped[int] = mapped_column(ForeignKey("jam_entries.id", ondelete="CASCADE"))
    score: Mapped[float | None] = mapped_column(Float)  # weighted score or vote count
