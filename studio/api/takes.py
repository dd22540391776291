"""/v1/shots/{id}/takes and /v1/takes/{id}: generate, re-roll, vary, extend,
upload, circle, favorite and rate takes; /v1/projects/{id}/rough_cut(s)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.api.deps import TransactionRoute, api_actor, db_session
from studio.api.schemas import Strict
from studio.api.tasks import GenDep, task_body
from studio.api.uploads import read_body
from studio.generation import service as jobs
from studio.media import signing
from studio.projects import roughcut, takes
from studio.projects.models import Take

router = APIRouter(route_class=TransactionRoute)
ActorDep = Annotated[Actor, Depends(api_actor)]
SessionDep = Annotated[Session, Depends(db_session, scope="function")]


class GenerateIn(Strict):
    model: str | None = Field(default=None, max_length=80)
    seed: int | None = None
    camera_move: str | None = Field(default=None, max_length=20)


class VaryIn(Strict):
    prompt: str | None = Field(default=None, max_length=5000)
    negative_prompt: str | None = Field(default=None, max_length=5000)
    ratio: str | None = Field(default=None, max_length=20)
    duration: int | None = None
    camera_move: str | None = Field(default=None, max_length=20)
    model: str | None = Field(default=None, max_length=80)
    motion_strength: float | None = None


class ExtendIn(Strict):
    model: str | None = Field(default=None, max_length=80)


class MarkIn(Strict):
    favorite: bool | None = None
    rating: int | None = None


def _created(session: Session, take: Take) -> dict[str, Any]:
    return {"id": takes.task_id_of(session, take.job_id), "take": take.id, "number": take.number}


def _take_json(
    request: Request, gen: Any, tv: takes.TakeView, selected: int | None
) -> dict[str, Any]:
    secret = request.app.state.media_secret
    output = tv.output_asset_id
    url = None
    if output is not None:
        path = signing.signed_path(
            output, secret, now=time.time(), ttl_seconds=gen.settings.media_url_ttl_seconds
        )
        url = gen.settings.base_url.rstrip("/") + path
    take = tv.take
    return {
        "id": take.id,
        "number": take.number,
        "shot": tv.shot_code,
        "lineage": take.lineage.value if take.lineage else None,
        "parent_take_id": take.parent_take_id,
        "uploaded": take.upload_asset_id is not None,
        "favorite": take.favorite,
        "rating": take.rating,
        "selected": take.id == selected,
        "output": url,
        "task": task_body(tv.job, gen, secret) if tv.job else None,
    }


@router.get("/shots/{shot_id}/takes", summary="A shot's takes, newest first")
def list_takes(
    shot_id: int, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> list[dict[str, Any]]:
    views = takes.list_takes(session, actor, shot_id)
    selected = takes.selected_take_id(session, actor, shot_id)
    return [_take_json(request, gen, tv, selected) for tv in views]


@router.post(
    "/shots/{shot_id}/takes", summary="Generate a take from the shot's settings -> task id"
)
def generate(
    shot_id: int, body: GenerateIn, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    take = takes.generate_take(
        session, actor, shot_id, gen, model=body.model, seed=body.seed, camera_move=body.camera_move
    )
    return _created(session, take)


@router.post("/shots/{shot_id}/takes/upload", status_code=201, summary="An outside clip as a take")
async def upload(shot_id: int, request: Request, actor: ActorDep, gen: GenDep) -> dict[str, Any]:
    data = await read_body(request, gen.settings.max_upload_bytes, "The clip")

    def store() -> dict[str, Any]:  # probing and writing: off the event loop
        with request.app.state.db.session_scope() as session:
            take = takes.upload_take(session, actor, shot_id, gen, data)
            return {"take": take.id, "number": take.number}

    return await run_in_threadpool(store)


@router.post("/takes/{take_id}/reroll", summary="Same settings, new seed -> task id")
def reroll(take_id: int, actor: ActorDep, session: SessionDep, gen: GenDep) -> dict[str, Any]:
    return _created(session, takes.reroll_take(session, actor, take_id, gen))


@router.post("/takes/{take_id}/vary", summary="Same seed, edited settings -> task id")
def vary(
    take_id: int, body: VaryIn, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    changes = body.model_dump(exclude_none=True)
    return _created(session, takes.vary_take(session, actor, take_id, gen, changes))


@router.post("/takes/{take_id}/extend", summary="image_to_video from the last frame -> task id")
def extend(
    take_id: int, body: ExtendIn, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    return _created(session, takes.extend_take(session, actor, take_id, gen, model=body.model))


@router.post("/takes/{take_id}/select", summary="Circle this take for its shot")
def select_take(take_id: int, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    shot = takes.select_take(session, actor, take_id)
    return {"shot": shot.id, "selected_take_id": shot.selected_take_id, "version": shot.version}


@router.patch("/takes/{take_id}", summary="Favorite or rate a take")
def mark(take_id: int, body: MarkIn, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    take = takes.mark_take(session, actor, take_id, favorite=body.favorite, rating=body.rating)
    return {"id": take.id, "favorite": take.favorite, "rating": take.rating}


class RoughCutIn(Strict):
    title_card: bool = False
    overlay_codes: bool = False


@router.post("/projects/{project_id}/rough_cut", summary="Render the circled takes -> task id")
def rough_cut(
    project_id: int, body: RoughCutIn, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    cut = roughcut.request_rough_cut(
        session,
        actor,
        project_id,
        gen,
        title_card=body.title_card,
        overlay_codes=body.overlay_codes,
    )
    return {"id": takes.task_id_of(session, cut.job_id), "version": cut.number}


@router.get("/projects/{project_id}/rough_cuts", summary="The project's cut versions, newest first")
def rough_cuts(
    project_id: int, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> list[dict[str, Any]]:
    secret = request.app.state.media_secret
    return [
        {
            "version": view.cut.number,
            "options": view.cut.options,
            "task": task_body(jobs.get_job(session, actor, view.public_id), gen, secret),
        }
        for view in roughcut.list_rough_cuts(session, actor, project_id)
    ]
