"""Rough cuts: the circled takes in shot order, rendered into one MP4 on the
cpu queue, kept as numbered versions of the project.

Matching clips (same codec, size, frame rate, pixel format) are joined by
stream copy; otherwise each is letterboxed to the project's size and frame
rate first. A title card and a burned-in shot code are optional.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts.access import Actor
from studio.accounts.models import Role
from studio.db.base import utcnow
from studio.db.session import on_commit
from studio.errors import InvalidInput
from studio.generation import service as jobs
from studio.generation.context import Generation
from studio.generation.models import Job, JobStatus
from studio.media import ffmpeg
from studio.media.models import Asset
from studio.media.storage import Storage
from studio.projects import activity
from studio.projects import service as projects
from studio.projects.models import RoughCut, Shot, Take

ROUGH_CUT = "rough_cut"  # the job's model key and mode: a cpu-queue job, not a model
TITLE_SECONDS = 2
STILL_SECONDS = 2


def request_rough_cut(
    session: Session,
    actor: Actor,
    project_id: int,
    gen: Generation,
    *,
    title_card: bool = False,
    overlay_codes: bool = False,
) -> RoughCut:
    """Snapshot the circled takes now and queue the render."""
    project = projects.get_project(session, actor, project_id, Role.EDITOR)
    shots = projects.list_shots(session, actor, project.id)
    circled = [shot for shot in shots if shot.selected_take_id is not None]
    # Load every circled take and its job in two queries; _finished_output then finds them
    # in the session (held in these lists: its identity map only keeps weak references).
    take_ids = [shot.selected_take_id for shot in circled]
    takes = list(session.scalars(select(Take).where(Take.id.in_(take_ids))))
    job_ids = [take.job_id for take in takes if take.job_id is not None]
    _jobs = list(session.scalars(select(Job).where(Job.id.in_(job_ids)))) if job_ids else []
    clips = []
    for shot in circled:
        asset_id = _finished_output(session, shot)
        clips.append({"code": shot.code, "asset_id": asset_id})
    if not clips:
        raise InvalidInput(
            "Circle a finished take for at least one shot first.", code="nothing_to_cut"
        )
    width, height = (int(v) for v in project.default_ratio.split(":"))
    number = (
        int(
            session.scalar(
                select(func.max(RoughCut.number)).where(RoughCut.project_id == project.id)
            )
            or 0
        )
        + 1
    )
    options = {"title_card": title_card, "overlay_codes": overlay_codes}
    job = Job(
        workspace_id=project.workspace_id,
        user_id=actor.user_id,
        queue="cpu",
        model_key=ROUGH_CUT,
        mode=ROUGH_CUT,
        status=JobStatus.QUEUED,
        max_attempts=gen.settings.job_max_attempts,
        timings={},
        params={
            "project_id": project.id,
            "title": project.title,
            "version": number,
            "width": width,
            "height": height,
            "fps": project.default_fps,
            "clips": clips,
            **options,
        },
        dispatched_at=utcnow(),
    )
    session.add(job)
    session.flush()
    cut = RoughCut(
        project_id=project.id,
        number=number,
        job_id=job.id,
        options=options,
        created_by=actor.user_id,
    )
    session.add(cut)
    session.flush()
    audit.record(
        session,
        "rough_cut.requested",
        actor_user_id=actor.user_id,
        workspace_id=project.workspace_id,
        target=f"project:{project.id}",
        version=number,
    )
    activity.record(
        session,
        actor,
        project.id,
        "rough_cut.requested",
        f"started rough cut v{number} ({len(clips)} shots)",
    )
    public_id = job.public_id
    on_commit(session, lambda: gen.dispatcher.dispatch("cpu", public_id))
    return cut


def _finished_output(session: Session, shot: Shot) -> int:
    take = session.get(Take, shot.selected_take_id)
    assert take is not None
    if take.upload_asset_id is not None:
        return take.upload_asset_id
    job = session.get(Job, take.job_id)
    if job is None or job.status != JobStatus.SUCCEEDED or job.output_asset_id is None:
        raise InvalidInput(
            f"The circled take of {shot.code} is not finished yet; wait for it or circle another.",
            code="take_not_ready",
        )
    return job.output_asset_id


@dataclass(frozen=True)
class CutView:
    cut: RoughCut
    public_id: str


def recent_cuts(
    session: Session, actor: Actor, project_id: int, limit: int = 10
) -> list[tuple[CutView, jobs.JobView]]:
    """The newest cut versions with their jobs' progress, in a few queries."""
    project = projects.get_project(session, actor, project_id)
    rows = session.execute(
        select(RoughCut, Job)
        .join(Job, Job.id == RoughCut.job_id)
        .where(RoughCut.project_id == project.id)
        .order_by(RoughCut.number.desc())
        .limit(limit)
    ).tuples()
    pairs = list(rows)
    views = jobs.views_for(session, [job for _, job in pairs])
    return [(CutView(cut, job.public_id), v) for (cut, job), v in zip(pairs, views, strict=True)]


def list_rough_cuts(session: Session, actor: Actor, project_id: int) -> list[CutView]:
    project = projects.get_project(session, actor, project_id)
    rows = session.execute(
        select(RoughCut, Job.public_id)
        .join(Job, Job.id == RoughCut.job_id)
        .where(RoughCut.project_id == project.id)
        .order_by(RoughCut.number.desc())
    ).tuples()
    return [CutView(cut, public_id) for cut, public_id in rows]


# ---------------------------------------------------------------- rendering (worker side)


@dataclass(frozen=True)
class Rendered:
    method: str  # "copy" or "normalized"
    sha256: str  # of the file written to the target
    info: ffmpeg.Probe  # of the file written to the target


def render(
    session_factory: Callable[[], Any],
    storage: Storage,
    params: dict[str, Any],
    target: Path,
    step: Callable[[int, int], None],
    *,
    poster: Path | None = None,
) -> Rendered:
    """Render the cut to `target` (and its poster, the first frame, to `poster`).

    The poster is taken from the first file joined, whose first frame the cut
    opens with (stream copy keeps it bit for bit), while ffmpeg joins.
    """
    width, height, fps = int(params["width"]), int(params["height"]), int(params["fps"])
    with session_factory() as session:
        assets = {
            a.id: a
            for a in session.scalars(
                select(Asset).where(Asset.id.in_([c["asset_id"] for c in params["clips"]]))
            )
        }
    total = len(params["clips"]) + 2
    with (
        tempfile.TemporaryDirectory(prefix="roughcut-") as scratch,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="roughcut-poster") as pool,
    ):
        work = Path(scratch)
        inputs: list[tuple[Path, str | None]] = []
        if params.get("title_card"):
            from studio.generation.engines.animatic import draw_card

            card = draw_card(
                width,
                height,
                title=str(params["title"]),
                caption=f"Rough cut v{params['version']}",
                seed=0,
            )
            frames = np.repeat(np.asarray(card.convert("RGB"))[None], fps * TITLE_SECONDS, axis=0)
            path = work / "title.mp4"
            ffmpeg.encode_mp4(frames, fps, path)
            inputs.append((path, None))
        known: list[tuple[str | None, int | None, int | None, str | None, float | None]] = []
        for clip in params["clips"]:
            asset = assets[clip["asset_id"]]
            source = storage.path_for(asset.storage_key)
            known.append((asset.codec, asset.width, asset.height, asset.pix_fmt, asset.fps))
            if asset.mime.startswith("image/"):
                still = np.asarray(Image.open(source).convert("RGB"))
                path = work / f"{clip['code']}-still.mp4"
                ffmpeg.encode_mp4(np.repeat(still[None], fps * STILL_SECONDS, axis=0), fps, path)
                source = path
            inputs.append((source, clip["code"]))
        step(1, total)
        overlay = bool(params.get("overlay_codes"))
        if not overlay and _can_copy(inputs, known, params):
            joined = [path for path, _ in inputs]
            method = "copy"
        else:
            joined = []
            for index, (path, code) in enumerate(inputs):
                overlay_png = None
                if overlay and code:
                    overlay_png = work / f"overlay-{index}.png"
                    _code_overlay(code, width, height).save(overlay_png)
                out = work / f"norm-{index:03d}.mp4"
                ffmpeg.normalize_clip(
                    path, out, width=width, height=height, fps=fps, overlay_png=overlay_png
                )
                joined.append(out)
                step(index + 2, total)
            method = "normalized"
        posted: Future[None] | None = None
        if poster is not None:
            posted = pool.submit(ffmpeg.write_video_poster, joined[0], poster)
        result = ffmpeg.concat_copy(joined, target)
        if posted is not None:
            posted.result()
        step(total, total)
        return Rendered(method, result.sha256, result.probe)


def _can_copy(
    inputs: list[tuple[Path, str | None]],
    known: list[tuple[str | None, int | None, int | None, str | None, float | None]],
    params: dict[str, Any],
) -> bool:
    """Stream copy is possible when every clip shares codec, size, pixel format and rate.

    Uses what the assets recorded when they were made or uploaded; only clips
    without that (stills turned into clips, a title card) are probed now.
    """
    if any(None in entry for entry in known) or params.get("title_card"):
        return ffmpeg.clips_match([ffmpeg.probe(path) for path, _ in inputs])
    first = known[0]
    same = all(
        (c, w, h, p, round(f or 0, 3))
        == (first[0], first[1], first[2], first[3], round(first[4] or 0, 3))
        for c, w, h, p, f in known
    )
    return same and first[0] == "h264" and first[3] == "yuv420p" and len(known) == len(inputs)


def _code_overlay(code: str, width: int, height: int) -> Image.Image:
    """A transparent frame with the shot code in the lower left, for ffmpeg's overlay."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(12, height // 22))
    margin = max(8, height // 40)
    left, top, right, bottom = draw.textbbox((0, 0), code, font=font)
    box = (
        margin,
        height - margin - (bottom - top) - margin,
        margin * 3 + right - left,
        height - margin,
    )
    draw.rectangle(box, fill=(0, 0, 0, 150))
    draw.text((margin * 2, box[1] + margin // 2 - top), code, font=font, fill=(255, 255, 255, 235))
    return image
