"""Rough cuts: the circled takes in shot order, rendered into one MP4 on the
cpu queue, kept as numbered versions of the project.

Matching clips (same codec, size, frame rate, pixel format) are joined by
stream copy; otherwise each is letterboxed to the project's size and frame
rate first. A title card and a burned-in shot code are optional.

A cut can be trusted or it fails: shots without a circled take are named
before anything is queued (refused, or filled with a slate card: the user's
choice); on the worker every input is fetched from the store and probed
before the join, and the result must last the sum of its clips (within one
frame per clip), or the job fails naming the shot. Messages never carry a
server path.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts.access import Actor
from studio.accounts.models import Role
from studio.errors import InvalidInput
from studio.generation import kinds
from studio.generation import service as jobs
from studio.generation.context import Generation
from studio.generation.models import Job, JobStatus
from studio.media import ffmpeg
from studio.media.models import Asset
from studio.media.storage import ObjectMissing, Storage
from studio.projects import activity, roughcut_sound, sounds
from studio.projects import service as projects
from studio.projects.models import RoughCut, Shot, ShotStatus, Take

log = logging.getLogger(__name__)

ROUGH_CUT = "rough_cut"  # the job's model key and mode: a cpu-queue job, not a model
TITLE_SECONDS = 2
STILL_SECONDS = 2
SLATE_DEFAULT_SECONDS = 2
SLATE_MAX_SECONDS = 30
MissingPolicy = Literal["refuse", "slate"]
MISSING_POLICIES = ("refuse", "slate")


def request_rough_cut(
    session: Session,
    actor: Actor,
    project_id: int,
    gen: Generation,
    *,
    title_card: bool = False,
    overlay_codes: bool = False,
    missing: str = "refuse",
    music_asset_id: int | None = None,
    music_level_db: float | None = None,
    music_level_percent: float | None = None,
) -> RoughCut:
    """Snapshot the circled takes now and queue the render.

    Every shot of the film (omitted ones aside) needs a circled take. Those
    without one are named: `missing="refuse"` refuses the cut (nothing is
    queued), `missing="slate"` fills each with a slate card of the shot's
    target length.
    """
    if missing not in MISSING_POLICIES:
        raise InvalidInput(
            "Choose what to do with shots without a circled take: refuse or slate.",
            code="invalid_missing_policy",
        )
    project = projects.get_project(session, actor, project_id, Role.EDITOR)
    shots = [
        shot
        for shot in projects.list_shots(session, actor, project.id)
        if shot.status != ShotStatus.OMITTED
    ]
    uncircled = [shot for shot in shots if shot.selected_take_id is None]
    circled = [shot for shot in shots if shot.selected_take_id is not None]
    if uncircled and missing == "refuse" and circled:
        names = ", ".join(shot.code for shot in uncircled)
        raise InvalidInput(
            f"No circled take for {names}: circle a take for each, or choose slate cards "
            "for the missing shots.",
            code="shots_without_take",
        )
    # Load every circled take and its job in two queries; _finished_output then finds them
    # in the session (held in these lists: its identity map only keeps weak references).
    take_ids = [shot.selected_take_id for shot in circled]
    takes = list(session.scalars(select(Take).where(Take.id.in_(take_ids))))
    job_ids = [take.job_id for take in takes if take.job_id is not None]
    _jobs = list(session.scalars(select(Job).where(Job.id.in_(job_ids)))) if job_ids else []
    clips: list[dict[str, Any]] = []
    for shot in shots:
        if shot.selected_take_id is None:
            seconds = shot.target_duration or SLATE_DEFAULT_SECONDS
            clips.append(
                {
                    "code": shot.code,
                    "slate": True,
                    "seconds": max(1, min(SLATE_MAX_SECONDS, round(seconds))),
                    "description": (shot.description or "")[:200],
                }
            )
        else:
            clips.append({"code": shot.code, "asset_id": _finished_output(session, shot)})
    if not circled:
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
    options: dict[str, Any] = {"title_card": title_card, "overlay_codes": overlay_codes}
    if uncircled:
        options["slates"] = [shot.code for shot in uncircled]
    music = sounds.music_option(
        session, actor, project.workspace_id, music_asset_id, music_level_db, music_level_percent
    )
    if music is not None:
        options["music"] = True
    job = jobs.submit_kind_job(
        session,
        gen.dispatcher,
        kind=ROUGH_CUT,
        queue="cpu",
        workspace_id=project.workspace_id,
        user_id=actor.user_id,
        params={
            "project_id": project.id,
            "title": project.title,
            "version": number,
            "width": width,
            "height": height,
            "fps": project.default_fps,
            "clips": clips,
            **options,
            **({"music": music} if music else {}),
        },
        max_attempts=gen.settings.job_max_attempts,
    )
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
        f"started rough cut v{number} ({len(clips)} shots"
        + (f", {len(uncircled)} on slate cards)" if uncircled else ")"),
    )
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


class CutFailed(ffmpeg.MediaError):
    """The cut cannot be trusted; the message names the shot (never a path)."""


@dataclass
class _Input:
    path: Path
    code: str | None  # None for the title card
    probe: ffmpeg.Probe


def run_job(job: kinds.KindJob) -> kinds.Made:
    """The rough cut as a job kind: render into the store, hand the file to the runner."""
    started = time.monotonic()
    base = f"ws{job.workspace_id}/cuts/{job.public_id}/a{job.attempt}"
    output_key, poster_key = f"{base}-roughcut.mp4", f"{base}-poster.jpg"
    job.written.extend([output_key, poster_key])
    with job.storage.writer(output_key) as target, job.storage.writer(poster_key) as poster_path:
        rendered = render(
            job.session_scope, job.storage, job.params, target, job.step, poster=poster_path
        )
        output = kinds.StoredFile(output_key, target.stat().st_size, rendered.sha256)
        poster = kinds.stored(poster_key, poster_path)
    timings = {"render_s": round(time.monotonic() - started, 4), "method": rendered.method}
    return kinds.Made(output, poster, rendered.info, timings)


JOB_KIND = kinds.JobKind(ROUGH_CUT, "cpu", run_job)


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

    Each clip is fetched from the store into scratch first and checked against
    what was recorded when it was stored (its size; its probe, or a probe now
    when none was recorded): a missing or changed one fails the job naming its
    shot. After the join
    the result is probed too and must last the sum of its clips, within one
    frame each. The poster is taken from the first file joined, whose first
    frame the cut opens with (stream copy keeps it bit for bit).
    """
    width, height, fps = int(params["width"]), int(params["height"]), int(params["fps"])
    clips: list[dict[str, Any]] = list(params["clips"])
    wanted = [c["asset_id"] for c in clips if c.get("asset_id") is not None]
    with session_factory() as session:
        assets = {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(wanted)))}
        # Plain values: the rows are not used after their session closes.
        known = {
            a.id: (
                a.storage_key,
                a.mime,
                a.codec,
                a.width,
                a.height,
                a.pix_fmt,
                a.fps,
                a.bytes,
                a.duration,
                a.frame_count,
                a.has_audio,
            )
            for a in assets.values()
        }
        bed = roughcut_sound.bed_row(session, params.get("music"))
    total = len(clips) + 2
    with (
        tempfile.TemporaryDirectory(prefix="roughcut-") as scratch,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="roughcut-poster") as pool,
    ):
        work = Path(scratch)
        inputs: list[_Input] = []
        fetched = _fetch(storage, clips, known, work)
        if params.get("title_card"):
            path = work / "title.mp4"
            _card_clip(
                path,
                width,
                height,
                fps,
                TITLE_SECONDS,
                title=str(params["title"]),
                caption=f"Rough cut v{params['version']}",
            )
            inputs.append(_Input(path, None, ffmpeg.probe(path)))
        for index, clip in enumerate(clips):
            code = str(clip["code"])
            if clip.get("slate"):
                path = work / f"slate-{index:03d}.mp4"
                _card_clip(
                    path,
                    width,
                    height,
                    fps,
                    int(clip.get("seconds") or SLATE_DEFAULT_SECONDS),
                    title=code,
                    caption="No take circled. " + str(clip.get("description") or ""),
                )
                inputs.append(_Input(path, code, ffmpeg.probe(path)))
                continue
            row = known.get(clip["asset_id"])
            if row is None:
                raise CutFailed(f"{code}: its circled take's file no longer exists.")
            key, mime = row[0], row[1]
            source = fetched[key]
            if source.stat().st_size != row[7]:
                raise CutFailed(
                    f"{code}: its circled take in the media store is not the file that was "
                    "recorded; upload it again or circle another take."
                )
            recorded_probe = None
            if mime.startswith("image/"):
                source = _still_clip(source, work / f"still-{index:03d}.mp4", fps, code)
            else:
                recorded_probe = _recorded(row)
            inputs.append(_Input(source, code, recorded_probe or _probe_input(source, code)))
        step(1, total)
        overlay = bool(params.get("overlay_codes"))
        recorded = [known[c["asset_id"]][2:7] for c in clips if c.get("asset_id") in known]
        if not overlay and _can_copy(inputs, recorded):
            joined, lengths = [i.path for i in inputs], [i.probe for i in inputs]
            method = "copy"
        else:
            joined, lengths = [], []
            for index, item in enumerate(inputs):
                overlay_png = None
                if overlay and item.code:
                    overlay_png = work / f"overlay-{index}.png"
                    _code_overlay(item.code, width, height).save(overlay_png)
                out = work / f"norm-{index:03d}.mp4"
                try:
                    ffmpeg.normalize_clip(
                        item.path, out, width=width, height=height, fps=fps, overlay_png=overlay_png
                    )
                    lengths.append(ffmpeg.probe(out))
                except ffmpeg.MediaError:
                    raise CutFailed(f"{_name(item)}: re-encoding its clip failed.") from None
                _check_length(item, item.probe.duration, lengths[-1], fps)
                joined.append(out)
                step(index + 2, total)
            method = "normalized"
        posted: Future[None] | None = None
        if poster is not None:
            posted = pool.submit(ffmpeg.write_video_poster, joined[0], poster)
        music = roughcut_sound.fetch_bed(storage, bed, work)
        try:
            if music is not None or any(item.probe.has_audio for item in inputs):
                clips_heard = [
                    roughcut_sound.Clip(i.path, i.probe, length.duration)
                    for i, length in zip(inputs, lengths, strict=True)
                ]
                result = roughcut_sound.join_with_sound(joined, clips_heard, target, work, music)
            else:
                result = ffmpeg.concat_copy(joined, target)
        except roughcut_sound.SoundFailed as exc:
            raise CutFailed(exc.message) from None
        except ffmpeg.MediaError:
            for item in inputs:  # which one? the first that does not probe
                _probe_input(item.path, _name(item))
            raise CutFailed("Joining the clips failed; no cut was made.") from None
        try:
            _check_total(inputs, lengths, result.probe)
        except CutFailed:
            for item in inputs:  # an input that does not even probe is the better name
                _probe_input(item.path, _name(item))
            raise
        if posted is not None:
            posted.result()
        step(total, total)
        return Rendered(method, result.sha256, result.probe)


def _fetch(
    storage: Storage, clips: list[dict[str, Any]], known: dict[int, tuple[Any, ...]], work: Path
) -> dict[str, Path]:
    """Every circled take into scratch, side by side; a missing one fails naming its shot."""
    keys: list[str] = []
    codes: dict[str, str] = {}
    for clip in clips:
        row = None if clip.get("slate") else known.get(int(clip.get("asset_id") or 0))
        if row is None:
            continue
        keys.append(row[0])
        codes.setdefault(row[0], str(clip["code"]))
    (work / "in").mkdir()
    try:
        return storage.fetch_all(keys, work / "in")
    except ObjectMissing as missing:
        raise CutFailed(
            f"{codes.get(missing.key, 'A shot')}: its circled take is missing from the media "
            "store; circle another take or upload it again."
        ) from None


def _recorded(row: tuple[Any, ...]) -> ffmpeg.Probe | None:
    """What the take's probe recorded when it was stored (assets are written once, and
    its size was just checked against the record): no need to probe it again. The
    join's length check still catches a file that cannot be read to the end."""
    _, mime, codec, width, height, pix_fmt, rate, _, duration, frames, has_audio = row
    if None in (codec, width, height, pix_fmt, rate, duration, frames):
        return None
    if has_audio is not False:  # sound not recorded, or its track's details needed: probe
        return None
    matroska = mime == "video/webm"
    return ffmpeg.Probe(
        format_name="matroska,webm" if matroska else "mov,mp4,m4a,3gp,3g2,mj2",
        codec=codec,
        pix_fmt=pix_fmt,
        width=width,
        height=height,
        frames=frames,
        fps=rate,
        duration=duration,
        faststart=False,
    )


def _probe_input(path: Path, code: str) -> ffmpeg.Probe:
    try:
        return ffmpeg.probe(path)
    except ffmpeg.MediaError as exc:
        raise CutFailed(f"{code}: its circled take cannot be read ({exc.message})") from None


def _name(item: _Input) -> str:
    return item.code or "The title card"


def _card_clip(
    path: Path, width: int, height: int, fps: int, seconds: int, *, title: str, caption: str
) -> None:
    from studio.generation.engines.animatic import draw_card

    card = draw_card(width, height, title=title, caption=caption, seed=0)
    frames = np.repeat(np.asarray(card.convert("RGB"))[None], fps * seconds, axis=0)
    ffmpeg.encode_mp4(frames, fps, path)


def _still_clip(source: Path, path: Path, fps: int, code: str) -> Path:
    try:
        with Image.open(source) as image:
            still = np.asarray(image.convert("RGB"))
    except OSError:
        raise CutFailed(f"{code}: its circled image cannot be read.") from None
    ffmpeg.encode_mp4(np.repeat(still[None], fps * STILL_SECONDS, axis=0), fps, path)
    return path


def _check_length(item: _Input, expected: float, got: ffmpeg.Probe, fps: int) -> None:
    """A normalized clip keeps its length (within one frame of the cut's rate)."""
    if abs(got.duration - expected) > 1.0 / fps + 1e-3:
        raise CutFailed(
            f"{_name(item)}: its clip came out {got.duration:.2f} s long instead of "
            f"{expected:.2f} s; no cut was made."
        )


def _check_total(inputs: list[_Input], lengths: list[ffmpeg.Probe], result: ffmpeg.Probe) -> None:
    """The cut lasts the sum of its clips, within one frame per clip, or it fails.

    ffmpeg's concat exits 0 when a later file cannot be read and writes a
    short film; this is what catches that. The shot named is the first whose
    clip does not start where the result says it should.
    """
    expected = sum(p.duration for p in lengths)
    tolerance = sum(1.0 / p.fps if p.fps else 0.05 for p in lengths) + 1e-3
    if abs(result.duration - expected) <= tolerance:
        return
    elapsed = 0.0
    culprit = inputs[-1]
    for item, length in zip(inputs, lengths, strict=True):
        elapsed += length.duration
        if elapsed > result.duration + tolerance:
            culprit = item
            break
    raise CutFailed(
        f"{_name(culprit)}: the joined cut runs {result.duration:.2f} s instead of "
        f"{expected:.2f} s, so this shot did not make it in; no cut was made."
    )


def _can_copy(inputs: list[_Input], recorded: list[tuple[Any, ...]]) -> bool:
    """Stream copy is possible when every clip shares codec, size, pixel format and rate.

    Judged on each input's probe (recorded when the take was stored, or taken
    now for stills, cards and takes stored without one) and on the assets'
    recorded values.
    """
    probes = [item.probe for item in inputs]
    if not ffmpeg.clips_match(probes):
        return False
    first = probes[0]
    now = (first.codec, first.width, first.height, first.pix_fmt, round(first.fps, 3))
    return all(
        (c, w, h, p, round(f or 0, 3)) == now or None in (c, w, h, p, f)
        for c, w, h, p, f in recorded
    )


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
