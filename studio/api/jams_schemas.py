"""The jams API's request and response models.

The public shapes are declared here, not derived from the services' internal
views: a field reaches a client only when it is listed below. Views are
copied in with `from_attributes`; films and posters gain signed, expiring
URLs (`film_url`, `poster_url`) made after the service allowed the read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from studio.api.schemas import Id, Strict
from studio.jams.models import EntryStatus, FilmSource
from studio.jams.rules import MAX_CATEGORIES, MAX_CRITERIA, MAX_OPTIONS, JamRules, Phase

# ---------------------------------------------------------------- requests


class ElementIn(Strict):
    """A category of required elements; one option is drawn for all, or per team."""

    category: str = Field(max_length=40)
    options: list[str] = Field(max_length=MAX_OPTIONS)
    per_team: bool = False


class CriterionIn(Strict):
    key: str = Field(max_length=40, description="Lowercase identifier, e.g. 'artistic'")
    name: str | None = Field(default=None, max_length=80)
    weight: float = Field(gt=0, le=1_000_000, description="Relative weight")
    min: float = Field(default=1, ge=-1_000_000, le=1_000_000)
    max: float = Field(default=10, ge=-1_000_000, le=1_000_000)


class JamIn(Strict):
    """Every setting of a jam. On create, title, slug, registration_opens_at and
    kickoff_at are required; on update, what is left out stays as it is."""

    title: str | None = Field(default=None, max_length=400)
    slug: str | None = Field(default=None, max_length=100)
    brief: str | None = Field(default=None, max_length=20_000)
    timezone: str | None = Field(default=None, max_length=64)
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    kickoff_at: datetime | None = None
    deadline_at: datetime | None = None
    grace_seconds: int | None = Field(default=None, ge=0, le=7 * 86400)
    judging_closes_at: datetime | None = None
    results_at: datetime | None = None
    team_size_max: int | None = Field(default=None, ge=1, le=50)
    film_min_seconds: float | None = Field(default=None, ge=0, le=36000)
    film_max_seconds: float | None = Field(default=None, ge=0, le=36000)
    film_max_bytes: int | None = Field(default=None, ge=1024, le=100 * 1024**3)
    elements: list[ElementIn] | None = Field(default=None, max_length=MAX_CATEGORIES)
    rubric: list[CriterionIn] | None = Field(default=None, max_length=MAX_CRITERIA)
    gpu_seconds_grant: int | None = Field(default=None, ge=0, le=10**9)
    # Jobs a team may run at once whatever the farm's idle capacity (0: no cap).
    team_concurrent_jobs_cap: int | None = Field(default=None, ge=0, le=10_000)
    audience_vote: bool | None = None
    film_needs_sound: StrictBool | None = Field(
        default=None, description="Refuse films without an audio track"
    )
    judges_per_entry: int | None = Field(default=None, ge=1, le=20)
    normalize_scores: bool | None = None

    def rules(self) -> JamRules:
        values = self.model_dump(exclude_none=True)
        if self.rubric is not None:  # a criterion without a name is named from its key
            values["rubric"] = [c.model_dump(exclude_none=True) for c in self.rubric]
        return JamRules(**values)


class EmailIn(Strict):
    email: str = Field(max_length=400)


class TeamIn(Strict):
    name: str = Field(max_length=200)


class FilmIn(Strict):
    """Exactly one: an uploaded film (POST .../entry/film), a take or a rough cut."""

    asset_id: Id | None = None
    take_id: Id | None = None
    rough_cut_id: Id | None = None


class EntryIn(Strict):
    title: str | None = Field(default=None, max_length=1000)
    logline: str | None = Field(default=None, max_length=5000)
    credits: str | None = Field(default=None, max_length=10_000)
    film: FilmIn | None = None
    poster_asset_id: Id | None = None
    submit: bool = True


class ReasonIn(Strict):
    reason: str = Field(max_length=2000)


class ConflictIn(Strict):
    judge_id: Id
    team_id: Id
    reason: str = Field(default="", max_length=300)


class ScoresIn(Strict):
    scores: dict[str, float] = Field(
        default_factory=dict, max_length=20, description="criterion key -> score"
    )
    notes: str | None = Field(default=None, max_length=20_000)
    submit: bool = False


class VoteIn(Strict):
    entry_id: Id


# ---------------------------------------------------------------- responses


class View(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ElementOut(View):
    category: str
    options: list[str]
    per_team: bool


class CriterionOut(View):
    key: str
    name: str
    weight: float
    min: float
    max: float


class JamOut(View):
    """A jam as the person asking sees it; elements are null before kickoff."""

    id: int
    slug: str
    title: str
    brief: str
    timezone: str
    schedule: dict[str, datetime]
    grace_seconds: int
    phase: Phase
    server_now: datetime = Field(description="The database clock: count down from this")
    registration_open: bool
    team_size_max: int
    film_min_seconds: float
    film_max_seconds: float
    film_max_bytes: int
    rubric: list[CriterionOut]
    gpu_seconds_grant: int
    audience_vote: bool
    film_needs_sound: bool
    judges_per_entry: int
    normalize_scores: bool
    elements: list[ElementOut] | None
    shared_elements: dict[str, str] | None
    draw_seed: int | None
    results_published: bool
    is_organizer: bool
    is_judge: bool
    my_team_id: int | None


class OrganizerOut(BaseModel):
    user_id: int


class TeamMemberOut(View):
    user_id: int
    display_name: str
    email: str


class PendingInviteOut(View):
    id: int
    email: str
    created_at: datetime


class TeamOut(View):
    """A team as its own members see it."""

    id: int
    name: str
    workspace_id: int
    workspace_slug: str
    members: list[TeamMemberOut]
    size_max: int
    drawn_elements: dict[str, str] | None
    shared_elements: dict[str, str] | None
    invites: list[PendingInviteOut]


class TeamSummaryOut(View):
    """A team as anyone sees it: its name and size."""

    id: int
    name: str
    members: int


class InvitedOut(BaseModel):
    message: str = Field(description="The same answer for every address")
    team: TeamOut


class InviteOut(View):
    """An invitation as the invitee sees it."""

    id: int
    team_id: int
    team_name: str
    invited_by: str
    created_at: datetime


class LeftOut(BaseModel):
    left: bool


class EntryOut(View):
    id: int
    team_id: int
    team_name: str
    status: EntryStatus
    title: str
    logline: str
    credits: str
    poster_asset_id: int | None
    film_asset_id: int | None
    film_source: FilmSource | None
    film_source_id: int | None
    film_seconds: float | None
    submitted_at: datetime | None
    updated_at: datetime
    revision: int
    disqualified_reason: str | None
    drawn_elements: dict[str, str] | None
    film_url: str | None = Field(default=None, description="Signed, expiring URL")
    poster_url: str | None = Field(
        default=None,
        description="Signed, expiring URL: the team's poster, else a frame of the film",
    )


class FilmCheckOut(View):
    asset_id: int
    seconds: float
    width: int
    height: int
    bytes: int


class JudgeOut(View):
    judge_id: int
    user_id: int
    display_name: str
    email: str
    conflicts: list[int] = Field(description="Team ids")


class AssignmentReportOut(View):
    created: int
    loads: dict[int, int] = Field(description="judge id -> entries assigned")
    short: dict[int, int] = Field(description="entry id -> judges missing")


class AssignmentOut(View):
    """One entry on a judge's console; notes are the judge's own."""

    assignment_id: int
    entry: EntryOut
    rubric: list[CriterionOut]
    scores: dict[str, float]
    notes: str
    saved_at: datetime | None
    submitted_at: datetime | None
    editable: bool
    judging_closes_at: datetime


class TeamRowOut(View):
    team_id: int
    name: str
    members: int
    entry_status: str | None
    entry_title: str | None


class JudgeProgressOut(View):
    judge_id: int
    user_id: int
    display_name: str
    assigned: int
    submitted: int


class DashboardOut(View):
    jam: JamOut
    teams: list[TeamRowOut]
    entries_by_state: dict[str, int]
    judges: list[JudgeProgressOut]
    assignments: int
    assignments_submitted: int
    votes_cast: int


class BallotEntryOut(View):
    entry_id: int
    team_name: str
    title: str
    logline: str
    poster_asset_id: int | None
    film_asset_id: int | None
    own_team: bool
    film_url: str | None = None
    poster_url: str | None = None


class BallotOut(View):
    open: bool
    opens_at: datetime
    closes_at: datetime
    entries: list[BallotEntryOut]
    my_vote: int | None


class EntryResultOut(View):
    entry_id: int
    team_id: int
    team_name: str
    title: str
    status: EntryStatus
    rank: int | None
    score: float | None
    criteria: dict[str, float]
    sheets: int
    votes: int
    submitted_at: datetime | None
    poster_asset_id: int | None
    film_asset_id: int | None
    film_url: str | None = None
    poster_url: str | None = None


class ResultsOut(View):
    slug: str
    normalized: bool
    ranking: list[EntryResultOut]
    others: list[EntryResultOut]
    awards: dict[str, int] = Field(description="award kind -> entry id")
    published_at: datetime | None


def out(model: type[View], value: Any, **extra: Any) -> Any:
    """A service view as its public model, with extra fields (URLs) set."""
    made = model.model_validate(value)
    return made.model_copy(update=extra) if extra else made
