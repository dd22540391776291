"""Runway-compatible task endpoints, plus studio extras (models, task list).

POST /v1/text_to_video | /v1/image_to_video | /v1/text_to_image -> {"id"}
GET /v1/tasks/{id}, DELETE /v1/tasks/{id}. `X-Runway-Version` is accepted
(and ignored: there is one version). `Idempotency-Key` returns the same task.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import Field
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.api.deps import TransactionRoute, api_actor, db_session
from studio.api.schemas import Strict
from studio.errors import InvalidInput, StudioError
from studio.generation import runway
from studio.generation import service as jobs
from studio.generation.context import Generation
from studio.generation.registry import weights_available
from studio.media import images
from studio.media.ffmpeg import MediaError

router = APIRouter(route_class=TransactionRoute)
ActorDep = Annotated[Actor, Depends(api_actor)]
SessionDep = Annotated[Session, Depends(db_session, scope="function")]
_ASSET_REF = re.compile(r"^(?:asset:)?(\d{1,12})$")


class PayloadTooLarge(StudioError):
    status = 413
    code = "payload_too_large"


class TaskIn(Strict):
    model: str | None = Field(default=None, max_length=80)
    promptText: str | None = Field(default=None, max_length=10_000)
    promptImage: str | None = None
    ratio: str | None = Field(default=None, max_length=20)
    duration: int | None = None
    seed: int | None = None
    # Studio extras, refused for models that do not support them.
    negativePrompt: str | None = Field(default=None, max_length=2000)
    cameraMove: str | None = Field(default=None, max_length=20)
    motionStrength: float | None = None


class TaskId(Strict):
    id: str


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
        return jobs.Reference(asset_id=int(match.group(1)))
    try:
        data = images.decode_data_uri(text, max_bytes=gen.settings.max_upload_bytes)
        image = images.load_image(
            data, max_bytes=gen.settings.max_upload_bytes, max_pixels=gen.settings.max_image_pixels
        )
    except MediaError as exc:
        raise InvalidInput(str(exc), code="invalid_image") from None
    return jobs.Reference(image=image)


def _create(
    mode: str,
    body: TaskIn,
    actor: Actor,
    session: Session,
    gen: Generation,
    idempotency_key: str | None,
) -> TaskId:
    assert actor.workspace_scope is not None  # API keys always have one
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
        reference=_reference(body.promptImage, gen),
        idempotency_key=idempotency_key,
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


IdemHeader = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
RunwayVersion = Annotated[str | None, Header(alias="X-Runway-Version")]


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


@router.get("/tasks/{task_id}", summary="A task, with fresh signed output URLs")
def get_task(
    task_id: str, request: Request, actor: ActorDep, session: SessionDep, gen: GenDep
) -> dict[str, Any]:
    return task_body(jobs.get_job(session, actor, task_id), gen, request.app.state.media_secret)


@router.delete(
    "/tasks/{task_id}", status_code=204, summary="Cancel an active task, or delete a finished one"
)
def delete_task(task_id: str, actor: ActorDep, session: SessionDep) -> Response:
    jobs.delete_job(session, actor, task_id)
    return Response(status_code=204)


@router.get("/tasks", summary="Studio extra: this workspace's recent tasks")
def list_tasks(
    request: Request, actor: ActorDep, session: SessionDep, gen: GenDep, active: bool | None = None
) -> dict[str, Any]:
    assert actor.workspace_scope is not None
    views = jobs.list_jobs(session, actor, actor.workspace_scope, active=active)
    secret = request.app.state.media_secret
    return {"tasks": [task_body(v, gen, secret) for v in views]}


@router.get("/models", summary="Studio extra: the models and what each supports")
def list_models(actor: ActorDep, gen: GenDep) -> dict[str, Any]:
    return {
        "models": [
            {
                "id": spec.key,
                "name": spec.name,
                "modes": list(spec.modes),
                "ratios": list(spec.ratios),
                "durations": sorted(spec.durations),
                "negativePrompt": spec.negative_prompt,
                "seed": spec.seed,
                "cameraMove": spec.camera_move,
                "motionStrength": spec.motion_strength,
                "available": weights_available(spec),
            }
            for spec in gen.registry.all()
        ]
    }
