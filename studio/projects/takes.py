"""Takes: every generation for a shot, with its settings, lineage and outputs.

A take is a thin row over a generation job (whose params are the full
settings) or over an uploaded clip. Re-roll, vary and extend make new jobs
from a take's settings and remember where they came from.
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts.access import Actor
from studio.accounts.models import Role
from studio.db.base import utcnow
from studio.errors import Conflict, Forbidden, InvalidInput, NotFound
from studio.generation import edits
from studio.generation import registry as reg
from studio.generation import service as jobs
from studio.generation.context import Generation
from studio.generation.models import Job
from studio.media import ffmpeg, sandbox
from studio.media import service as media
from studio.media.models import Asset
from studio.media.storage import ObjectMissing
from studio.projects import activity
from studio.projects import service as projects
from studio.projects.access import can_edit
from studio.projects.models import Project, Shot, Take, TakeLineage

TAKE_NOT_FOUND = "No such take in your workspaces."


@dataclass(frozen=True)
class TakeView:
    take: Take
    job: jobs.JobView | None
    shot_code: str
    has_audio: bool | None = None  # the output's sound: None while unknown (or no output)
    upload_poster_asset_id: int | None = None  # an uploaded clip's poster, made when kept

    @property
    def output_asset_id(self) -> int | None:
        if self.take.upload_asset_id is not None:
            return self.take.upload_asset_id
        return self.job.output_asset_id if self.job else None

    @property
    def poster_asset_id(self) -> int | None:
        """The take's poster: its job's (generated), or the upload's (None: none made)."""
        if self.take.upload_asset_id is not None:
            return self.upload_poster_asset_id
        return self.job.poster_asset_id if self.job else None


# ---------------------------------------------------------------- a take card's actions

# The buttons on each take's card (ui/pages/project_html.take_grid), in order.
CARD_ACTIONS = ("circle", "favorite", "reroll", "extend", "vary", "restyle")
READ_ONLY = "Viewers watch and comment; changing takes needs the editor role."
CIRCLED = "This is the circled take."


def card_actions(
    tv: TakeView, *, circled: bool, can_edit: bool, registry: reg.Registry
) -> dict[str, str | None]:
    """Each card action -> None where it applies to this take, else why not (in
    the user's words: the disabled button's title, and the handler's refusal)."""
    take, job = tv.take, tv.job
    if not can_edit:
        return dict.fromkeys(CARD_ACTIONS, READ_ONLY)
    if job is not None and job.active:
        state = "queued" if job.status.value == "queued" else "generating"
        return dict.fromkeys(
            CARD_ACTIONS, f"Take {take.number} is still {state}: wait until it finishes."
        )
    has_output = tv.output_asset_id is not None
    mime = job.output_mime if job is not None else None
    still = bool(mime) and not str(mime).startswith("video/")
    video = has_output and not still
    nothing = (
        f"Take {take.number} {job.status.value}: it has no output."
        if job is not None
        else f"Take {take.number}'s clip is missing."
    )
    uploaded = "An uploaded clip has no generation settings to reuse."
    out: dict[str, str | None] = dict.fromkeys(CARD_ACTIONS)
    if circled:
        out["circle"] = CIRCLED
    elif not has_output:
        out["circle"] = nothing
    if job is None:
        out["reroll"] = out["vary"] = uploaded
    if not video:
        out["extend"] = "A still image cannot be extended." if still else nothing
        out["restyle"] = "A still image cannot be restyled." if still else nothing
    else:
        out["extend"] = _cannot_extend(registry, job.model_key if job else None)
        if not edits.able_models(registry):
            out["restyle"] = "No model here can restyle a video."
    return out


def _cannot_extend(registry: reg.Registry, model_key: str | None) -> str | None:
    """Why a finished video of this model cannot be extended (None: it can)."""
    try:
        spec = registry.get(model_key) if model_key else registry.default_for("image_to_video")
    except InvalidInput as exc:
        return exc.message
    if not spec.supports("image_to_video"):
        return f"{spec.name} cannot extend a take: it has no image-to-video mode."
    return None


def check_card_action(
    session: Session, actor: Actor, take_id: int, action: str, registry: reg.Registry
) -> Take:
    """Refuse a card action that does not apply (the same rules the card shows):
    an outsider gets NotFound, a viewer Forbidden, anything else InvalidInput."""
    if action not in CARD_ACTIONS:
        raise InvalidInput(f"No take action '{action}'.", code="invalid_take_action")
    take = get_take(session, actor, take_id)
    shot = projects.get_shot(session, actor, take.shot_id)
    if not can_edit(session, actor, shot.project_id):
        raise Forbidden(READ_ONLY)
    tv = with_sound(session, [view(session, actor, take, shot.code)])[0]
    reason = card_actions(
        tv, circled=shot.selected_take_id == take.id, can_edit=True, registry=registry
    )[action]
    if reason is not None:
        raise InvalidInput(reason, code="take_action_unavailable")
    return take


def get_take(session: Session, actor: Actor, take_id: int, minimum: Role = Role.VIEWER) -> Take:
    take = session.get(Take, take_id)
    if take is None:
        raise NotFound(TAKE_NOT_FOUND, code="take_not_found")
    try:
        projects.get_shot(session, actor, take.shot_id, minimum)
    except NotFound:
        raise NotFound(TAKE_NOT_FOUND, code="take_not_found") from None
    return take


def list_takes(session: Session, actor: Actor, shot_id: int) -> list[TakeView]:
    """Newest first. Access is checked once, on the shot; the jobs are read in one go
    (the page polls this every 2 s). A take whose job was deleted shows no job."""
    shot = projects.get_shot(session, actor, shot_id)
    takes = list(
        session.scalars(select(Take).where(Take.shot_id == shot.id).order_by(Take.number.desc()))
    )
    job_ids = [t.job_id for t in takes if t.job_id is not None]
    found = (
        list(session.scalars(select(Job).where(Job.id.in_(job_ids), Job.deleted_at.is_(None))))
        if job_ids
        else []
    )
    by_id = dict(zip([j.id for j in found], jobs.views_for(session, found), strict=True))
    views = [
        TakeView(t, by_id.get(t.job_id) if t.job_id is not None else None, shot.code) for t in takes
    ]
    return with_sound(session, views)


def with_sound(session: Session, views: list[TakeView]) -> list[TakeView]:
    """The views with whether each output has sound (and an upload's poster), read in
    one query."""
    outputs = [v.output_asset_id for v in views if v.output_asset_id is not None]
    if not outputs:
        return views
    rows = session.execute(
        select(Asset.id, Asset.has_audio, Asset.poster_asset_id).where(Asset.id.in_(outputs))
    )
    found = {asset_id: (has_audio, poster) for asset_id, has_audio, poster in rows.tuples()}
    return [
        replace(
            v,
            has_audio=found.get(v.output_asset_id, (None, None))[0],
            upload_poster_asset_id=found.get(v.output_asset_id, (None, None))[1],
        )
        if v.output_asset_id
        else v
        for v in views
    ]


def view(session: Session, actor: Actor, take: Take, code: str | None = None) -> TakeView:
    job_view = None
    if take.job_id is not None:
        public_id = session.scalar(select(Job.public_id).where(Job.id == take.job_id))
        job_view = jobs.get_job(session, actor, str(public_id))
    if code is None:
        shot = session.get(Shot, take.shot_id)
        code = shot.code if shot else ""
    return with_sound(session, [TakeView(take, job_view, code)])[0]


def task_id_of(session: Session, job_id: int | None) -> str | None:
    """The public task id of a take's (or a rough cut's) job."""
    if job_id is None:
        return None
    return session.scalar(select(Job.public_id).where(Job.id == job_id))


def selected_take_id(session: Session, actor: Actor, shot_id: int) -> int | None:
    return projects.get_shot(session, actor, shot_id).selected_take_id


# ---------------------------------------------------------------- generating


def generate_take(
    session: Session,
    actor: Actor,
    shot_id: int,
    gen: Generation,
    *,
    model: str | None = None,
    seed: int | None = None,
    camera_move: str | None = None,
    sound_asset_id: int | None = None,
) -> Take:
    """A new take from the shot's own settings (prompt, reference, ratio, duration);
    `sound_asset_id`: a sound file laid under the clip (the animatic's voice-over)."""
    shot = projects.get_shot(session, actor, shot_id, Role.EDITOR)
    project = session.get(Project, shot.project_id)
    assert project is not None
    mode = "image_to_video" if shot.reference_asset_id else "text_to_video"
    spec = gen.registry.get(model) if model else gen.registry.default_for(mode)
    if not spec.supports(mode):
        raise InvalidInput(f"{spec.name} cannot do {mode} for this shot.", code="unsupported_mode")
    submission = jobs.Submission(
        mode=mode,
        prompt=(shot.prompt or shot.description) if spec.prompt else "",
        model=spec.key,
        ratio=_ratio_for(spec, shot.ratio or project.default_ratio),
        duration=_duration_for(spec, shot.target_duration),
        seed=seed,
        negative_prompt=(shot.negative_prompt or None) if spec.negative_prompt else None,
        camera_move=camera_move,
        reference=jobs.Reference(asset_id=shot.reference_asset_id)
        if shot.reference_asset_id
        else None,
        title=shot.code,
        sound_asset_id=sound_asset_id,
    )
    return _new_take(session, actor, shot, project, submission, gen, parent=None, lineage=None)


def reroll_take(session: Session, actor: Actor, take_id: int, gen: Generation) -> Take:
    """Same settings, a new seed."""
    parent, shot, project, settings = _settings_of(session, actor, take_id)
    settings["seed"] = secrets.randbelow(jobs.SEED_MAX + 1)
    return _new_take(
        session, actor, shot, project, jobs.Submission(**settings), gen, parent, TakeLineage.REROLL
    )


def vary_take(
    session: Session, actor: Actor, take_id: int, gen: Generation, changes: dict[str, Any]
) -> Take:
    """Same seed, edited settings: prompt, negative_prompt, ratio, duration, camera, model."""
    parent, shot, project, settings = _settings_of(session, actor, take_id)
    allowed = {
        "prompt",
        "negative_prompt",
        "ratio",
        "duration",
        "camera_move",
        "model",
        "motion_strength",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"Cannot vary {', '.join(sorted(unknown))}.", code="invalid_variation")
    settings.update({k: v for k, v in changes.items() if v is not None})
    return _new_take(
        session,
        actor,
        shot,
        project,
        jobs.Submission(**settings),
        gen,
        parent,
        TakeLineage.VARIATION,
    )


def extend_take(
    session: Session, actor: Actor, take_id: int, gen: Generation, model: str | None = None
) -> Take:
    """image_to_video from the parent's last frame, with the same prompt.

    An uploaded take has no generation settings: the shot's own (prompt,
    ratio, target length) are used, with the given or default model.
    """
    parent = get_take(session, actor, take_id, Role.EDITOR)
    if parent.job_id is not None:
        parent, shot, project, settings = _settings_of(session, actor, take_id)
    else:
        shot, project, settings = _shot_settings(session, parent)
        settings["model"] = model or gen.registry.default_for("image_to_video").key
    spec = gen.registry.get(model or settings["model"])
    if not spec.supports("image_to_video"):
        raise InvalidInput(
            f"{spec.name} cannot extend a take: it has no image_to_video mode.",
            code="unsupported_mode",
        )
    output = view(session, actor, parent).output_asset_id
    asset = session.get(Asset, output) if output else None
    if asset is None or not asset.mime.startswith("video/"):
        raise InvalidInput("Only a finished video take can be extended.", code="take_not_ready")
    last = _last_frame(gen, asset.storage_key)
    reference = jobs.Reference(image=Image.fromarray(last))
    submission = jobs.Submission(
        mode="image_to_video",
        prompt=settings["prompt"] if spec.prompt else "",
        model=spec.key,
        ratio=_ratio_for(spec, settings.get("ratio")),
        duration=_duration_for(spec, settings.get("duration")),
        seed=settings.get("seed"),
        negative_prompt=settings.get("negative_prompt") if spec.negative_prompt else None,
        reference=reference,
        title=shot.code,
    )
    return _new_take(session, actor, shot, project, submission, gen, parent, TakeLineage.EXTENSION)


def restyle_take(
    session: Session,
    actor: Actor,
    take_id: int,
    gen: Generation,
    *,
    prompt: str,
    model: str | None = None,
    strength: float | None = None,
    seed: int | None = None,
) -> Take:
    """video_to_video over a finished take (generated or uploaded) under a new
    prompt: a new take of the same shot whose parent is the source take."""
    parent = get_take(session, actor, take_id, Role.EDITOR)
    shot, project, settings = _shot_settings(session, parent)
    if parent.job_id is not None:
        job = session.get(Job, parent.job_id)
        assert job is not None
        settings.update(ratio=job.params.get("ratio"), duration=job.params.get("duration"))
    able = edits.able_models(gen.registry)
    if not model and not able:
        raise InvalidInput("No model here can restyle a video.", code="unsupported_mode")
    installed = [k for k in able if reg.weights_available(gen.registry.get(k))]
    spec = gen.registry.get(model or (installed or able)[0], edits.MODE)
    if not spec.supports(edits.MODE):
        raise InvalidInput(edits.unsupported_message(spec, gen.registry), code="unsupported_mode")
    output = view(session, actor, parent).output_asset_id
    asset = session.get(Asset, output) if output else None
    if asset is None or not asset.mime.startswith("video/"):
        raise InvalidInput("Only a finished video take can be restyled.", code="take_not_ready")
    duration = settings.get("duration") or (round(asset.duration) if asset.duration else None)
    submission = jobs.Submission(
        mode=edits.MODE,
        prompt=prompt,
        model=spec.key,
        ratio=_ratio_for(spec, settings.get("ratio")),
        duration=_duration_for(spec, duration),
        seed=seed,
        source_video=asset.id,
        strength=strength,
        title=shot.code,
    )
    # A variation of its parent in the lineage (the column's values are fixed
    # by a CHECK constraint); the job's mode says it is a restyle.
    return _new_take(
        session,
        actor,
        shot,
        project,
        submission,
        gen,
        parent,
        TakeLineage.VARIATION,
        action="take.restyle",
    )


def _last_frame(gen: Generation, key: str) -> Any:
    """The take's last frame, read from a scratch copy; a readable error otherwise."""
    try:
        with gen.storage.local_copy(key) as path:
            return ffmpeg.last_frame(path)
    except ObjectMissing:
        raise Conflict(
            "This take's video is missing from the media store, so it cannot be extended.",
            code="take_missing",
        ) from None
    except ffmpeg.MediaError as exc:
        raise InvalidInput(
            f"This take's video cannot be read, so it cannot be extended: {exc.message}",
            code="invalid_video",
        ) from None


def upload_take(session: Session, actor: Actor, shot_id: int, gen: Generation, data: bytes) -> Take:
    """An outside clip as a take: probed (container allow-list) before it is kept."""
    shot = projects.get_shot(session, actor, shot_id, Role.EDITOR)
    project = session.get(Project, shot.project_id)
    assert project is not None
    if not data:
        raise InvalidInput("The upload is empty.", code="empty_upload")
    if len(data) > gen.settings.max_upload_bytes:
        raise InvalidInput(
            f"Clips are limited to {gen.settings.max_upload_bytes // (1024 * 1024)} MB.",
            code="upload_too_large",
        )
    with tempfile.TemporaryDirectory() as scratch:
        probe_path = Path(scratch) / "upload"
        probe_path.write_bytes(data)
        try:
            info = sandbox.probe_isolated(probe_path)  # untrusted: time and memory capped
        except ffmpeg.MediaError as exc:
            raise InvalidInput(str(exc), code="invalid_video") from None
        poster = media.poster_of_upload(probe_path)  # sandboxed too; None: no poster
    asset = media.keep_uploaded_video(
        session,
        gen.storage,
        workspace_id=project.workspace_id,
        folder="uploads",
        data=data,
        info=info,
    )
    media.keep_poster(session, gen.storage, asset, poster, folder="uploads")
    return take_from_asset(session, actor, shot.id, asset)


def check_take_upload(session: Session, actor: Actor, shot_id: int) -> int:
    """Before a direct upload starts: may this person add a take here? Its workspace id."""
    shot = projects.get_shot(session, actor, shot_id, Role.EDITOR)
    project = session.get(Project, shot.project_id)
    assert project is not None
    return project.workspace_id


def take_from_asset(session: Session, actor: Actor, shot_id: int, asset: Asset) -> Take:
    """A probed, stored clip (already an asset of the shot's workspace) as the shot's new take."""
    shot = projects.get_shot(session, actor, shot_id, Role.EDITOR)
    project = session.get(Project, shot.project_id)
    assert project is not None and asset.workspace_id == project.workspace_id
    take = Take(
        shot_id=shot.id,
        number=_next_number(session, shot.id),
        upload_asset_id=asset.id,
        created_by=actor.user_id,
    )
    session.add(take)
    session.flush()
    _audit(session, actor, project, take, "take.uploaded")
    return take


# ---------------------------------------------------------------- review marks


def select_take(session: Session, actor: Actor, take_id: int) -> Shot:
    """Circle this take: the one the storyboard and the rough cut use."""
    take = get_take(session, actor, take_id, Role.EDITOR)
    shot = session.get(Shot, take.shot_id)
    assert shot is not None
    shot.selected_take_id = take.id
    shot.version += 1
    shot.updated_by = actor.user_id
    shot.updated_at = utcnow()
    project = session.get(Project, shot.project_id)
    assert project is not None
    _audit(session, actor, project, take, "take.selected")
    session.flush()
    return shot


def mark_take(
    session: Session,
    actor: Actor,
    take_id: int,
    *,
    favorite: bool | None = None,
    rating: int | None = None,
) -> Take:
    take = get_take(session, actor, take_id, Role.EDITOR)
    if favorite is not None:
        take.favorite = favorite
    if rating is not None:
        if not 0 <= rating <= 5:
            raise InvalidInput("Ratings go from 1 to 5 (0 clears it).", code="invalid_rating")
        take.rating = rating or None
    session.flush()
    return take


# ---------------------------------------------------------------- helpers


def _settings_of(
    session: Session, actor: Actor, take_id: int
) -> tuple[Take, Shot, Project, dict[str, Any]]:
    parent = get_take(session, actor, take_id, Role.EDITOR)
    shot = session.get(Shot, parent.shot_id)
    assert shot is not None
    project = session.get(Project, shot.project_id)
    assert project is not None
    if parent.job_id is None:
        raise InvalidInput(
            "An uploaded take has no generation settings to reuse.", code="take_not_generated"
        )
    job = session.get(Job, parent.job_id)
    assert job is not None
    p = job.params
    settings: dict[str, Any] = {
        "mode": job.mode,
        "prompt": p.get("user_prompt") or "",
        "model": job.model_key,
        "ratio": p.get("ratio"),
        "duration": p.get("duration"),
        "seed": p.get("seed"),
        "negative_prompt": p.get("negative_prompt"),
        "camera_move": p.get("camera_move"),
        "motion_strength": p.get("motion_strength"),
        "title": shot.code,
        "sound_asset_id": p.get("sound_asset_id"),
    }
    if job.reference_asset_id is not None:
        settings["reference"] = jobs.Reference(asset_id=job.reference_asset_id)
    return parent, shot, project, settings


def _shot_settings(session: Session, take: Take) -> tuple[Shot, Project, dict[str, Any]]:
    shot = session.get(Shot, take.shot_id)
    assert shot is not None
    project = session.get(Project, shot.project_id)
    assert project is not None
    return (
        shot,
        project,
        {
            "prompt": shot.prompt or shot.description or "",
            "ratio": shot.ratio or project.default_ratio,
            "duration": shot.target_duration,
            "seed": None,
            "negative_prompt": shot.negative_prompt or None,
        },
    )


def _new_take(
    session: Session,
    actor: Actor,
    shot: Shot,
    project: Project,
    submission: jobs.Submission,
    gen: Generation,
    parent: Take | None,
    lineage: TakeLineage | None,
    action: str | None = None,
) -> Take:
    job, _ = jobs.submit_job(
        session,
        actor,
        workspace_id=project.workspace_id,
        request=submission,
        registry=gen.registry,
        storage=gen.storage,
        dispatcher=gen.dispatcher,
        max_attempts=gen.settings.job_max_attempts,
    )
    take = Take(
        shot_id=shot.id,
        number=_next_number(session, shot.id),
        job_id=job.id,
        parent_take_id=parent.id if parent else None,
        lineage=lineage,
        created_by=actor.user_id,
    )
    session.add(take)
    session.flush()
    action = action or f"take.{lineage.value if lineage else 'generated'}"
    _audit(session, actor, project, take, action)
    return take


def _next_number(session: Session, shot_id: int) -> int:
    return (
        int(session.scalar(select(func.max(Take.number)).where(Take.shot_id == shot_id)) or 0) + 1
    )


def _ratio_for(spec: reg.ModelSpec, wanted: str | None) -> str:
    return wanted if wanted in spec.ratios else next(iter(spec.ratios))


def _duration_for(spec: reg.ModelSpec, wanted: float | int | None) -> int | None:
    if not spec.durations:
        return None
    if wanted is None:
        return spec.default_seconds()
    return min(spec.durations, key=lambda d: (abs(d - float(wanted)), d))


TAKE_VERBS = {
    "take.generated": "generated",
    "take.reroll": "re-rolled into",
    "take.variation": "made a variation:",
    "take.extension": "extended into",
    "take.restyle": "restyled into",
    "take.uploaded": "uploaded",
    "take.selected": "circled",
}


def _audit(session: Session, actor: Actor, project: Project, take: Take, action: str) -> None:
    shot = session.get(Shot, take.shot_id)
    code = shot.code if shot else "?"
    activity.record(
        session,
        actor,
        project.id,
        action,
        f"{TAKE_VERBS.get(action, action)} take {take.number} of {code}",
        shot_id=take.shot_id,
        take_id=take.id,
    )
    audit.record(
        session,
        action,
        actor_user_id=actor.user_id,
        workspace_id=project.workspace_id,
        target=f"take:{take.id}",
        shot_id=take.shot_id,
    )
