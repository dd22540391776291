"""/v1/jams: film jams. Thin: every rule and access check is in studio.jams.

Times are ISO 8601 with a time zone. Films and posters come back as signed,
expiring /media URLs, made only after the service allowed the read. The
shapes are declared in jams_schemas (never the services' own views).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.api.arrival import received_at
from studio.api.deps import TransactionRoute, api_actor, db_session
from studio.api.jams_schemas import (
    AssignmentOut,
    AssignmentReportOut,
    BallotEntryOut,
    BallotOut,
    ConflictIn,
    DashboardOut,
    EmailIn,
    EntryIn,
    EntryOut,
    EntryResultOut,
    FilmCheckOut,
    FilmIn,
    InvitedOut,
    InviteOut,
    JamIn,
    JamOut,
    JudgeOut,
    LeftOut,
    OrganizerOut,
    ReasonIn,
    ResultsOut,
    ScoresIn,
    TeamIn,
    TeamOut,
    TeamSummaryOut,
    VoteIn,
    out,
)
from studio.api.schemas import BODY_ERRORS, COMMON_ERRORS, IdPath, SlugPath, errors, raw_body
from studio.api.tasks import GenDep
from studio.api.uploads import receive_body
from studio.generation.context import Generation
from studio.jams import entries, judging, results, service, teams, votes
from studio.jams.clock import arrival_clock
from studio.jams.models import EntryStatus
from studio.media import signing

router = APIRouter(
    route_class=TransactionRoute, prefix="/jams", tags=["jams"], responses=COMMON_ERRORS
)
ActorDep = Annotated[Actor, Depends(api_actor)]
SessionDep = Annotated[Session, Depends(db_session, scope="function")]
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm", "video/x-matroska")
CHANGE = {**BODY_ERRORS}  # a body, and a state it may conflict with
ACTION = errors(409)  # no body; may conflict with the jam's phase


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


def _entry(request: Request, gen: Generation, view: entries.EntryView) -> EntryOut:
    made: EntryOut = out(
        EntryOut,
        view,
        film_url=_media(request, gen, view.film_asset_id),
        poster_url=_media(request, gen, view.shown_poster_asset_id),
    )
    return made


def _assignment(request: Request, gen: Generation, view: judging.AssignmentView) -> AssignmentOut:
    made: AssignmentOut = out(AssignmentOut, view, entry=_entry(request, gen, view.entry))
    return made


def _result(request: Request, gen: Generation, result: results.EntryResult) -> EntryResultOut:
    made: EntryResultOut = out(
        EntryResultOut,
        result,
        film_url=_media(request, gen, result.film_asset_id),
        poster_url=_media(request, gen, result.poster_asset_id),
    )
    return made


def _results(request: Request, gen: Generation, got: results.Results) -> ResultsOut:
    made: ResultsOut = out(
        ResultsOut,
        got,
        ranking=[_result(request, gen, r) for r in got.ranking],
        others=[_result(request, gen, r) for r in got.others],
    )
    return made


def _ballot(request: Request, gen: Generation, ballot: votes.Ballot) -> BallotOut:
    items = [
        out(
            BallotEntryOut,
            e,
            film_url=_media(request, gen, e.film_asset_id),
            poster_url=_media(request, gen, e.poster_asset_id),
        )
        for e in ballot.entries
    ]
    made: BallotOut = out(BallotOut, ballot, entries=items)
    return made


def _jam(view: service.JamView) -> JamOut:
    made: JamOut = out(JamOut, view)
    return made


# ---------------------------------------------------------------- jams


@router.get("", response_model=list[JamOut], summary="All jams (elements hidden until kickoff)")
def list_jams(actor: ActorDep, session: SessionDep) -> list[JamOut]:
    return [_jam(v) for v in service.list_jams(session, actor)]


@router.post(
    "",
    status_code=201,
    response_model=JamOut,
    summary="Create a jam (studio admins)",
    responses=CHANGE,
)
def create_jam(body: JamIn, actor: ActorDep, session: SessionDep) -> JamOut:
    jam = service.create_jam(session, actor, body.rules())
    return _jam(service.get_jam(session, actor, jam.slug))


@router.get(
    "/{slug}", response_model=JamOut, summary="A jam: rules, schedule, phase and the server clock"
)
def get_jam(slug: SlugPath, actor: ActorDep, session: SessionDep) -> JamOut:
    return _jam(service.get_jam(session, actor, slug))


@router.patch(
    "/{slug}",
    response_model=JamOut,
    summary="Edit rules and schedule (organizers)",
    responses=CHANGE,
)
def update_jam(slug: SlugPath, body: JamIn, actor: ActorDep, session: SessionDep) -> JamOut:
    service.update_jam(session, actor, slug, body.rules())
    return _jam(service.get_jam(session, actor, slug))


@router.post(
    "/{slug}/organizers",
    status_code=201,
    response_model=OrganizerOut,
    summary="Appoint an organizer (admins)",
    responses=CHANGE,
)
def add_organizer(
    slug: SlugPath, body: EmailIn, actor: ActorDep, session: SessionDep
) -> OrganizerOut:
    return OrganizerOut(user_id=service.add_organizer(session, actor, slug, email=body.email))


@router.post(
    "/{slug}/kickoff",
    response_model=JamOut,
    summary="Run the kickoff draw now (organizers, from kickoff)",
    responses=ACTION,
)
def kickoff(slug: SlugPath, actor: ActorDep, session: SessionDep) -> JamOut:
    service.draw_elements(session, actor, slug)
    return _jam(service.get_jam(session, actor, slug))


@router.get(
    "/{slug}/dashboard",
    response_model=DashboardOut,
    summary="Teams, entries by state, judging progress (organizers)",
)
def dashboard(slug: SlugPath, actor: ActorDep, session: SessionDep) -> DashboardOut:
    made: DashboardOut = out(DashboardOut, service.organizer_dashboard(session, actor, slug))
    return made


# ---------------------------------------------------------------- teams


@router.get(
    "/{slug}/teams", response_model=list[TeamSummaryOut], summary="Registered teams (names, sizes)"
)
def list_teams(slug: SlugPath, actor: ActorDep, session: SessionDep) -> list[TeamSummaryOut]:
    return [out(TeamSummaryOut, t) for t in teams.list_teams(session, actor, slug)]


@router.post(
    "/{slug}/teams",
    status_code=201,
    response_model=TeamOut,
    summary="Register a team (you become its captain)",
    responses=CHANGE,
)
def register_team(slug: SlugPath, body: TeamIn, actor: ActorDep, session: SessionDep) -> TeamOut:
    made: TeamOut = out(TeamOut, teams.register_team(session, actor, slug, name=body.name))
    return made


@router.get(
    "/{slug}/teams/mine",
    response_model=TeamOut,
    summary="My team, with its drawn elements after kickoff",
)
def my_team(slug: SlugPath, actor: ActorDep, session: SessionDep) -> TeamOut:
    made: TeamOut = out(TeamOut, teams.get_my_team(session, actor, slug))
    return made


def _invite(slug: str, body: EmailIn, actor: Actor, session: Session) -> InvitedOut:
    team = teams.invite_member(session, actor, slug, email=body.email)
    return InvitedOut(message=teams.invited_message(body.email), team=out(TeamOut, team))


@router.post(
    "/{slug}/teams/invite",
    status_code=201,
    response_model=InvitedOut,
    summary="Invite someone (captain; pending until they accept)",
    responses=CHANGE,
)
def invite(slug: SlugPath, body: EmailIn, actor: ActorDep, session: SessionDep) -> InvitedOut:
    """The invitation waits for the invitee to accept; the answer is the same for
    every address (whether or not it has a Studio account)."""
    return _invite(slug, body, actor, session)


@router.post(
    "/{slug}/teams/mine/members",
    status_code=201,
    response_model=InvitedOut,
    include_in_schema=False,  # the older name of /teams/invite
)
def invite_old_name(
    slug: SlugPath, body: EmailIn, actor: ActorDep, session: SessionDep
) -> InvitedOut:
    return _invite(slug, body, actor, session)


@router.delete(
    "/{slug}/invites/{invite_id}",
    response_model=TeamOut,
    summary="Cancel a pending invite (its captain)",
    responses=ACTION,
)
def cancel_invite(
    slug: SlugPath, invite_id: IdPath, actor: ActorDep, session: SessionDep
) -> TeamOut:
    made: TeamOut = out(TeamOut, teams.cancel_invite(session, actor, slug, invite_id))
    return made


@router.post(
    "/{slug}/teams/leave",
    response_model=LeftOut,
    summary="Leave my team (while registration is open)",
    responses=ACTION,
)
def leave_team(slug: SlugPath, actor: ActorDep, session: SessionDep) -> LeftOut:
    teams.leave_team(session, actor, slug)
    return LeftOut(left=True)


@router.get(
    "/{slug}/invites", response_model=list[InviteOut], summary="My pending invitations in this jam"
)
def my_invites(slug: SlugPath, actor: ActorDep, session: SessionDep) -> list[InviteOut]:
    return [out(InviteOut, i) for i in teams.my_invites(session, actor, slug)]


@router.post(
    "/{slug}/invites/{invite_id}/accept",
    response_model=TeamOut,
    summary="Accept an invitation: join the team",
    responses=ACTION,
)
def accept_invite(
    slug: SlugPath, invite_id: IdPath, actor: ActorDep, session: SessionDep
) -> TeamOut:
    made: TeamOut = out(TeamOut, teams.accept_invite(session, actor, slug, invite_id))
    return made


@router.post(
    "/{slug}/invites/{invite_id}/decline", status_code=204, summary="Decline an invitation"
)
def decline_invite(
    slug: SlugPath, invite_id: IdPath, actor: ActorDep, session: SessionDep
) -> Response:
    teams.decline_invite(session, actor, slug, invite_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- entry


@router.get("/{slug}/entry", response_model=EntryOut, summary="My team's entry (drafts included)")
def get_entry(
    slug: SlugPath, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> EntryOut:
    return _entry(request, gen, entries.get_my_entry(session, actor, slug))


@router.put(
    "/{slug}/entry",
    response_model=EntryOut,
    summary="Save or submit my team's entry (the database clock decides)",
    responses=CHANGE,
)
def put_entry(
    slug: SlugPath,
    body: EntryIn,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    gen: GenDep,
) -> EntryOut:
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
    # Dated by when the request arrived, bounded by the database clock (api/arrival.py).
    at_arrival = arrival_clock(received_at(request))
    view = entries.put_entry(session, actor, slug, values, storage=gen.storage, clock=at_arrival)
    return _entry(request, gen, view)


@router.post(
    "/{slug}/entry/film",
    status_code=201,
    response_model=FilmCheckOut,
    summary="Upload a film (the video file as the body) -> asset id",
    openapi_extra=raw_body(VIDEO_TYPES),
    responses=errors(400, 413, 415),
)
async def upload_film(
    slug: SlugPath, request: Request, actor: ActorDep, gen: GenDep
) -> FilmCheckOut:
    db = request.app.state.db

    def limit() -> int:  # who is asking, and this jam's size limit, before reading a byte
        with db.session_scope() as session:
            return entries.film_upload_limit(session, actor, slug)

    size = await run_in_threadpool(limit)
    # Streamed to a scratch file (swept like a worker's if this process dies): a 2 GiB
    # film never sits in the web process's memory.
    with tempfile.TemporaryDirectory(prefix="studio-in-") as scratch:
        film = Path(scratch) / "film"
        await receive_body(request, size, film, "The film", accept=VIDEO_TYPES)

        def store() -> FilmCheckOut:  # probing and writing: off the event loop
            with db.session_scope() as session:
                check = entries.upload_film(session, actor, slug, film, storage=gen.storage)
            made: FilmCheckOut = out(FilmCheckOut, check)
            return made

        return await run_in_threadpool(store)


@router.post(
    "/{slug}/entry/withdraw",
    response_model=EntryOut,
    summary="Withdraw my team's entry",
    responses=ACTION,
)
def withdraw(
    slug: SlugPath, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> EntryOut:
    return _entry(request, gen, entries.withdraw_entry(session, actor, slug))


@router.get(
    "/{slug}/entries",
    response_model=list[EntryOut],
    summary="Entries that are not drafts (organizers)",
)
def list_entries(
    slug: SlugPath,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    gen: GenDep,
    status: EntryStatus | None = None,
) -> list[EntryOut]:
    views = entries.list_entries(session, actor, slug, status=status)
    return [_entry(request, gen, v) for v in views]


@router.post(
    "/{slug}/entries/{entry_id}/disqualify",
    response_model=EntryOut,
    summary="Disqualify with a reason (organizers)",
    responses=CHANGE,
)
def disqualify(
    slug: SlugPath,
    entry_id: IdPath,
    body: ReasonIn,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    gen: GenDep,
) -> EntryOut:
    view = entries.disqualify_entry(session, actor, slug, entry_id, reason=body.reason)
    return _entry(request, gen, view)


# ---------------------------------------------------------------- judging


@router.get(
    "/{slug}/judges", response_model=list[JudgeOut], summary="Judges and conflicts (organizers)"
)
def list_judges(slug: SlugPath, actor: ActorDep, session: SessionDep) -> list[JudgeOut]:
    return [out(JudgeOut, j) for j in judging.list_judges(session, actor, slug)]


@router.post(
    "/{slug}/judges",
    status_code=201,
    response_model=JudgeOut,
    summary="Appoint a judge (organizers)",
    responses=CHANGE,
)
def add_judge(slug: SlugPath, body: EmailIn, actor: ActorDep, session: SessionDep) -> JudgeOut:
    made: JudgeOut = out(JudgeOut, judging.add_judge(session, actor, slug, email=body.email))
    return made


@router.post(
    "/{slug}/conflicts",
    status_code=201,
    response_model=JudgeOut,
    summary="Record a conflict (organizers)",
    responses=CHANGE,
)
def add_conflict(
    slug: SlugPath, body: ConflictIn, actor: ActorDep, session: SessionDep
) -> JudgeOut:
    view = judging.add_conflict(
        session, actor, slug, judge_id=body.judge_id, team_id=body.team_id, reason=body.reason
    )
    made: JudgeOut = out(JudgeOut, view)
    return made


@router.post(
    "/{slug}/assignments",
    response_model=AssignmentReportOut,
    summary="Assign K judges per on-time entry (organizers)",
    responses=ACTION,
)
def assign(slug: SlugPath, actor: ActorDep, session: SessionDep) -> AssignmentReportOut:
    made: AssignmentReportOut = out(
        AssignmentReportOut, judging.assign_judges(session, actor, slug)
    )
    return made


@router.get(
    "/{slug}/assignments",
    response_model=list[AssignmentOut],
    summary="My entries to judge (judges)",
)
def my_assignments(
    slug: SlugPath, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> list[AssignmentOut]:
    views = judging.list_my_assignments(session, actor, slug)
    return [_assignment(request, gen, v) for v in views]


@router.get(
    "/{slug}/entries/{entry_id}/scores",
    response_model=AssignmentOut,
    summary="An assigned entry and my scores (judges)",
)
def get_scores(
    slug: SlugPath,
    entry_id: IdPath,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    gen: GenDep,
) -> AssignmentOut:
    view = judging.get_assigned_entry(session, actor, slug, entry_id)
    return _assignment(request, gen, view)


@router.put(
    "/{slug}/entries/{entry_id}/scores",
    response_model=AssignmentOut,
    summary="Save (or submit) my scores (judges)",
    responses=CHANGE,
)
def put_scores(
    slug: SlugPath,
    entry_id: IdPath,
    body: ScoresIn,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    gen: GenDep,
) -> AssignmentOut:
    view = judging.save_scores(
        session, actor, slug, entry_id, scores=body.scores, notes=body.notes, submit=body.submit
    )
    return _assignment(request, gen, view)


# ---------------------------------------------------------------- votes, results


@router.get(
    "/{slug}/votes",
    response_model=BallotOut,
    summary="The ballot and my vote (tallies only in the results)",
)
def ballot(
    slug: SlugPath, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> BallotOut:
    return _ballot(request, gen, votes.get_ballot(session, actor, slug))


@router.put(
    "/{slug}/votes",
    response_model=BallotOut,
    summary="Vote for a film (one vote; voting again moves it)",
    responses=CHANGE,
)
def vote(
    slug: SlugPath,
    body: VoteIn,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    gen: GenDep,
) -> BallotOut:
    return _ballot(request, gen, votes.cast_vote(session, actor, slug, body.entry_id))


@router.get(
    "/{slug}/results",
    response_model=ResultsOut,
    summary="Ranking, votes and awards (once published)",
)
def get_results(
    slug: SlugPath, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> ResultsOut:
    return _results(request, gen, results.get_results(session, actor, slug))


@router.get(
    "/{slug}/results/preview",
    response_model=ResultsOut,
    summary="Results so far, tallies hidden (organizers)",
)
def preview(
    slug: SlugPath, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> ResultsOut:
    return _results(request, gen, results.preview_results(session, actor, slug))


@router.post(
    "/{slug}/results/publish",
    response_model=ResultsOut,
    summary="Publish results and awards (organizers)",
    responses=ACTION,
)
def publish(
    slug: SlugPath, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> ResultsOut:
    return _results(request, gen, results.publish_results(session, actor, slug))


@router.get(
    "/{slug}/export/{kind}.csv",
    summary="CSV: teams, scores or results (organizers)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export(
    slug: SlugPath,
    kind: Literal["teams", "scores", "results"],
    actor: ActorDep,
    session: SessionDep,
) -> Response:
    text = results.export_csv(session, actor, slug, kind)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}-{kind}.csv"'},
    )
