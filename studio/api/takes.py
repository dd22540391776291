"""/v1/shots/{id}/takes and /v1/takes/{id}: generate, re-roll, vary, extend,
upload, circle, favorite and rate takes; /v1/projects/{id}/rough_cut(s)."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.api.deps import TransactionRoute, api_actor, db_session
from studio.api.schemas import BODY_ERRORS, COMMON_ERRORS, IdPath, Strict, errors, raw_body
from studio.api.tasks import SEED_MAX, GenDep, TaskOut, task_out
from studio.api.uploads import read_body
from studio.generation import registry as reg
from studio.generation import service as jobs
from studio.media import signing
from studio.projects import roughcut, sounds, takes
from studio.projects.models import Take

router = APIRouter(route_class=TransactionRoute, tags=["takes"], responses=COMMON_ERRORS)
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm", "video/x-matroska")
SOUND_TYPES = ("audio/*", "video/mp4", "video/webm")
ActorDep = Annotated[Actor, Depends(api_actor)]
SessionDep = Annotated[Session, Depends(db_session, scope="function")]


class GenerateIn(Strict):
    model: str | None = Field(default=None, max_length=80)
    seed: int | None = Field(default=None, description=f"0 to {SEED_MAX}")
    camera_move: str | None = Field(default=None, max_length=20)
    sound_asset_id: int | None = Field(
        default=None,
        ge=1,
        le=2**62,
        description="A sound file (POST /v1/projects/{id}/sounds) under the clip: the animatic",
    )


class VaryIn(Strict):
    prompt: str | None = Field(default=None, max_length=5000)
    negative_prompt: str | None = Field(default=None, max_length=5000)
    ratio: str | None = Field(default=None, max_length=20)
    duration: int | None = Field(
        default=None, description=f"Whole seconds, {reg.DURATION_MIN} to {reg.DURATION_MAX}"
    )
    camera_move: str | None = Field(default=None, max_length=20)
    model: str | None = Field(default=None, max_length=80)
    motion_strength: float | None = Field(default=None, description="0 to 1")


class ExtendIn(Strict):
    model: str | None = Field(default=None, max_length=80)


class RestyleIn(Strict):
    prompt: str = Field(min_length=1, max_length=5000, description="What the take becomes")
    model: str | None = Field(
        default=None, max_length=80, description="A model with video_to_video; default: the first"
    )
    strength: float | None = Field(
        default=None, description="0.1 to 1: how far from the source (default 0.7)"
    )
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)


class MarkIn(Strict):
    favorite: bool | None = None
    rating: int | None = Field(default=None, description="1 to 5; 0 clears it")


class TakeTaskOut(BaseModel):
    id: str = Field(description="The task id (GET /v1/tasks/{id})")
    take: int
    number: int


class UploadedTakeOut(BaseModel):
    take: int
    number: int


class TakeOut(BaseModel):
    id: int
    number: int
    shot: str = Field(description="The shot's code")
    lineage: str | None
    parent_take_id: int | None
    uploaded: bool
    favorite: bool
    rating: int | None
    selected: bool
    output: str | None = Field(description="Signed, expiring URL")
    sound: bool | None = Field(description="Whether the take has a sound track (null: unknown)")
    poster: str | None = Field(
        default=None, description="Signed, expiring URL of its JPEG poster (null: none)"
    )
    task: TaskOut | None


class SelectedOut(BaseModel):
    shot: int
    selected_take_id: int | None
    version: int


class MarkOut(BaseModel):
    id: int
    favorite: bool
    rating: int | None


class SoundOut(BaseModel):
    asset: int = Field(description="Use as music_asset_id (rough cut) or sound_asset_id (animatic)")
    seconds: float
    format: str


class RoughCutTaskOut(BaseModel):
    id: str
    version: int


class RoughCutOut(BaseModel):
    version: int
    options: dict[str, bool]
    task: TaskOut


def _created(session: Session, take: Take) -> TakeTaskOut:
    return TakeTaskOut(id=takes.task_id_of(session, take.job_id), take=take.id, number=take.number)


def _take_json(request: Request, gen: Any, tv: takes.TakeView, selected: int | None) -> TakeOut:
    secret = request.app.state.media_secret

    def url(asset_id: int | None) -> str | None:
        if asset_id is None:
            return None
        path = signing.signed_path(
            asset_id, secret, now=time.time(), ttl_seconds=gen.settings.media_url_ttl_seconds
        )
        return str(gen.settings.base_url.rstrip("/") + path)

    take = tv.take
    return TakeOut(
        id=take.id,
        number=take.number,
        shot=tv.shot_code,
        lineage=take.lineage.value if take.lineage else None,
        parent_take_id=take.parent_take_id,
        uploaded=take.upload_asset_id is not None,
        favorite=take.favorite,
        rating=take.rating,
        selected=take.id == selected,
        output=url(tv.output_asset_id),
        sound=tv.has_audio,
        poster=url(tv.poster_asset_id),
        task=task_out(tv.job, gen, secret) if tv.job else None,
    )


@router.get(
    "/shots/{shot_id}/takes",
    response_model=list[TakeOut],
    response_model_exclude_unset=True,
    summary="A shot's takes, newest first",
)
def list_takes(
    shot_id: IdPath, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> list[TakeOut]:
    views = takes.list_takes(session, actor, shot_id)
    selected = takes.selected_take_id(session, actor, shot_id)
    return [_take_json(request, gen, tv, selected) for tv in views]


@router.post(
    "/shots/{shot_id}/takes",
    response_model=TakeTaskOut,
    summary="Generate a take from the shot's settings -> task id",
    responses=BODY_ERRORS,
)
def generate(
    shot_id: IdPath, body: GenerateIn, actor: ActorDep, session: SessionDep, gen: GenDep
) -> TakeTaskOut:
    take = takes.generate_take(
        session,
        actor,
        shot_id,
        gen,
        model=body.model,
        seed=body.seed,
        camera_move=body.camera_move,
        sound_asset_id=body.sound_asset_id,
    )
    return _created(session, take)


@router.post(
    "/shots/{shot_id}/takes/upload",
    status_code=201,
    response_model=UploadedTakeOut,
    summary="An outside clip as a take (the video file as the body)",
    openapi_extra=raw_body(VIDEO_TYPES),
    responses=errors(400, 413, 415),
)
async def upload(
    shot_id: IdPath, request: Request, actor: ActorDep, gen: GenDep
) -> UploadedTakeOut:
    data = await read_body(request, gen.settings.max_upload_bytes, "The clip", accept=VIDEO_TYPES)

    def store() -> UploadedTakeOut:  # probing and writing: off the event loop
        with request.app.state.db.session_scope() as session:
            take = takes.upload_take(session, actor, shot_id, gen, data)
            return UploadedTakeOut(take=take.id, number=take.number)

    return await run_in_threadpool(store)


@router.post(
    "/takes/{take_id}/reroll",
    response_model=TakeTaskOut,
    summary="Same settings, new seed -> task id",
    responses=errors(409),
)
def reroll(take_id: IdPath, actor: ActorDep, session: SessionDep, gen: GenDep) -> TakeTaskOut:
    return _created(session, takes.reroll_take(session, actor, take_id, gen))


@router.post(
    "/takes/{take_id}/vary",
    response_model=TakeTaskOut,
    summary="Same seed, edited settings -> task id",
    responses=BODY_ERRORS,
)
def vary(
    take_id: IdPath, body: VaryIn, actor: ActorDep, session: SessionDep, gen: GenDep
) -> TakeTaskOut:
    changes = body.model_dump(exclude_none=True)
    return _created(session, takes.vary_take(session, actor, take_id, gen, changes))


@router.post(
    "/takes/{take_id}/extend",
    response_model=TakeTaskOut,
    summary="image_to_video from the last frame -> task id",
    responses=BODY_ERRORS,
)
def extend(
    take_id: IdPath, body: ExtendIn, actor: ActorDep, session: SessionDep, gen: GenDep
) -> TakeTaskOut:
    return _created(session, takes.extend_take(session, actor, take_id, gen, model=body.model))


@router.post(
    "/takes/{take_id}/restyle",
    response_model=TakeTaskOut,
    summary="video_to_video over this take under a new prompt -> task id",
    responses=BODY_ERRORS,
)
def restyle(
    take_id: IdPath, body: RestyleIn, actor: ActorDep, session: SessionDep, gen: GenDep
) -> TakeTaskOut:
    take = takes.restyle_take(
        session,
        actor,
        take_id,
        gen,
        prompt=body.prompt,
        model=body.model,
        strength=body.strength,
        seed=body.seed,
    )
    return _created(session, take)


@router.post(
    "/takes/{take_id}/select", response_model=SelectedOut, summary="Circle this take for its shot"
)
def select_take(take_id: IdPath, actor: ActorDep, session: SessionDep) -> SelectedOut:
    shot = takes.select_take(session, actor, take_id)
    return SelectedOut(shot=shot.id, selected_take_id=shot.selected_take_id, version=shot.version)


@router.patch(
    "/takes/{take_id}",
    response_model=MarkOut,
    summary="Favorite or rate a take",
    responses=BODY_ERRORS,
)
def mark(take_id: IdPath, body: MarkIn, actor: ActorDep, session: SessionDep) -> MarkOut:
    take = takes.mark_take(session, actor, take_id, favorite=body.favorite, rating=body.rating)
    return MarkOut(id=take.id, favorite=take.favorite, rating=take.rating)


class RoughCutIn(Strict):
    title_card: bool = False
    overlay_codes: bool = False
    # Shots without a circled take: "refuse" names them and queues nothing;
    # "slate" fills each with a slate card of the shot's target length.
    missing: Literal["refuse", "slate"] = "refuse"
    # One sound file (POST /v1/projects/{id}/sounds) laid under the whole cut, at a level
    # in dB (-60 to 12) or in percent (0 to 100); -12 dB when neither is given.
    music_asset_id: int | None = Field(default=None, ge=1, le=2**62)
    music_level_db: float | None = Field(default=None, ge=-60, le=12)
    music_level_percent: float | None = Field(default=None, ge=0, le=100)


@router.post(
    "/projects/{project_id}/rough_cut",
    response_model=RoughCutTaskOut,
    summary="Render the circled takes -> task id",
    responses=BODY_ERRORS,
)
def rough_cut(
    project_id: IdPath, body: RoughCutIn, actor: ActorDep, session: SessionDep, gen: GenDep
) -> RoughCutTaskOut:
    cut = roughcut.request_rough_cut(
        session,
        actor,
        project_id,
        gen,
        title_card=body.title_card,
        overlay_codes=body.overlay_codes,
        missing=body.missing,
        music_asset_id=body.music_asset_id,
        music_level_db=body.music_level_db,
        music_level_percent=body.music_level_percent,
    )
    return RoughCutTaskOut(id=takes.task_id_of(session, cut.job_id), version=cut.number)


@router.get(
    "/projects/{project_id}/rough_cuts",
    response_model=list[RoughCutOut],
    response_model_exclude_unset=True,
    summary="The project's cut versions, newest first",
)
def rough_cuts(
    project_id: IdPath, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> list[RoughCutOut]:
    secret = request.app.state.media_secret
    return [
        RoughCutOut(
            version=view.cut.number,
            options={k: bool(v) for k, v in view.cut.options.items()},
            task=task_out(jobs.get_job(session, actor, view.public_id), gen, secret),
        )
        for view in roughcut.list_rough_cuts(session, actor, project_id)
    ]


@router.post(
    "/projects/{project_id}/sounds",
    status_code=201,
    response_model=SoundOut,
    summary="A sound file (voice-over, music) for the project (the file as the body)",
    openapi_extra=raw_body(SOUND_TYPES),
    responses=errors(400, 413, 415),
)
async def upload_sound(
    project_id: IdPath, request: Request, actor: ActorDep, gen: GenDep
) -> SoundOut:
    data = await read_body(
        request, gen.settings.max_upload_bytes, "The sound file", accept=SOUND_TYPES
    )

    def store() -> SoundOut:  # probing and writing: off the event loop
        with request.app.state.db.session_scope() as session:
            asset = sounds.upload_sound(session, actor, project_id, gen, data)
            return SoundOut(asset=asset.id, seconds=asset.duration or 0.0, format=asset.codec or "")

    return await run_in_threadpool(store)
