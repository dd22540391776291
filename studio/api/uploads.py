"""Uploads: raw bodies read without trusting the client about their size, and
the direct-upload API (/v1/uploads: the bytes go to the media store, never here).

Content-Type is checked first: a body declared as something this endpoint
does not take (JSON, a form, another kind of file) is refused with 415; no
Content-Type, or application/octet-stream, leaves it to the file checks.
Content-Length is checked next (cheap refusal), but a chunked body has
none, so the stream is counted as it arrives and refused the moment it
passes the limit: a request never makes the server hold more than `limit`
bytes.
"""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.api.arrival import received_at
from studio.api.deps import TransactionRoute, db_session
from studio.api.schemas import BODY_ERRORS, COMMON_ERRORS, Strict, errors
from studio.auth.sessions import resolve_actor
from studio.errors import InvalidInput, NotAuthenticated, StudioError
from studio.jams.clock import arrival_clock
from studio.media.storage import Storage
from studio.uploads import finish
from studio.uploads import service as uploads
from studio.uploads.models import Upload


class PayloadTooLarge(StudioError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(StudioError):
    status = 415
    code = "unsupported_media_type"


def check_content_type(request: Request, accept: tuple[str, ...], what: str) -> None:
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not declared or declared == "application/octet-stream":
        return
    if declared in accept or any(a.endswith("/*") and declared.startswith(a[:-1]) for a in accept):
        return
    raise UnsupportedMediaType(
        f"{what} was sent as {declared}; send the file itself as the body, with "
        f"Content-Type {', '.join(accept)} or application/octet-stream."
    )


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):.0f} MB"


async def _body_chunks(
    request: Request, limit: int, what: str, accept: tuple[str, ...]
) -> AsyncIterator[bytes]:
    """The body's chunks, refused with 415 or 413 before a byte past `limit` is kept."""
    if accept:
        check_content_type(request, accept, what)
    message = f"{what} is larger than {_megabytes(limit)}."
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(message)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(message)
        yield chunk
    if size == 0:
        raise InvalidInput(
            f"{what} is empty: send the file as the request body.", code="empty_upload"
        )


async def read_body(
    request: Request, limit: int, what: str = "The upload", *, accept: tuple[str, ...] = ()
) -> bytes:
    """A small body (a CSV, an image) in memory."""
    return b"".join([chunk async for chunk in _body_chunks(request, limit, what, accept)])


async def receive_body(
    request: Request,
    limit: int,
    into: pathlib.Path,
    what: str = "The upload",
    *,
    accept: tuple[str, ...] = (),
) -> int:
    """A large body (a film of up to 2 GiB) streamed into the file `into`; its size.

    The web process holds one chunk at a time, never the film."""
    size = 0
    with into.open("wb") as handle:
        async for chunk in _body_chunks(request, limit, what, accept):
            handle.write(chunk)
            size += len(chunk)
    return size


# ---------------------------------------------------------------- direct uploads (/v1/uploads)

router = APIRouter(
    prefix="/uploads", tags=["uploads"], route_class=TransactionRoute, responses=COMMON_ERRORS
)
UploadIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def upload_actor(request: Request) -> Actor:
    """An API key, or the signed-in browser's session (the page's upload code)."""
    actor = resolve_actor(request.app.state.db, request)
    if actor is None:
        raise NotAuthenticated(
            "Sign in, or send an API key as 'Authorization: Bearer <key>'.", code="unauthorized"
        )
    return actor


UploadActor = Annotated[Actor, Depends(upload_actor)]
SessionDep = Annotated[Session, Depends(db_session, scope="function")]


class StartIn(Strict):
    purpose: Literal["take", "reference", "jam_film"]
    size: int = Field(ge=1)
    content_type: str = Field(max_length=100)
    shot_id: int | None = None
    jam: str | None = Field(default=None, max_length=80)
    # reference images: the shot's version the client saw (optimistic locking)
    expected_version: int | None = None


class PartsIn(Strict):
    numbers: list[int] = Field(min_length=1, max_length=100)


class PartIn(Strict):
    number: int
    etag: str = Field(max_length=200)


class EntryAttachIn(Strict):
    title: str | None = Field(default=None, max_length=120)
    logline: str | None = Field(default=None, max_length=1000)
    credits: str | None = Field(default=None, max_length=4000)
    submit: bool = True


class CompleteIn(Strict):
    # The parts and ETags the client saw; omitted: whatever the store received.
    parts: list[PartIn] | None = Field(default=None, max_length=10_000)
    # A jam film: save the team's entry with it, dated now (the deadline rule's moment).
    entry: EntryAttachIn | None = None


class ReceivedPartOut(BaseModel):
    number: int
    size: int
    etag: str


class UploadOut(BaseModel):
    """A direct upload: what the store has, and (once checked) what it became."""

    id: str
    purpose: Literal["take", "reference", "jam_film"]
    status: Literal["uploading", "checking", "ready", "failed", "aborted"]
    size: int
    part_size: int
    part_count: int
    expires_at: str
    received: list[ReceivedPartOut] = Field(description="Parts the store has (while uploading)")
    asset_id: int | None
    take_id: int | None
    error: str | None = Field(description="Why the checks refused the file")
    message: str | None
    entry: dict[str, Any] | None = Field(description="The entry save waiting for this film")
    deadline_in_seconds: float | None = Field(description="A jam film: time left to submit")


class PartUrlsOut(BaseModel):
    urls: dict[str, str] = Field(description="Part number -> URL to PUT the part's bytes to")


def _json(
    request: Request, storage: Storage, upload: Upload, session: Session | None = None
) -> UploadOut:
    v = uploads.view(upload)
    return UploadOut(
        deadline_in_seconds=uploads.deadline_in_seconds(session, upload) if session else None,
        id=v.id,
        purpose=v.purpose,
        status=v.status,
        size=v.size,
        part_size=v.part_bytes,
        part_count=v.part_count,
        expires_at=v.expires_at.isoformat(),
        received=[ReceivedPartOut(**p) for p in uploads.received_parts(storage, upload)],
        asset_id=v.asset_id,
        take_id=v.take_id,
        error=v.error_code,
        message=v.error_message,
        entry=v.entry,
    )


@router.post(
    "",
    status_code=201,
    response_model=UploadOut,
    summary="Start a direct upload into the media store",
    responses={**BODY_ERRORS, **errors(413)},
)
def start(body: StartIn, request: Request, actor: UploadActor, session: SessionDep) -> UploadOut:
    gen = request.app.state.generation
    upload = uploads.start_upload(
        session,
        actor,
        gen.storage,
        gen.settings,
        purpose=body.purpose,
        size=body.size,
        content_type=body.content_type,
        shot_id=body.shot_id,
        jam=body.jam,
        expected_version=body.expected_version,
    )
    return _json(request, gen.storage, upload, session)


@router.get(
    "/{upload_id}", response_model=UploadOut, summary="An upload's state and the parts it has"
)
def get(
    upload_id: UploadIdPath, request: Request, actor: UploadActor, session: SessionDep
) -> UploadOut:
    gen = request.app.state.generation
    return _json(request, gen.storage, uploads.get_upload(session, actor, upload_id), session)


@router.post(
    "/{upload_id}/parts",
    response_model=PartUrlsOut,
    summary="URLs to PUT parts to (fresh ones for resuming)",
    responses=BODY_ERRORS,
)
def parts(
    upload_id: UploadIdPath,
    body: PartsIn,
    request: Request,
    actor: UploadActor,
    session: SessionDep,
) -> PartUrlsOut:
    gen = request.app.state.generation
    urls = uploads.part_urls(
        session,
        actor,
        gen.storage,
        upload_id,
        body.numbers,
        secret=request.app.state.media_secret,
        base_url=gen.settings.base_url,
        ttl=gen.settings.upload_url_ttl_seconds,
    )
    return PartUrlsOut(urls={str(n): url for n, url in urls.items()})


@router.post(
    "/{upload_id}/complete",
    response_model=UploadOut,
    summary="Join the parts; the file is then checked",
    responses=BODY_ERRORS,
)
async def complete(
    upload_id: UploadIdPath, body: CompleteIn, request: Request, actor: UploadActor
) -> UploadOut:
    gen = request.app.state.generation
    db = request.app.state.db

    def join() -> tuple[int, bool]:
        with db.session_scope() as session:
            upload, inline = uploads.complete_upload(
                session,
                actor,
                gen.storage,
                gen.dispatcher,
                gen.settings,
                upload_id,
                parts=[(p.number, p.etag) for p in body.parts] if body.parts else None,
                entry=body.entry.model_dump() if body.entry else None,
                clock=arrival_clock(received_at(request)),
            )
            return upload.id, inline

    row_id, inline = await run_in_threadpool(join)
    if inline:  # small: probe it now (off the event loop); large ones go to a cpu worker
        await run_in_threadpool(
            finish.finish_upload, db.session_scope, gen.storage, gen.settings, row_id
        )

    def read() -> UploadOut:
        with db.session_scope() as session:
            return _json(request, gen.storage, uploads.get_upload(session, actor, upload_id))

    return await run_in_threadpool(read)


@router.delete(
    "/{upload_id}",
    response_model=UploadOut,
    summary="Abandon an upload (its parts are dropped)",
    responses=errors(409),
)
def abort(
    upload_id: UploadIdPath, request: Request, actor: UploadActor, session: SessionDep
) -> UploadOut:
    gen = request.app.state.generation
    return _json(request, gen.storage, uploads.abort_upload(session, actor, gen.storage, upload_id))
