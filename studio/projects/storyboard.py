"""The storyboard: each shot in order with its circled take's poster."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.generation.models import Job, JobStatus
from studio.media.models import Asset
from studio.projects import service as projects
from studio.projects.models import Take


@dataclass(frozen=True)
class Card:
    shot_id: int
    code: str
    description: str
    status: str
    target_duration: float | None
    takes: int
    selected_take_id: int | None
    selected_number: int | None
    poster_asset_id: int | None  # the circled take's poster (its job's, or its upload's)
    reference_asset_id: int | None
    latest_job: str | None  # public id of the newest take's job, while it runs
    latest_status: str | None


def storyboard(session: Session, actor: Actor, project_id: int) -> list[Card]:
    shots = projects.list_shots(session, actor, project_id)
    ids = [s.id for s in shots]
    counts = {
        shot_id: int(n)
        for shot_id, n in session.execute(
            select(Take.shot_id, func.count()).where(Take.shot_id.in_(ids)).group_by(Take.shot_id)
        ).tuples()
    }
    takes = {t.id: t for t in session.scalars(select(Take).where(Take.shot_id.in_(ids)))}
    jobs = {
        j.id: j
        for j in session.scalars(
            select(Job).where(Job.id.in_([t.job_id for t in takes.values() if t.job_id]))
        )
    }
    circled = [takes[i] for s in shots if (i := s.selected_take_id) is not None and i in takes]
    uploaded = [t.upload_asset_id for t in circled if t.upload_asset_id is not None]
    upload_posters: dict[int, int | None] = {}
    if uploaded:
        rows = session.execute(
            select(Asset.id, Asset.poster_asset_id).where(Asset.id.in_(uploaded))
        )
        upload_posters = {asset_id: poster for asset_id, poster in rows.tuples()}
    newest: dict[int, Take] = {}
    for take in takes.values():
        if take.shot_id not in newest or take.number > newest[take.shot_id].number:
            newest[take.shot_id] = take
    cards = []
    for shot in shots:
        selected = takes.get(shot.selected_take_id) if shot.selected_take_id else None
        job = jobs.get(selected.job_id) if selected and selected.job_id else None
        poster = job.poster_asset_id if job and job.status == JobStatus.SUCCEEDED else None
        if selected is not None and selected.upload_asset_id is not None:
            poster = upload_posters.get(selected.upload_asset_id)
        last = newest.get(shot.id)
        last_job = jobs.get(last.job_id) if last and last.job_id else None
        cards.append(
            Card(
                shot_id=shot.id,
                code=shot.code,
                description=shot.description or shot.prompt,
                status=shot.status.value,
                target_duration=shot.target_duration,
                takes=counts.get(shot.id, 0),
                selected_take_id=selected.id if selected else None,
                selected_number=selected.number if selected else None,
                poster_asset_id=poster,
                reference_asset_id=shot.reference_asset_id,
                latest_job=last_job.public_id if last_job else None,
                latest_status=last_job.status.value if last_job else None,
            )
        )
    return cards
