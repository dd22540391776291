"""Runway-compatible task endpoints, plus studio extras (models, task list).

POST /v1/text_to_video | /v1/image_to_video | /v1/text_to_image -> {"id"}
GET /v1/tasks/{id}, DELETE /v1/tasks/{id}. `X-Runway-Version` is accepted
(and ignored: there is one version). `Idempotency-Key` returns the same task
for the same request, and 409 for a different request under a used key.

What Runway's clients send works unchanged: Runway's model names (aliases in
the registry), `duration` 5 or 10 on every video model, `promptImage` as a
string or a list of `{uri, position}` (first / last frame), Runway's ratio
strings where a model renders the same shape, and `contentModeration`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.api.deps import TransactionRoute, api_actor, db_session
from studio.api.schemas import (
    BODY_ERRORS,
    COMMON_ERRORS,
    ID_MAX,
    Strict,
    TaskIdPath,
    errors,
)
from studio.errors import InvalidInput, NotFound, StudioError
from studio.generation import registry as reg
from studio.generation import runway
from studio.generation import service as jobs
from studio.generation.context import Generation
from studio.generation.registry import weights_available
from studio.media import images
from studio.media.ffmpeg import MediaError

router = APIRouter(route_class=TransactionRoute, tags=["tasks"], responses=COMMON_ERRORS)
ActorDep = Annotated[Actor, Depends(api_actor)]
SessionDep = Annotated[Session, Depends(db_session, scope="function")]
_ASSET_REF = re.compile(r"^(?:asset:)?(\d{1,10})$")
SEED_MAX = jobs.SEED_MAX


class PayloadTooLarge(StudioError):
    status = 413
    code = "payload_too_large"


class PromptImageIn(Strict):
    """One frame of a Runway `promptImage` list."""

    uri: str = Field(description="A data: URI (PNG, JPEG or WebP) or asset:<id> of this workspace")
    position: Literal["first", "last"] = "first"


class ContentModerationIn(Strict):
    """Runway's contentModeration. Accepted and kept with the task; Studio runs no
    moderation model of its own (the workspace's people are responsible)."""

    publicFigureThreshold: Literal["auto", "low"] = "auto"


class TaskIn(Strict):
    model: str | None = Field(
        default=None,
        max_length=80,
        description="A model id or a Runway model name (gen4_turbo, ...); see GET /v1/models",
    )
    promptText: str | None = Field(default=None, max_length=10_000)
    promptImage: str | Annotated[list[PromptImageIn], Field(max_length=2)] | None = Field(
        default=None,
        description="A data: URI or asset:<id>; or [{uri, position: first|last}] "
        "(a last frame only for models with lastFrame). URLs are never fetched.",
    )
    ratio: str | None = Field(
        default=None,
        max_length=20,
        description="e.g. 1280:720; a ratio of the same shape as a model's renders at its size",
    )
    duration: int | None = Field(
        default=None,
        description=f"Whole seconds, {reg.DURATION_MIN} to {reg.DURATION_MAX}; a model "
        "without that exact length renders its nearest frame count, and the task's "
        "studio.durationNote says so",
    )
    seed: int | None = Field(default=None, description=f"0 to {SEED_MAX}")
    contentModeration: ContentModerationIn | None = None
    # Studio extras, refused for models that do not support them.
    negativePrompt: str | None = Field(default=None, max_length=2000)
    cameraMove: str | None = Field(default=None, max_length=20)
    motionStrength: float | None = Field(default=None, description="0 to 1")


class TaskId(BaseModel):
    id: str


class TaskStudioOut(BaseModel):
    """Studio's extras on a task (after Runway's fields)."""

    model_config = ConfigDict(extra="allow")

    model: str
    mode: str
    seed: int | None = None
    ratio: str | None = None
    duration: int | None = None
    durationNote: str | None = None
    requestedModel: str | None = None
    queuePosition: int | None = None
    attempts: int
    poster: str | None = None
    expiresInSeconds: int


class TaskOut(BaseModel):
    """Runway's task shape. Optional fields are left out when they do not apply."""

    id: str
    status: Literal["PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]
    createdAt: str
    progress: float | None = None
    output: list[str] | None = Field(default=None, description="Signed, expiring URLs")
    failure: str | None = None
    failureCode: str | None = None
    studio: TaskStudioOut


class TaskList(BaseModel):
    tasks: list[TaskOut]


class ModelOut(BaseModel):
    id: str
    name: str
    modes: list[str]
    ratios: list[str]
    durations: list[int] = Field(description="Whole seconds this model takes")
    nativeDurations: list[int] = Field(description="Durations rendered at exactly that length")
    negativePrompt: bool
    seed: bool
    cameraMove: str
    motionStrength: bool
    lastFrame: bool
    aliases: list[str]
    available: bool


class AliasOut(BaseModel):
    id: str = Field(description="A Runway model name, e.g. gen4_turbo")
    models: list[str] = Field(description="The models it maps to, in order of preference")
    resolves: dict[str, str] = Field(description="mode -> the model it uses here now")


class ModelsOut(BaseModel):
    models: list[ModelOut]
    aliases: list[AliasOut]


def generation(request: Request) -> Generation:
    gen: Generation = request.app.state.generation
    return gen


GenDep = Annotated[Generation, Depends(generation)]


def body_limit(request: Request) -> None:
    """Refuse oversized bodies from Content-Length, before reading them."""
    gen = generation(request)
    limit = gen.settings.max_upload_bytes * 4 // 3 + 64 * 1024  # base64 + JSON overhead
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(
            f"The request is {int(length) / 1e6:.1f} MB; images are limited to "
            f"{gen.settings.max_upload_bytes / 1e6:.0f} MB."
        )


def _reference(value: str | None, gen: Generation) -> jobs.Reference | None:
    if value is None or value == "":
        return None
    text = value.strip()
    match = _ASSET_REF.match(text)
    if match:
        asset_id = int(match.group(1))
        if not 1 <= asset_id <= ID_MAX:
            raise NotFound("No such image in this workspace.", code="asset_not_found")
        return jobs.Reference(asset_id=asset_id)
    if text.startswith(("http://", "https://")):
        raise InvalidInput(
            "promptImage URLs are not fetched (a studio never downloads what a request "
            "names): send a data: URI, or upload the image and send asset:<id>.",
            code="invalid_image",
        )
    try:
        data = images.decode_data_uri(text, max_bytes=gen.settings.max_upload_bytes)
        image = images.load_image(
            data, max_bytes=gen.settings.max_upload_bytes, max_pixels=gen.settings.max_image_pixels
        )
    except MediaError as exc:
        raise InvalidInput(str(exc), code="invalid_image") from None
    return jobs.Reference(image=image)


def _frames(
    value: str | list[PromptImageIn] | None, gen: Generation
) -> tuple[jobs.Reference | None, jobs.Reference | None]:
    """(first, last) from Runway's promptImage: a string, or [{uri, position}]."""
    if not isinstance(value, list):
        return _reference(value, gen), None
    positions = [item.position for item in value]
    if len(set(positions)) != len(positions):
        raise InvalidInput(
            "promptImage lists each position (first, last) at most once.", code="invalid_image"
        )
    by_position = {item.position: item.uri for item in value}
    if "last" in by_position and "first" not in by_position:
        raise InvalidInput(
            "promptImage needs a 'first' frame; a 'last' frame goes with it.",
            code="image_required",
        )
    return _reference(by_position.get("first"), gen), _reference(by_position.get("last"), gen)


def _create(
    mode: str,
    body: TaskIn,
    actor: Actor,
    session: Session,
    gen: Generation,
    idempotency_key: str | None,
) -> TaskId:
    assert actor.workspace_scope is not None  # API keys always have one
    first, last = _frames(body.promptImage, gen)
    submission = jobs.Submission(
        mode=mode,
        prompt=body.promptText or "",
        model=body.model,
        ratio=body.ratio,
        duration=body.duration,
        seed=body.seed,
        negative_prompt=body.negativePrompt,
        camera_move=body.cameraMove,
        motion_strength=body.motionStrength,
        reference=first,
        last_frame=last,
        idempotency_key=idempotency_key,
        content_moderation=(
            body.contentModeration.model_dump() if body.contentModeration is not None else None
        ),
    )
    job, _ = jobs.submit_job(
        session,
        actor,
        workspace_id=actor.workspace_scope,
        request=submission,
        registry=gen.registry,
        storage=gen.storage,
        dispatcher=gen.dispatcher,
        max_attempts=gen.settings.job_max_attempts,
    )
    return TaskId(id=job.public_id)


IdemHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="The same key and request return the same task; another request: 409",
    ),
]
RunwayVersion = Annotated[
    str | None, Header(alias="X-Runway-Version", max_length=40, description="Accepted, ignored")
]


def _add_create_route(mode: str) -> None:
    """POST /v1/<mode>: Runway's create-task endpoint for one generation mode."""

    def create(
        body: TaskIn,
        actor: ActorDep,
        session: SessionDep,
        gen: GenDep,
        idempotency_key: IdemHeader = None,
        _v: RunwayVersion = None,
    ) -> TaskId:
        return _create(mode, body, actor, session, gen, idempotency_key)

    router.add_api_route(
        f"/{mode}",
        create,
        methods=["POST"],
        response_model=TaskId,
        dependencies=[Depends(body_limit)],
        name=mode,
        summary=f"Create a {mode.replace('_', ' ')} task (Runway-compatible) -> task id",
        responses={**BODY_ERRORS, **errors(413)},
    )


for _mode in ("text_to_video", "image_to_video", "text_to_image"):
    _add_create_route(_mode)


def task_body(view: jobs.JobView, gen: Generation, secret: str) -> dict[str, Any]:
    return runway.task_json(
        view,
        base_url=gen.settings.base_url,
        secret=secret,
        ttl_seconds=gen.settings.media_url_ttl_seconds,
    )


def task_out(view: jobs.JobView, gen: Generation, secret: str) -> TaskOut:
    return TaskOut.model_validate(task_body(view, gen, secret))


@router.get(
    "/tasks/{task_id}",
    response_model=TaskOut,
    response_model_exclude_unset=True,
    summary="A task, with fresh signed output URLs",
)
def get_task(
    task_id: TaskIdPath, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> TaskOut:
    return task_out(jobs.get_job(session, actor, task_id), gen, request.app.state.media_secret)


@router.delete(
    "/tasks/{task_id}",
    status_code=204,
    summary="Cancel an active task, or delete a finished one",
)
def delete_task(task_id: TaskIdPath, actor: ActorDep, session: SessionDep) -> Response:
    jobs.delete_job(session, actor, task_id)
    return Response(status_code=204)


@router.get(
    "/tasks",
    response_model=TaskList,
    response_model_exclude_unset=True,
    summary="Studio extra: this workspace's recent tasks",
)
def list_tasks(
    request: Request, actor: ActorDep, session: SessionDep, gen: GenDep, active: bool | None = None
) -> TaskList:
    assert actor.workspace_scope is not None
    views = jobs.list_jobs(session, actor, actor.workspace_scope, active=active)
    secret = request.app.state.media_secret
    return TaskList(tasks=[task_out(v, gen, secret) for v in views])


@router.get("/models", response_model=ModelsOut, summary="Studio extra: models and aliases")
def list_models(actor: ActorDep, gen: GenDep) -> ModelsOut:
    registry = gen.registry
    models = []
    for spec in registry.all():
        video = any(m != "text_to_image" for m in spec.modes)
        models.append(
            ModelOut(
                id=spec.key,
                name=spec.name,
                modes=list(spec.modes),
                ratios=list(spec.ratios),
                durations=list(range(reg.DURATION_MIN, reg.DURATION_MAX + 1)) if video else [],
                nativeDurations=sorted(spec.durations),
                negativePrompt=spec.negative_prompt,
                seed=spec.seed,
                cameraMove=spec.camera_move,
                motionStrength=spec.motion_strength,
                lastFrame=spec.last_frame,
                aliases=registry.aliases_of(spec.key),
                available=weights_available(spec),
            )
        )
    aliases = []
    for alias, keys in sorted(registry.aliases.items()):
        resolves = {}
        for mode in reg.MODES:
            if any(registry.get(k).supports(mode) for k in keys):
                resolves[mode] = registry.resolve_alias(alias, mode).key
        aliases.append(AliasOut(id=alias, models=list(keys), resolves=resolves))
    return ModelsOut(models=models, aliases=aliases)
