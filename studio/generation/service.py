"""Submitting, reading, listing and cancelling generation jobs (access checked here)."""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts.access import Actor, require_role
from studio.accounts.models import Role
from studio.db.base import utcnow
from studio.db.session import on_commit
from studio.errors import Conflict, Forbidden, InvalidInput, NotFound
from studio.generation import registry as reg
from studio.generation import waiting
from studio.generation.models import ACTIVE, Job, JobStatus
from studio.generation.scheduler import pairs
from studio.generation.waiting import Wait
from studio.media import service as media
from studio.media.storage import Storage

SEED_MAX = 2**32 - 1
IDEMPOTENCY_KEY_MAX = 255
TASK_NOT_FOUND = "No such task in your workspace."


class Dispatcher(Protocol):
    def dispatch(self, queue: str, public_id: str) -> None: ...


@dataclass(frozen=True)
class Reference:
    """A reference image: a decoded upload, or an existing asset of the workspace."""

    image: Image.Image | None = None
    asset_id: int | None = None


@dataclass(frozen=True)
class Submission:
    mode: str
    prompt: str = ""
    model: str | None = None
    ratio: str | None = None
    duration: int | None = None
    seed: int | None = None
    negative_prompt: str | None = None
    camera_move: str | None = None
    motion_strength: float | None = None
    reference: Reference | None = None
    last_frame: Reference | None = None  # image_to_video ends on this frame (where supported)
    idempotency_key: str | None = None
    title: str | None = None  # animatic card text (a shot code) when there is no image
    # A sound file (voice-over, temp music) laid under the clip: models with audio_file.
    sound_asset_id: int | None = None
    # Runway's contentModeration, kept with the job; Studio runs no moderation model.
    content_moderation: dict[str, str] | None = None

    def fingerprint(self) -> str:
        """A digest of everything the client asked for, to tell a retry (same
        Idempotency-Key, same request) from a different request reusing a key."""
        fields = {
            name: getattr(self, name)
            for name in (
                "mode",
                "prompt",
                "model",
                "ratio",
                "duration",
                "seed",
                "negative_prompt",
                "camera_move",
                "motion_strength",
                "title",
                "content_moderation",
                "sound_asset_id",
            )
        }
        fields["reference"] = _reference_digest(self.reference)
        fields["last_frame"] = _reference_digest(self.last_frame)
        text = json.dumps(fields, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _reference_digest(reference: Reference | None) -> str | None:
    if reference is None:
        return None
    if reference.asset_id is not None:
        return f"asset:{reference.asset_id}"
    assert reference.image is not None
    image = reference.image
    digest = hashlib.sha256(f"{image.mode}:{image.size}".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


IDEMPOTENCY_MISMATCH = (
    "This Idempotency-Key was already used for a different request. Send the same "
    "request to get its task again, or use a new key for a new task."
)


def submit_job(
    session: Session,
    actor: Actor,
    *,
    workspace_id: int,
    request: Submission,
    registry: reg.Registry,
    storage: Storage,
    dispatcher: Dispatcher,
    max_attempts: int = 3,
) -> tuple[Job, bool]:
    """Queue a job. Returns (job, created); an Idempotency-Key seen before returns its job."""
    require_role(session, actor, workspace_id, Role.EDITOR)
    key = (request.idempotency_key or "").strip() or None
    fingerprint = request.fingerprint()
    if key is not None:
        if len(key) > IDEMPOTENCY_KEY_MAX:
            raise InvalidInput(
                "Idempotency-Key is limited to 255 characters.", code="invalid_idempotency_key"
            )
        existing = _by_idempotency_key(session, workspace_id, key)
        if existing is not None:
            return _same_request(existing, fingerprint), False

    if request.mode not in reg.MODES:
        raise InvalidInput(f"Mode must be one of {', '.join(reg.MODES)}.", code="unsupported_mode")
    spec = (
        registry.get(request.model, request.mode)
        if request.model
        else registry.default_for(request.mode)
    )
    resolved = reg.resolve(
        spec,
        mode=request.mode,
        prompt=request.prompt,
        ratio=request.ratio,
        duration=request.duration,
        negative_prompt=request.negative_prompt,
        camera_move=request.camera_move,
        motion_strength=request.motion_strength,
    )
    if request.seed is not None and not spec.seed:
        raise InvalidInput(f"{spec.name} does not take a seed.", code="unsupported_control")
    if request.seed is not None and not 0 <= request.seed <= SEED_MAX:
        raise InvalidInput(f"Seed goes from 0 to {SEED_MAX}.", code="invalid_seed")
    seed = request.seed if request.seed is not None else secrets.randbelow(SEED_MAX + 1)

    has_reference = request.reference is not None
    if request.mode == "image_to_video" and not has_reference:
        raise InvalidInput("Image to video needs a reference image.", code="image_required")
    if request.mode != "image_to_video" and has_reference:
        raise InvalidInput(
            f"A reference image is for image_to_video, not {request.mode}.",
            code="unsupported_control",
        )
    if request.last_frame is not None:
        if request.mode != "image_to_video" or request.reference is None:
            raise InvalidInput(
                "A last frame goes with image_to_video and a first frame "
                "(promptImage: [{uri, position: 'first'}, {uri, position: 'last'}]).",
                code="unsupported_control",
            )
        if not spec.last_frame:
            able = [m.key for m in registry.all() if m.last_frame]
            raise InvalidInput(
                f"{spec.name} cannot end on a given frame (promptImage position 'last'). "
                + (f"Models that can: {', '.join(able)}." if able else "No model here can."),
                code="unsupported_control",
            )
    moderation = _moderation(request.content_moderation)
    if request.sound_asset_id is not None:
        if not spec.audio_file or request.mode == "text_to_image":
            able = [m.key for m in registry.all() if m.audio_file]
            raise InvalidInput(
                f"{spec.name} cannot lay a sound file under its clip"
                + (f"; models that can: {', '.join(able)}." if able else "."),
                code="unsupported_control",
            )
        media.sound_asset_for(session, actor, workspace_id, request.sound_asset_id)
    reference_asset_id = None
    if request.reference is not None:
        reference_asset_id = _store_reference(
            session, actor, workspace_id, request.reference, storage
        )
    last_frame_asset_id = None
    if request.last_frame is not None:
        last_frame_asset_id = _store_reference(
            session, actor, workspace_id, request.last_frame, storage
        )

    job = Job(
        workspace_id=workspace_id,
        user_id=actor.user_id,
        queue=spec.queue,
        model_key=spec.key,
        mode=request.mode,
        status=JobStatus.QUEUED,
        max_attempts=max_attempts,
        idempotency_key=key,
        reference_asset_id=reference_asset_id,
        timings={},
        params={
            "prompt": resolved.prompt,
            "negative_prompt": resolved.negative_prompt,
            "ratio": resolved.ratio,
            "width": resolved.width,
            "height": resolved.height,
            "duration": resolved.duration,
            "num_frames": resolved.num_frames,
            "fps": resolved.fps,
            "duration_note": resolved.duration_note,
            "last_frame_asset_id": last_frame_asset_id,
            "sound_asset_id": request.sound_asset_id,
            "content_moderation": moderation,
            "requested_model": request.model,
            # Only where a key can name the job again (kept out of take comparisons).
            "fingerprint": fingerprint if key else None,
            "seed": seed,
            "steps": resolved.steps,
            "guidance": resolved.guidance,
            "camera_move": resolved.camera_move,
            "motion_strength": resolved.motion_strength,
            "title": (request.title or "").strip()[:40] or None,
            "user_prompt": (request.prompt or "").strip(),
        },
        dispatched_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        # Two requests with one Idempotency-Key at once: the other one won.
        existing = _by_idempotency_key(session, workspace_id, key) if key else None
        if existing is None:
            raise
        return _same_request(existing, fingerprint), False
    audit.record(
        session,
        "job.submitted",
        actor_user_id=actor.user_id,
        workspace_id=workspace_id,
        target=f"job:{job.public_id}",
        model=spec.key,
        mode=request.mode,
    )
    queue, public_id = job.queue, job.public_id
    on_commit(session, lambda: dispatcher.dispatch(queue, public_id))
    return job, True


def submit_kind_job(
    session: Session,
    dispatcher: Dispatcher,
    *,
    kind: str,
    queue: str,
    workspace_id: int,
    user_id: int,
    params: dict[str, Any],
    max_attempts: int,
) -> Job:
    """Queue a job of a kind another domain registered (`generation/kinds.py`): a
    rough cut, a large upload's check. The caller checked who is asking; the
    workers are woken once the transaction commits."""
    job = Job(
        workspace_id=workspace_id,
        user_id=user_id,
        queue=queue,
        model_key=kind,
        mode=kind,
        status=JobStatus.QUEUED,
        max_attempts=max_attempts,
        timings={},
        params=params,
        dispatched_at=utcnow(),
    )
    session.add(job)
    session.flush()
    public_id = job.public_id
    on_commit(session, lambda: dispatcher.dispatch(queue, public_id))
    return job


def _same_request(job: Job, fingerprint: str) -> Job:
    """The job an Idempotency-Key names, if this is the same request again (409 if not).
    Jobs from before fingerprints were kept carry none: they are taken as the same."""
    recorded = (job.params or {}).get("fingerprint")
    if recorded is not None and recorded != fingerprint:
        raise Conflict(IDEMPOTENCY_MISMATCH, code="idempotency_key_reused")
    return job


MODERATION_THRESHOLDS = ("auto", "low")


def _moderation(value: dict[str, str] | None) -> dict[str, str] | None:
    """Runway's contentModeration ({"publicFigureThreshold": "auto" | "low"})."""
    if value is None:
        return None
    unknown = set(value) - {"publicFigureThreshold"}
    threshold = value.get("publicFigureThreshold", "auto")
    if unknown or threshold not in MODERATION_THRESHOLDS:
        raise InvalidInput(
            "contentModeration takes publicFigureThreshold: 'auto' or 'low'.",
            code="invalid_content_moderation",
        )
    return {"publicFigureThreshold": threshold}


def _by_idempotency_key(session: Session, workspace_id: int, key: str) -> Job | None:
    return session.scalar(
        select(Job).where(Job.workspace_id == workspace_id, Job.idempotency_key == key)
    )


def _store_reference(
    session: Session, actor: Actor, workspace_id: int, reference: Reference, storage: Storage
) -> int:
    if reference.asset_id is not None:
        return media.image_asset_for_reference(session, actor, workspace_id, reference.asset_id).id
    assert reference.image is not None
    buffer = io.BytesIO()
    reference.image.save(buffer, format="PNG")
    key = f"ws{workspace_id}/refs/{uuid.uuid4().hex}.png"
    asset = media.write_reference(
        session,
        storage,
        workspace_id=workspace_id,
        key=key,
        png_bytes=buffer.getvalue(),
        width=reference.image.width,
        height=reference.image.height,
    )
    return asset.id


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class JobView:
    public_id: str
    workspace_id: int
    user_id: int
    model_key: str
    mode: str
    status: JobStatus
    queue: str
    progress: float
    attempts: int
    params: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error_code: str | None
    error_message: str | None
    output_asset_id: int | None
    poster_asset_id: int | None
    output_mime: str | None
    cancel_requested: bool
    wait: Wait | None = None  # while queued: why it waits, its place, a start estimate

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def throttled(self) -> bool:
        """Runway's THROTTLED: queued behind the workspace's own cap or quota."""
        return self.wait is not None and self.wait.throttled

    @property
    def position(self) -> int | None:
        """Jobs that start before this one, by the scheduler's fair order."""
        return self.wait.position if self.wait else None

    @property
    def waiting_for(self) -> str | None:
        return self.wait.reason if self.wait else None


def wait_text(view: JobView) -> str:
    """One line for people: why a queued job has not started yet."""
    wait = view.wait
    if wait is None:
        return ""
    if wait.reason == waiting.NO_WORKER:
        return f"waiting: no worker serves the {view.queue} queue right now"
    if wait.reason == waiting.QUOTA:
        return "waiting: the workspace has used its GPU time"
    if wait.reason == waiting.CONCURRENCY:
        return "waiting: the workspace is at its limit of running jobs"
    if not wait.position:
        return "next up"
    eta = ""
    if wait.estimated_start_at is not None:
        minutes = max(0.0, (wait.estimated_start_at - utcnow()).total_seconds()) / 60
        eta = " · starts in " + (f"about {minutes:.0f} min" if minutes >= 1 else "under a minute")
    return f"{wait.position} ahead{eta}"


def _job_for(session: Session, actor: Actor, public_id: str) -> Job:
    job = session.scalar(select(Job).where(Job.public_id == public_id, Job.deleted_at.is_(None)))
    if job is None:
        raise NotFound(TASK_NOT_FOUND, code="task_not_found")
    try:
        require_role(session, actor, job.workspace_id)
    except NotFound:
        raise NotFound(TASK_NOT_FOUND, code="task_not_found") from None
    return job


def views_for(session: Session, jobs: list[Job]) -> list[JobView]:
    """Views of jobs the caller has already checked access to (e.g. through their
    project), in a handful of queries however many there are."""
    return _views(session, jobs)


def _views(session: Session, jobs: list[Job]) -> list[JobView]:
    from studio.media.models import Asset  # local: only for the mime of outputs

    waits = waiting.waits(session, jobs)
    output_ids = [j.output_asset_id for j in jobs if j.output_asset_id]
    mimes = (
        pairs(
            session.execute(select(Asset.id, Asset.mime).where(Asset.id.in_(output_ids))).tuples()
        )
        if output_ids
        else {}
    )
    return [
        JobView(
            public_id=job.public_id,
            workspace_id=job.workspace_id,
            user_id=job.user_id,
            model_key=job.model_key,
            mode=job.mode,
            status=job.status,
            queue=job.queue,
            progress=job.progress,
            attempts=job.attempts,
            params=dict(job.params),
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            error_code=job.error_code,
            error_message=job.error_message,
            output_asset_id=job.output_asset_id,
            poster_asset_id=job.poster_asset_id,
            output_mime=mimes.get(job.output_asset_id) if job.output_asset_id else None,
            cancel_requested=job.cancel_requested,
            wait=waits.get(job.id),
        )
        for job in jobs
    ]


def get_job(session: Session, actor: Actor, public_id: str) -> JobView:
    return _views(session, [_job_for(session, actor, public_id)])[0]


def list_jobs(
    session: Session,
    actor: Actor,
    workspace_id: int,
    *,
    active: bool | None = None,
    modes: tuple[str, ...] | None = None,
    limit: int = 50,
) -> list[JobView]:
    """Newest first; `modes` keeps only those (e.g. takes: reg.MODES, no rough cuts)."""
    require_role(session, actor, workspace_id)
    query = select(Job).where(Job.workspace_id == workspace_id, Job.deleted_at.is_(None))
    if modes is not None:
        query = query.where(Job.mode.in_(modes))
    if active is True:
        query = query.where(Job.status.in_(ACTIVE))
    elif active is False:
        query = query.where(Job.status.not_in(ACTIVE))
    jobs = list(session.scalars(query.order_by(Job.id.desc()).limit(limit)))
    return _views(session, jobs)


# ---------------------------------------------------------------- cancel / delete


def cancel_job(session: Session, actor: Actor, public_id: str) -> JobView:
    """Cancel a queued job at once, or ask a running one to stop at its next step."""
    job = _job_for(session, actor, public_id)
    _check_may_control(session, actor, job)
    if job.status == JobStatus.QUEUED:
        session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == JobStatus.QUEUED)
            .values(status=JobStatus.CANCELED, finished_at=utcnow(), cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
    if job.status in ACTIVE:
        session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
        audit.record(
            session,
            "job.canceled",
            actor_user_id=actor.user_id,
            workspace_id=job.workspace_id,
            target=f"job:{job.public_id}",
        )
    session.flush()
    session.expire(job)
    return get_job(session, actor, public_id)


def delete_job(session: Session, actor: Actor, public_id: str) -> None:
    """Runway's DELETE: cancel an active task, hide a finished one (files are kept)."""
    job = _job_for(session, actor, public_id)
    _check_may_control(session, actor, job)
    if job.status in ACTIVE:
        cancel_job(session, actor, public_id)
        return
    job.deleted_at = utcnow()
    audit.record(
        session,
        "job.deleted",
        actor_user_id=actor.user_id,
        workspace_id=job.workspace_id,
        target=f"job:{job.public_id}",
    )
    session.flush()


def _check_may_control(session: Session, actor: Actor, job: Job) -> None:
    """Editors control their own jobs; admins and owners anyone's."""
    membership = require_role(session, actor, job.workspace_id)
    if membership.role.at_least(Role.ADMIN):
        return
    if membership.role.at_least(Role.EDITOR) and job.user_id == actor.user_id:
        return
    raise Forbidden("Only the person who started a task, or a workspace admin, can cancel it.")
