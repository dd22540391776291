"""/v1/projects and /v1/shots: projects and their shot lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.api.deps import TransactionRoute, api_actor, db_session
from studio.api.schemas import (
    BODY_ERRORS,
    COMMON_ERRORS,
    Id,
    IdPath,
    Int,
    Strict,
    errors,
    raw_body,
)
from studio.api.tasks import GenDep
from studio.api.uploads import read_body
from studio.errors import StudioError
from studio.projects import csvio, references
from studio.projects import service as projects
from studio.projects.models import Project, Shot, ShotStatus

router = APIRouter(route_class=TransactionRoute, tags=["projects"], responses=COMMON_ERRORS)
CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
ActorDep = Annotated[Actor, Depends(api_actor)]
SessionDep = Annotated[Session, Depends(db_session, scope="function")]


class PreconditionRequired(StudioError):
    status = 428
    code = "version_required"


class ProjectIn(Strict):
    title: str = Field(max_length=400)
    logline: str = Field(default="", max_length=5000)
    default_ratio: str = Field(default="1280:720", max_length=20)
    default_fps: Int = Field(default=24, description="12, 16, 24, 25, 30, 48, 50 or 60")


class ProjectPatch(Strict):
    title: str | None = Field(default=None, max_length=400)
    logline: str | None = Field(default=None, max_length=5000)
    default_ratio: str | None = Field(default=None, max_length=20)
    default_fps: Int | None = None


class ProjectOut(BaseModel):
    id: int
    title: str
    logline: str
    default_ratio: str
    default_fps: int
    archived: bool


class ShotIn(Strict):
    scene: Int | None = Field(default=None, description="Scene number, 1 to 99")
    description: str | None = Field(default=None, max_length=5000)
    dialogue: str | None = Field(default=None, max_length=5000)
    camera_notes: str | None = Field(default=None, max_length=5000)
    prompt: str | None = Field(default=None, max_length=5000)
    negative_prompt: str | None = Field(default=None, max_length=5000)
    target_duration: float | None = Field(default=None, description="Seconds, up to 600")
    ratio: str | None = Field(default=None, max_length=20)
    status: ShotStatus | None = None
    assignee: str | None = Field(default=None, max_length=400)

    def values(self) -> projects.ShotFields:
        data = self.model_dump(exclude={"scene", "assignee"}, mode="json")
        return projects.ShotFields(**data, assignee_email=self.assignee)


class ShotPatch(ShotIn):
    scene: None = None  # moving between scenes keeps the code; reorder instead


class ShotOut(BaseModel):
    id: int
    code: str
    scene: int
    position: int
    description: str
    dialogue: str
    camera_notes: str
    prompt: str
    negative_prompt: str
    target_duration: float | None
    ratio: str | None
    status: str
    assignee_user_id: int | None
    reference_asset_id: int | None
    version: int
    deleted: bool


class ReorderIn(Strict):
    order: list[Id] = Field(max_length=5000, description="Every shot id, in the new order")


class ImportOut(BaseModel):
    created: int
    updated: int


def _project(project: Project) -> ProjectOut:
    return ProjectOut(
        id=project.id,
        title=project.title,
        logline=project.logline,
        default_ratio=project.default_ratio,
        default_fps=project.default_fps,
        archived=project.archived_at is not None,
    )


def _shot(session: Session, shot: Shot) -> ShotOut:
    return ShotOut(
        id=shot.id,
        code=shot.code,
        scene=projects.scene_number_of(session, shot),
        position=shot.position,
        description=shot.description,
        dialogue=shot.dialogue,
        camera_notes=shot.camera_notes,
        prompt=shot.prompt,
        negative_prompt=shot.negative_prompt,
        target_duration=shot.target_duration,
        ratio=shot.ratio,
        status=shot.status.value,
        assignee_user_id=shot.assignee_user_id,
        reference_asset_id=shot.reference_asset_id,
        version=shot.version,
        deleted=shot.deleted_at is not None,
    )


def _workspace(actor: Actor) -> int:
    assert actor.workspace_scope is not None  # API keys always have one
    return actor.workspace_scope


@router.get("/projects", response_model=list[ProjectOut])
def list_projects(actor: ActorDep, session: SessionDep, archived: bool = False) -> list[ProjectOut]:
    return [
        _project(p)
        for p in projects.list_projects(session, actor, _workspace(actor), archived=archived)
    ]


@router.post("/projects", response_model=ProjectOut, status_code=201, responses=BODY_ERRORS)
def create_project(body: ProjectIn, actor: ActorDep, session: SessionDep) -> ProjectOut:
    project = projects.create_project(
        session, actor, workspace_id=_workspace(actor), **body.model_dump()
    )
    return _project(project)


@router.get("/projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: IdPath, actor: ActorDep, session: SessionDep) -> ProjectOut:
    return _project(projects.get_project(session, actor, project_id))


@router.patch("/projects/{project_id}", response_model=ProjectOut, responses=BODY_ERRORS)
def patch_project(
    project_id: IdPath, body: ProjectPatch, actor: ActorDep, session: SessionDep
) -> ProjectOut:
    return _project(projects.update_project(session, actor, project_id, **body.model_dump()))


@router.post("/projects/{project_id}/archive", response_model=ProjectOut)
def archive_project(project_id: IdPath, actor: ActorDep, session: SessionDep) -> ProjectOut:
    return _project(projects.set_archived(session, actor, project_id, True))


@router.post("/projects/{project_id}/restore", response_model=ProjectOut)
def restore_project(project_id: IdPath, actor: ActorDep, session: SessionDep) -> ProjectOut:
    return _project(projects.set_archived(session, actor, project_id, False))


@router.get("/projects/{project_id}/shots", response_model=list[ShotOut])
def list_shots(
    project_id: IdPath,
    actor: ActorDep,
    session: SessionDep,
    status: ShotStatus | None = None,
    deleted: bool = False,
) -> list[ShotOut]:
    shots = projects.list_shots(
        session, actor, project_id, status=status.value if status else None, deleted=deleted
    )
    return [_shot(session, s) for s in shots]


@router.post(
    "/projects/{project_id}/shots", response_model=ShotOut, status_code=201, responses=BODY_ERRORS
)
def create_shot(project_id: IdPath, body: ShotIn, actor: ActorDep, session: SessionDep) -> ShotOut:
    shot = projects.add_shot(session, actor, project_id, body.values(), scene_number=body.scene)
    return _shot(session, shot)


@router.post(
    "/projects/{project_id}/shots/reorder", response_model=list[ShotOut], responses=BODY_ERRORS
)
def reorder_shots(
    project_id: IdPath, body: ReorderIn, actor: ActorDep, session: SessionDep
) -> list[ShotOut]:
    return [
        _shot(session, s) for s in projects.reorder_shots(session, actor, project_id, body.order)
    ]


@router.get(
    "/projects/{project_id}/shots.csv",
    summary="Export the shot list as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_csv(project_id: IdPath, actor: ActorDep, session: SessionDep) -> Response:
    text = csvio.export_csv(session, actor, project_id)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="project-{project_id}-shots.csv"'},
    )


@router.post(
    "/projects/{project_id}/shots.csv",
    response_model=ImportOut,
    summary="Import shots from CSV (all or nothing)",
    openapi_extra=raw_body(CSV_TYPES),
    responses=errors(400, 409, 413, 415),
)
async def import_csv(project_id: IdPath, request: Request, actor: ActorDep) -> ImportOut:
    data = await read_body(request, csvio.MAX_BYTES, "The CSV", accept=CSV_TYPES)

    def apply() -> ImportOut:
        with request.app.state.db.session_scope() as session:
            result = csvio.import_csv(session, actor, project_id, data)
        return ImportOut(created=result.created, updated=result.updated)

    return await run_in_threadpool(apply)


@router.get("/shots/{shot_id}", response_model=ShotOut)
def get_shot(shot_id: IdPath, actor: ActorDep, session: SessionDep, response: Response) -> ShotOut:
    shot = projects.get_shot(session, actor, shot_id)
    response.headers["ETag"] = f'"{shot.version}"'
    return _shot(session, shot)


@router.patch("/shots/{shot_id}", response_model=ShotOut, responses=errors(400, 409, 428))
def patch_shot(
    shot_id: IdPath,
    body: ShotPatch,
    actor: ActorDep,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match", max_length=40)] = None,
) -> ShotOut:
    shot = projects.update_shot(
        session, actor, shot_id, body.values(), expected_version=_if_match(if_match)
    )
    response.headers["ETag"] = f'"{shot.version}"'
    return _shot(session, shot)


def _if_match(header: str | None) -> int:
    version = (header or "").strip().strip('"').removeprefix("W/").strip('"')
    if not version.isdigit():
        raise PreconditionRequired(
            "Send the shot's version as If-Match (from GET /v1/shots/{id}), so edits by "
            "others are never overwritten."
        )
    return int(version)


IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=40)]


@router.put(
    "/shots/{shot_id}/reference",
    response_model=ShotOut,
    summary="Set the shot's reference image (PNG, JPEG or WebP as the body)",
    openapi_extra=raw_body(IMAGE_TYPES),
    responses=errors(400, 409, 413, 415, 428),
)
async def put_reference(
    shot_id: IdPath,
    request: Request,
    actor: ActorDep,
    gen: GenDep,
    response: Response,
    if_match: IfMatch = None,
) -> ShotOut:
    expected = _if_match(if_match)
    data = await read_body(request, gen.settings.max_upload_bytes, "The image", accept=IMAGE_TYPES)

    def store() -> ShotOut:  # decoding and writing: off the event loop
        with request.app.state.db.session_scope() as session:
            shot = references.set_reference_image(
                session, actor, shot_id, gen, data, expected_version=expected
            )
            response.headers["ETag"] = f'"{shot.version}"'
            return _shot(session, shot)

    return await run_in_threadpool(store)


@router.delete("/shots/{shot_id}/reference", response_model=ShotOut, responses=errors(409, 428))
def delete_reference(
    shot_id: IdPath,
    actor: ActorDep,
    session: SessionDep,
    gen: GenDep,
    response: Response,
    if_match: IfMatch = None,
) -> ShotOut:
    shot = references.set_reference_image(
        session, actor, shot_id, gen, None, expected_version=_if_match(if_match)
    )
    response.headers["ETag"] = f'"{shot.version}"'
    return _shot(session, shot)


@router.delete("/shots/{shot_id}", status_code=204, summary="Delete (recoverable)")
def delete_shot(shot_id: IdPath, actor: ActorDep, session: SessionDep) -> Response:
    projects.delete_shot(session, actor, shot_id)
    return Response(status_code=204)


@router.post("/shots/{shot_id}/restore", response_model=ShotOut)
def restore_shot(shot_id: IdPath, actor: ActorDep, session: SessionDep) -> ShotOut:
    return _shot(session, projects.restore_shot(session, actor, shot_id))


@router.post("/shots/{shot_id}/duplicate", response_model=ShotOut, status_code=201)
def duplicate_shot(shot_id: IdPath, actor: ActorDep, session: SessionDep) -> ShotOut:
    return _shot(session, projects.duplicate_shot(session, actor, shot_id))
