"""/v1/jams: film jams. Thin: every rule and access check is in studio.jams.

Times are ISO 8601 with a time zone. Films and posters come back as signed,
expiring /media URLs, made only after the service allowed the read.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.api.deps import TransactionRoute, api_actor, db_session
from studio.api.schemas import Strict
from studio.api.tasks import GenDep
from studio.api.uploads import read_body
from studio.generation.context import Generation
from studio.jams import entries, judging, results, service, teams, votes
from studio.jams.models import EntryStatus
from studio.jams.rules import JamRules
from studio.media import signing

router = APIRouter(prefix="/jams", tags=["jams"], route_class=TransactionRoute)
ActorDep = Annotated[Actor, Depends(api_actor)]
SessionDep = Annotated[Session, Depends(db_session, scope="function")]


class JamIn(Strict):
    title: str | None = Field(default=None, max_length=400)
    slug: str | None = Field(default=None, max_length=100)
    brief: str | None = Field(default=None, max_length=20_000)
    timezone: str | None = Field(default=None, max_length=64)
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    kickoff_at: datetime | None = None
    deadline_at: datetime | None = None
    grace_seconds: int | None = None
    judging_closes_at: datetime | None = None
    results_at: datetime | None = None
    team_size_max: int | None = None
    film_min_seconds: float | None = None
    film_max_seconds: float | None = None
    film_max_bytes: int | None = None
    elements: list[dict[str, Any]] | None = Field(default=None, max_length=50)
    rubric: list[dict[str, Any]] | None = Field(default=None, max_length=50)
    gpu_seconds_grant: int | None = None
    audience_vote: bool | None = None
    judges_per_entry: int | None = None
    normalize_scores: bool | None = None

    def rules(self) -> JamRules:
        return JamRules(**self.model_dump(exclude_none=True))


class EmailIn(Strict):
    email: str = Field(max_length=400)


class TeamIn(Strict):
    name: str = Field(max_length=200)


class FilmIn(Strict):
    """Exactly one: an uploaded film (POST .../entry/film), a take or a rough cut."""

    asset_id: int | None = None
    take_id: int | None = None
    rough_cut_id: int | None = None


class EntryIn(Strict):
    title: str | None = Field(default=None, max_length=1000)
    logline: str | None = Field(default=None, max_length=5000)
    credits: str | None = Field(default=None, max_length=10_000)
    film: FilmIn | None = None
    poster_asset_id: int | None = None
    submit: bool = True


class ReasonIn(Strict):
    reason: str = Field(max_length=2000)


class ConflictIn(Strict):
    judge_id: int
    team_id: int
    reason: str = Field(default="", max_length=300)


class ScoresIn(Strict):
    scores: dict[str, float] = Field(default_factory=dict, max_length=20)
    notes: str | None = Field(default=None, max_length=20_000)
    submit: bool = False


class VoteIn(Strict):
    entry_id: int


# ---------------------------------------------------------------- JSON shapes


def _media(request: Request, gen: Generation, asset_id: int | None) -> str | None:
    if asset_id is None:
        return None
    path = signing.signed_path(
        asset_id,
        request.app.state.media_secret,
        now=time.time(),
        ttl_seconds=gen.settings.media_url_ttl_seconds,
    )
    return f"{gen.settings.base_url.rstrip('/')}{path}"


def _jam(view: service.JamView) -> dict[str, Any]:
    return dataclasses.asdict(view)


def _entry(request: Request, gen: Generation, view: entries.EntryView) -> dict[str, Any]:
    body = dataclasses.asdict(view)
    body["film_url"] = _media(request, gen, view.film_asset_id)
    body["poster_url"] = _media(request, gen, view.poster_asset_id)
    return body


def _assignment(request: Request, gen: Generation, view: judging.AssignmentView) -> dict[str, Any]:
    body = dataclasses.asdict(view)
    body["entry"] = _entry(request, gen, view.entry)
    return body


def _results(request: Request, gen: Generation, got: results.Results) -> dict[str, Any]:
    body = dataclasses.asdict(got)
    for key in ("ranking", "others"):
        for item, result in zip(body[key], getattr(got, key), strict=True):
            item["film_url"] = _media(request, gen, result.film_asset_id)
            item["poster_url"] = _media(request, gen, result.poster_asset_id)
    return body


# ---------------------------------------------------------------- jams


@router.get("", summary="All jams (elements hidden until kickoff)")
def list_jams(actor: ActorDep, session: SessionDep) -> list[dict[str, Any]]:
    return [_jam(v) for v in service.list_jams(session, actor)]


@router.post("", status_code=201, summary="Create a jam (studio admins)")
def create_jam(body: JamIn, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    jam = service.create_jam(session, actor, body.rules())
    return _jam(service.get_jam(session, actor, jam.slug))


@router.get("/{slug}", summary="A jam: rules, schedule, phase and the server clock")
def get_jam(slug: str, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    return _jam(service.get_jam(session, actor, slug))


@router.patch("/{slug}", summary="Edit rules and schedule (organizers)")
def update_jam(slug: str, body: JamIn, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    service.update_jam(session, actor, slug, body.rules())
    return _jam(service.get_jam(session, actor, slug))


@router.post("/{slug}/organizers", status_code=201, summary="Appoint an organizer (admins)")
def add_organizer(slug: str, body: EmailIn, actor: ActorDep, session: SessionDep) -> dict[str, int]:
    return {"user_id": service.add_organizer(session, actor, slug, email=body.email)}


@router.post("/{slug}/kickoff", summary="Run the kickoff draw now (organizers, from kickoff)")
def kickoff(slug: str, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    service.draw_elements(session, actor, slug)
    return _jam(service.get_jam(session, actor, slug))


@router.get("/{slug}/dashboard", summary="Teams, entries by state, judging progress (organizers)")
def dashboard(slug: str, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    return dataclasses.asdict(service.organizer_dashboard(session, actor, slug))


# ---------------------------------------------------------------- teams


@router.get("/{slug}/teams", summary="Registered teams (names and sizes)")
def list_teams(slug: str, actor: ActorDep, session: SessionDep) -> list[dict[str, Any]]:
    return [dataclasses.asdict(t) for t in teams.list_teams(session, actor, slug)]


@router.post("/{slug}/teams", status_code=201, summary="Register a team (you become its captain)")
def register_team(slug: str, body: TeamIn, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    return dataclasses.asdict(teams.register_team(session, actor, slug, name=body.name))


@router.get("/{slug}/teams/mine", summary="My team, with its drawn elements after kickoff")
def my_team(slug: str, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    return dataclasses.asdict(teams.get_my_team(session, actor, slug))


@router.post("/{slug}/teams/invite", status_code=201, summary="Invite someone (captain; pending)")
@router.post("/{slug}/teams/mine/members", status_code=201, include_in_schema=False)
def invite(slug: str, body: EmailIn, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    """The invitation waits for the invitee to accept; the answer is the same for
    every address (whether or not it has a Studio account)."""
    team = teams.invite_member(session, actor, slug, email=body.email)
    return {"message": teams.invited_message(body.email), "team": dataclasses.asdict(team)}


@router.delete("/{slug}/invites/{invite_id}", summary="Cancel a pending invite (its captain)")
def cancel_invite(
    slug: str, invite_id: int, actor: ActorDep, session: SessionDep
) -> dict[str, Any]:
    return dataclasses.asdict(teams.cancel_invite(session, actor, slug, invite_id))


@router.post("/{slug}/teams/leave", summary="Leave my team (while registration is open)")
def leave_team(slug: str, actor: ActorDep, session: SessionDep) -> dict[str, bool]:
    teams.leave_team(session, actor, slug)
    return {"left": True}


@router.get("/{slug}/invites", summary="My pending invitations in this jam")
def my_invites(slug: str, actor: ActorDep, session: SessionDep) -> list[dict[str, Any]]:
    return [dataclasses.asdict(i) for i in teams.my_invites(session, actor, slug)]


@router.post("/{slug}/invites/{invite_id}/accept", summary="Accept an invitation: join the team")
def accept_invite(
    slug: str, invite_id: int, actor: ActorDep, session: SessionDep
) -> dict[str, Any]:
    return dataclasses.asdict(teams.accept_invite(session, actor, slug, invite_id))


@router.post(
    "/{slug}/invites/{invite_id}/decline", status_code=204, summary="Decline an invitation"
)
def decline_invite(slug: str, invite_id: int, actor: ActorDep, session: SessionDep) -> Response:
    teams.decline_invite(session, actor, slug, invite_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- entry


@router.get("/{slug}/entry", summary="My team's entry (drafts included)")
def get_entry(
    slug: str, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    return _entry(request, gen, entries.get_my_entry(session, actor, slug))


@router.put("/{slug}/entry", summary="Save or submit my team's entry (the database clock decides)")
def put_entry(
    slug: str, body: EntryIn, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    film = body.film or FilmIn()
    values = entries.EntryInput(
        title=body.title,
        logline=body.logline,
        credits=body.credits,
        film_asset_id=film.asset_id,
        film_take_id=film.take_id,
        film_rough_cut_id=film.rough_cut_id,
        poster_asset_id=body.poster_asset_id,
        submit=body.submit,
    )
    view = entries.put_entry(session, actor, slug, values, storage=gen.storage)
    return _entry(request, gen, view)


@router.post("/{slug}/entry/film", status_code=201, summary="Upload a film (raw body) -> asset id")
async def upload_film(slug: str, request: Request, actor: ActorDep, gen: GenDep) -> dict[str, Any]:
    db = request.app.state.db

    def limit() -> int:  # who is asking, and this jam's size limit, before reading a byte
        with db.session_scope() as session:
            return entries.film_upload_limit(session, actor, slug)

    data = await read_body(request, await run_in_threadpool(limit), "The film")

    def store() -> dict[str, Any]:  # probing and writing: off the event loop
        with db.session_scope() as session:
            check = entries.upload_film(session, actor, slug, data, storage=gen.storage)
        return dataclasses.asdict(check)

    return await run_in_threadpool(store)


@router.post("/{slug}/entry/withdraw", summary="Withdraw my team's entry")
def withdraw(
    slug: str, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    return _entry(request, gen, entries.withdraw_entry(session, actor, slug))


@router.get("/{slug}/entries", summary="Entries that are not drafts (organizers)")
def list_entries(
    slug: str,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    gen: GenDep,
    status: EntryStatus | None = None,
) -> list[dict[str, Any]]:
    views = entries.list_entries(session, actor, slug, status=status)
    return [_entry(request, gen, v) for v in views]


@router.post("/{slug}/entries/{entry_id}/disqualify", summary="Disqualify with a reason")
def disqualify(
    slug: str,
    entry_id: int,
    body: ReasonIn,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    gen: GenDep,
) -> dict[str, Any]:
    view = entries.disqualify_entry(session, actor, slug, entry_id, reason=body.reason)
    return _entry(request, gen, view)


# ---------------------------------------------------------------- judging


@router.get("/{slug}/judges", summary="Judges and their conflicts (organizers)")
def list_judges(slug: str, actor: ActorDep, session: SessionDep) -> list[dict[str, Any]]:
    return [dataclasses.asdict(j) for j in judging.list_judges(session, actor, slug)]


@router.post("/{slug}/judges", status_code=201, summary="Appoint a judge (organizers)")
def add_judge(slug: str, body: EmailIn, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    return dataclasses.asdict(judging.add_judge(session, actor, slug, email=body.email))


@router.post("/{slug}/conflicts", status_code=201, summary="Record a conflict (organizers)")
def add_conflict(
    slug: str, body: ConflictIn, actor: ActorDep, session: SessionDep
) -> dict[str, Any]:
    view = judging.add_conflict(
        session, actor, slug, judge_id=body.judge_id, team_id=body.team_id, reason=body.reason
    )
    return dataclasses.asdict(view)


@router.post("/{slug}/assignments", summary="Assign K judges per on-time entry (organizers)")
def assign(slug: str, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    return dataclasses.asdict(judging.assign_judges(session, actor, slug))


@router.get("/{slug}/assignments", summary="My entries to judge (judges)")
def my_assignments(
    slug: str, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> list[dict[str, Any]]:
    views = judging.list_my_assignments(session, actor, slug)
    return [_assignment(request, gen, v) for v in views]


@router.get("/{slug}/entries/{entry_id}/scores", summary="An assigned entry and my scores")
def get_scores(
    slug: str, entry_id: int, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    view = judging.get_assigned_entry(session, actor, slug, entry_id)
    return _assignment(request, gen, view)


@router.put("/{slug}/entries/{entry_id}/scores", summary="Save (or submit) my scores")
def put_scores(
    slug: str,
    entry_id: int,
    body: ScoresIn,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    gen: GenDep,
) -> dict[str, Any]:
    view = judging.save_scores(
        session, actor, slug, entry_id, scores=body.scores, notes=body.notes, submit=body.submit
    )
    return _assignment(request, gen, view)


# ---------------------------------------------------------------- votes, results


@router.get("/{slug}/votes", summary="The ballot and my vote (tallies only in the results)")
def ballot(
    slug: str, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    return _ballot(request, gen, votes.get_ballot(session, actor, slug))


@router.put("/{slug}/votes", summary="Vote for a film (one vote; voting again moves it)")
def vote(
    slug: str, body: VoteIn, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    return _ballot(request, gen, votes.cast_vote(session, actor, slug, body.entry_id))


def _ballot(request: Request, gen: Generation, ballot: votes.Ballot) -> dict[str, Any]:
    body = dataclasses.asdict(ballot)
    for item, entry in zip(body["entries"], ballot.entries, strict=True):
        item["film_url"] = _media(request, gen, entry.film_asset_id)
        item["poster_url"] = _media(request, gen, entry.poster_asset_id)
    return body


@router.get("/{slug}/results", summary="Ranking, votes and awards (once published)")
def get_results(
    slug: str, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    return _results(request, gen, results.get_results(session, actor, slug))


@router.get("/{slug}/results/preview", summary="Results so far, tallies hidden (organizers)")
def preview(
    slug: str, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    return _results(request, gen, results.preview_results(session, actor, slug))


@router.post("/{slug}/results/publish", summary="Publish results and awards (organizers)")
def publish(
    slug: str, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    return _results(request, gen, results.publish_results(session, actor, slug))


@router.get("/{slug}/export/{kind}.csv", summary="CSV: teams, scores or results (organizers)")
def export(slug: str, kind: str, actor: ActorDep, session: SessionDep) -> Response:
    text = results.export_csv(session, actor, slug, kind)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}-{kind}.csv"'},
    )
