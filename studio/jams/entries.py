"""Entries: one per team, replaced freely until the deadline.

The deadline rule (rules.submission_status) is applied to the database clock,
read in the transaction that writes the entry, after taking the locks:
- FOR SHARE on the jam row: an organizer moving the deadline waits for (or
  is waited on by) the submissions in flight, never half-applies to them;
- FOR UPDATE on the team row: two members saving at once are serialized, so
  the second sees the first's entry and replaces it (UNIQUE team_id backs it);
- then the clock: on time -> submitted, within grace -> late, after ->
  refused before anything is written (the edge's transaction rolls back, and
  an uploaded file is only referenced, never written, here). The API passes
  `clock.arrival_clock`: the moment the request reached the web process,
  bounded by the database clock, so waiting in the deadline rush for the
  locks never makes a save late; a save never dates before the entry's last
  change (teammates' saves taking the lock out of arrival order).
Different teams never wait on each other. Any change after the deadline
(within grace) makes the entry late: the film judged is the one submitted on time.

Films are validated before they count: probed with the media module's
allow-listed demuxers (file protocol only: no playlists, no concat lists),
within the jam's length limits and size limit.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts.access import Actor
from studio.accounts.models import Role
from studio.db.session import on_rollback
from studio.errors import Conflict, InvalidInput, NotFound
from studio.generation.models import Job, JobStatus
from studio.jams import access, locks, rules
from studio.jams.clock import Clock, db_clock
from studio.jams.models import Entry, EntryStatus, FilmSource, Jam, JamTeam
from studio.media import ffmpeg, images, sandbox
from studio.media import service as media
from studio.media.models import Asset
from studio.media.storage import ObjectMissing, Storage
from studio.projects import service as projects
from studio.projects import takes
from studio.projects.models import RoughCut

FILM_NOT_FOUND = "No such film in your team's workspace."
ENTRY_NOT_FOUND = "No such entry in this jam."
TEXT_MAX = 4000
VISIBLE = (EntryStatus.SUBMITTED, EntryStatus.LATE)  # what voters and the gallery see


@dataclass
class EntryInput:
    """A save of the team's entry. None leaves a field as it is. At most one film
    source: an uploaded film (upload_film's asset id), a take, or a rough cut.
    submit=False keeps it a draft; True submits (on time or late, by the clock)."""

    title: str | None = None
    logline: str | None = None
    credits: str | None = None
    film_asset_id: int | None = None
    film_take_id: int | None = None
    film_rough_cut_id: int | None = None
    poster_asset_id: int | None = None
    submit: bool = True


@dataclass(frozen=True)
class FilmCheck:
    asset_id: int
    seconds: float
    width: int
    height: int
    bytes: int


@dataclass(frozen=True)
class EntryView:
    id: int
    team_id: int
    team_name: str
    status: EntryStatus
    title: str
    logline: str
    credits: str
    poster_asset_id: int | None  # the poster the team uploaded
    film_asset_id: int | None
    film_source: FilmSource | None
    film_source_id: int | None
    film_seconds: float | None
    submitted_at: datetime | None
    updated_at: datetime
    revision: int
    disqualified_reason: str | None
    drawn_elements: dict[str, str] | None  # None before kickoff
    film_poster_asset_id: int | None = None  # a frame of the film

    @property
    def shown_poster_asset_id(self) -> int | None:
        """What cards show: the team's poster, else a frame of the film."""
        return self.poster_asset_id or self.film_poster_asset_id


def view_of(session: Session, jam: Jam, entry: Entry, now: datetime) -> EntryView:
    team = session.get(JamTeam, entry.team_id)
    assert team is not None
    return EntryView(
        id=entry.id,
        team_id=team.id,
        team_name=team.name,
        status=entry.status,
        title=entry.title,
        logline=entry.logline,
        credits=entry.credits,
        poster_asset_id=entry.poster_asset_id,
        film_asset_id=entry.film_asset_id,
        film_source=entry.film_source,
        film_source_id=entry.film_source_id,
        film_seconds=entry.film_seconds,
        submitted_at=entry.submitted_at,
        updated_at=entry.updated_at,
        revision=entry.revision,
        disqualified_reason=entry.disqualified_reason,
        drawn_elements=team.drawn_elements if rules.elements_revealed(jam, now) else None,
        film_poster_asset_id=entry.film_poster_asset_id,
    )


# ---------------------------------------------------------------- team side


def film_upload_limit(session: Session, actor: Actor, slug: str) -> int:
    """The largest film this person may upload to this jam (they must be on a team)."""
    jam = access.jam_by_slug(session, slug)
    access.my_team(session, actor, jam, Role.EDITOR)
    return int(jam.film_max_bytes)


def check_film_upload(session: Session, actor: Actor, slug: str) -> tuple[int, int, int]:
    """Before a direct upload starts: (jam id, team workspace id, size limit) for this person."""
    jam = access.jam_by_slug(session, slug)
    team = access.my_team(session, actor, jam, Role.EDITOR)
    return jam.id, team.workspace_id, int(jam.film_max_bytes)


def accept_uploaded_film(
    session: Session, actor: Actor, jam_id: int, asset: Asset, info: ffmpeg.Probe
) -> FilmCheck:
    """A film uploaded straight to the store and probed there: within this jam's limits?

    Raises InvalidInput (nothing kept) when it is not; audits it when it is.
    It counts for the entry only once put_entry names it.
    """
    jam = session.get(Jam, jam_id)
    if jam is None:
        raise NotFound("No such jam.", code="jam_not_found")
    team = access.my_team(session, actor, jam, Role.EDITOR)
    if asset.workspace_id != team.workspace_id:
        raise NotFound(FILM_NOT_FOUND, code="film_not_found")
    _check_size(jam, asset.bytes)
    _check_length(jam, info.duration)
    _check_sound(jam, info.has_audio)
    audit.record(
        session,
        "entry.film_uploaded",
        actor_user_id=actor.user_id,
        workspace_id=team.workspace_id,
        target=f"jam:{jam.slug}",
        asset_id=asset.id,
        direct=True,
    )
    return FilmCheck(asset.id, info.duration, info.width, info.height, asset.bytes)


def attach_time(
    session: Session, actor: Actor, jam_id: int, *, clock: Clock = db_clock
) -> datetime:
    """The moment a completed film upload is attached to the team's entry (the database
    clock); refused now, like put_entry, when entries are not open."""
    jam = session.get(Jam, jam_id)
    if jam is None:
        raise NotFound("No such jam.", code="jam_not_found")
    access.my_team(session, actor, jam, Role.EDITOR)
    now = clock(session)
    if now < jam.kickoff_at:
        raise Conflict("The jam has not started.", code="not_started")
    if rules.submission_status(jam, now) is None:
        raise Conflict(
            f"Too late: the deadline was {jam.deadline_at.isoformat()} and the grace period "
            f"ended at {rules.grace_ends_at(jam).isoformat()}.",
            code="deadline_passed",
        )
    return now


def seconds_to_deadline(session: Session, jam_id: int, *, clock: Clock = db_clock) -> float | None:
    jam = session.get(Jam, jam_id)
    if jam is None:
        return None
    return (jam.deadline_at - clock(session)).total_seconds()


def jam_slug(session: Session, jam_id: int) -> str:
    jam = session.get(Jam, jam_id)
    if jam is None:
        raise NotFound("No such jam.", code="jam_not_found")
    return jam.slug


def upload_film(
    session: Session, actor: Actor, slug: str, film: Path, *, storage: Storage
) -> FilmCheck:
    """Validate an uploaded film (a file on this host's disk) against the jam's rules
    and keep it in the team's workspace. It counts only once put_entry names it."""
    jam = access.jam_by_slug(session, slug)
    team = access.my_team(session, actor, jam, Role.EDITOR)
    size = film.stat().st_size
    if not size:
        raise InvalidInput("The upload is empty.", code="empty_upload")
    _check_size(jam, size)
    info = _probe(jam, film)
    poster = media.poster_of_upload(film)  # sandboxed; None: the film is kept without one
    asset = media.keep_uploaded_video_file(
        session, storage, workspace_id=team.workspace_id, folder="jam", path=film, info=info
    )
    media.keep_poster(session, storage, asset, poster, folder="jam")
    audit.record(
        session,
        "entry.film_uploaded",
        actor_user_id=actor.user_id,
        workspace_id=team.workspace_id,
        target=f"jam:{jam.slug}",
        asset_id=asset.id,
    )
    return FilmCheck(asset.id, info.duration, info.width, info.height, size)


def upload_poster(
    session: Session,
    actor: Actor,
    slug: str,
    data: bytes,
    *,
    storage: Storage,
    max_bytes: int,
    max_pixels: int,
) -> int:
    """A poster image (PNG, JPEG or WebP, decoded with caps, kept as PNG) -> asset id."""
    jam = access.jam_by_slug(session, slug)
    team = access.my_team(session, actor, jam, Role.EDITOR)
    try:
        image = images.load_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    except ffmpeg.MediaError as exc:
        raise InvalidInput(exc.message, code="invalid_poster") from None
    key = f"ws{team.workspace_id}/jam/poster-{uuid.uuid4().hex}.png"
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    png = buffer.getvalue()
    storage.write_bytes(key, png)
    on_rollback(session, lambda: storage.delete(key))
    asset = media.record_stored(
        session,
        workspace_id=team.workspace_id,
        key=key,
        kind="poster",
        size=len(png),
        sha256=hashlib.sha256(png).hexdigest(),
        width=image.width,
        height=image.height,
    )
    return asset.id


def put_entry(
    session: Session,
    actor: Actor,
    slug: str,
    values: EntryInput,
    *,
    storage: Storage,
    clock: Clock = db_clock,
) -> EntryView:
    """Create or replace the team's entry; the database clock decides on time / late / refused."""
    jam = access.jam_by_slug(session, slug)
    team = access.my_team(session, actor, jam, Role.EDITOR)
    texts = {
        "title": _text(values.title, "Title", 120),
        "logline": _text(values.logline, "Logline", 1000),
        "credits": _text(values.credits, "Credits", TEXT_MAX),
    }
    film = _resolve_film(session, actor, jam, team, values, storage)
    poster = _resolve_poster(session, team, values.poster_asset_id)

    # Locks first, then the clock: see the module docstring.
    jam = locks.lock_jam(session, jam.id, shared=True)
    locks.lock_team(session, team.id)
    entry = session.scalar(
        select(Entry).where(Entry.team_id == team.id).execution_options(populate_existing=True)
    )
    now = clock(session)
    if entry is not None and entry.updated_at is not None and now < entry.updated_at:
        # Dated by arrival, two teammates' saves can take the lock in the other order
        # than they arrived: the later one in never goes back in time (it wins, and
        # stays on time if both arrived in time).
        now = entry.updated_at
    if now < jam.kickoff_at:
        raise Conflict(
            "The jam has not started: entries open at kickoff, "
            f"{rules.at_jam(jam, jam.kickoff_at)}.",
            code="not_started",
        )
    on_time = rules.submission_status(jam, now)
    if on_time is None:
        raise Conflict(
            f"Too late: the deadline was {rules.at_jam(jam, jam.deadline_at)} and late entries "
            f"closed {rules.at_jam(jam, rules.grace_ends_at(jam))}. Your entry was not changed.",
            code="deadline_passed",
        )
    if entry is not None and entry.status is EntryStatus.DISQUALIFIED:
        raise Conflict(
            f"This entry was disqualified: {entry.disqualified_reason}", code="disqualified"
        )
    if (
        not values.submit
        and entry is not None
        and entry.status in (EntryStatus.SUBMITTED, EntryStatus.LATE)
        and on_time is EntryStatus.LATE
    ):
        # A draft save would take a submitted film out of the running after the
        # deadline, with no way back to "on time": refuse it, change nothing.
        raise Conflict(
            "Your film is submitted and the deadline has passed: saving a draft now would "
            "withdraw it from judging. Submit again to replace it (it then counts as late, "
            "audience award only), or leave it as it is.",
            code="submitted_after_deadline",
        )
    creating = entry is None
    if entry is None:
        entry = Entry(jam_id=jam.id, team_id=team.id, status=EntryStatus.DRAFT, revision=0)
        session.add(entry)
    for name, value in texts.items():
        if value is not None:
            setattr(entry, name, value)
    if film is not None:
        check, source, source_id, film_poster = film
        entry.film_asset_id = check.asset_id
        entry.film_source = source
        entry.film_source_id = source_id
        entry.film_seconds = check.seconds
        entry.film_poster_asset_id = film_poster
    if poster is not None:
        entry.poster_asset_id = poster
    if values.submit:
        if entry.film_asset_id is None:
            raise InvalidInput("Add a film before submitting.", code="film_required")
        if not (entry.title or "").strip():
            raise InvalidInput("Give the film a title before submitting.", code="title_required")
        entry.status = on_time
        entry.submitted_at = now
    else:
        entry.status = EntryStatus.DRAFT
        entry.submitted_at = None
    entry.disqualified_reason = None
    entry.updated_at = now
    entry.updated_by = actor.user_id
    entry.revision = (entry.revision or 0) + 1
    session.flush()
    audit.record(
        session,
        f"entry.{entry.status.value}" if values.submit else "entry.draft_saved",
        actor_user_id=actor.user_id,
        workspace_id=team.workspace_id,
        target=f"entry:{entry.id}",
        jam=jam.slug,
        created=creating,
        status=entry.status.value,
        at=now.isoformat(),
        film_asset_id=entry.film_asset_id,
        revision=entry.revision,
    )
    return view_of(session, jam, entry, now)


def get_my_entry(
    session: Session, actor: Actor, slug: str, *, clock: Clock = db_clock
) -> EntryView:
    """The team's own entry, drafts included (team members only)."""
    jam = access.jam_by_slug(session, slug)
    team = access.my_team(session, actor, jam)
    entry = session.scalar(select(Entry).where(Entry.team_id == team.id))
    if entry is None:
        raise NotFound("Your team has no entry yet.", code="entry_not_found")
    return view_of(session, jam, entry, clock(session))


def withdraw_entry(
    session: Session, actor: Actor, slug: str, *, clock: Clock = db_clock
) -> EntryView:
    """The team takes its film out of the running (until judging closes)."""
    jam = access.jam_by_slug(session, slug)
    team = access.my_team(session, actor, jam, Role.EDITOR)
    locks.lock_team(session, team.id)
    entry = session.scalar(select(Entry).where(Entry.team_id == team.id))
    if entry is None:
        raise NotFound("Your team has no entry yet.", code="entry_not_found")
    now = clock(session)
    if now >= jam.judging_closes_at or jam.results_published_at is not None:
        raise Conflict("Judging has closed; the entry can no longer be withdrawn.", code="closed")
    if entry.status is EntryStatus.DISQUALIFIED:
        raise Conflict("A disqualified entry cannot be withdrawn.", code="disqualified")
    entry.status = EntryStatus.WITHDRAWN
    entry.updated_at = now
    entry.updated_by = actor.user_id
    entry.revision += 1
    _audit(session, actor, team.workspace_id, entry, "entry.withdrawn", now)
    session.flush()
    return view_of(session, jam, entry, now)


# ---------------------------------------------------------------- organizer side


def list_entries(
    session: Session,
    actor: Actor,
    slug: str,
    *,
    status: EntryStatus | None = None,
    clock: Clock = db_clock,
) -> list[EntryView]:
    """Organizers: every entry that is not a draft (drafts stay private to the team;
    the dashboard counts them)."""
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    query = select(Entry).where(Entry.jam_id == jam.id, Entry.status != EntryStatus.DRAFT)
    if status is not None:
        if status is EntryStatus.DRAFT:
            raise InvalidInput("Drafts are private to their teams.", code="drafts_private")
        query = query.where(Entry.status == status)
    now = clock(session)
    return [view_of(session, jam, e, now) for e in session.scalars(query.order_by(Entry.id))]


def disqualify_entry(
    session: Session,
    actor: Actor,
    slug: str,
    entry_id: int,
    *,
    reason: str,
    clock: Clock = db_clock,
) -> EntryView:
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    entry = _entry_in(session, jam, entry_id)
    # The same team-row lock put_entry takes: a save and a disqualification
    # never interleave (the team is never told "submitted" for a DQ'd film).
    locks.lock_team(session, entry.team_id)
    session.refresh(entry)
    if entry.status is EntryStatus.DRAFT:
        raise NotFound(ENTRY_NOT_FOUND, code="entry_not_found")
    why = " ".join((reason or "").split())
    if not 3 <= len(why) <= 500:
        raise InvalidInput("Give a reason (3 to 500 characters).", code="reason_required")
    now = clock(session)
    entry.status = EntryStatus.DISQUALIFIED
    entry.disqualified_reason = why
    entry.updated_at = now
    entry.updated_by = actor.user_id
    entry.revision += 1
    team = session.get(JamTeam, entry.team_id)
    assert team is not None
    _audit(session, actor, team.workspace_id, entry, "entry.disqualified", now, reason=why)
    session.flush()
    return view_of(session, jam, entry, now)


# ---------------------------------------------------------------- helpers


def _entry_in(session: Session, jam: Jam, entry_id: int) -> Entry:
    entry = session.get(Entry, entry_id)
    if entry is None or entry.jam_id != jam.id:
        raise NotFound(ENTRY_NOT_FOUND, code="entry_not_found")
    return entry


def _audit(
    session: Session,
    actor: Actor,
    workspace_id: int,
    entry: Entry,
    action: str,
    now: datetime,
    **details: object,
) -> None:
    audit.record(
        session,
        action,
        actor_user_id=actor.user_id,
        workspace_id=workspace_id,
        target=f"entry:{entry.id}",
        status=entry.status.value,
        at=now.isoformat(),
        revision=entry.revision,
        **details,
    )


def _text(value: str | None, label: str, limit: int) -> str | None:
    if value is None:
        return None
    cleaned = str(value).strip()
    if len(cleaned) > limit:
        raise InvalidInput(f"{label} is limited to {limit} characters.", code="text_too_long")
    return cleaned


def _check_size(jam: Jam, size: int) -> None:
    if size > jam.film_max_bytes:
        raise InvalidInput(
            f"The film is {size / 1024**2:.1f} MB; this jam's limit is "
            f"{jam.film_max_bytes / 1024**2:.1f} MB.",
            code="film_too_large",
        )


def _probe(jam: Jam, path: Path) -> ffmpeg.Probe:
    try:
        info = sandbox.probe_isolated(path)  # untrusted: time and memory capped
    except ffmpeg.MediaError as exc:
        raise InvalidInput(exc.message, code="invalid_film") from None
    _check_length(jam, info.duration)
    _check_sound(jam, info.has_audio)
    return info


def _check_sound(jam: Jam, has_audio: bool) -> None:
    if jam.film_needs_sound and not has_audio:
        raise InvalidInput(
            "The film has no sound: this jam's rules ask for an audio track. Add sound "
            "(dialogue, music or effects) and export it again with its audio.",
            code="film_needs_sound",
        )


def _check_length(jam: Jam, seconds: float) -> None:
    if not jam.film_min_seconds <= seconds <= jam.film_max_seconds:
        raise InvalidInput(
            f"The film runs {seconds:.1f} s; this jam takes films from "
            f"{jam.film_min_seconds:g} to {jam.film_max_seconds:g} s.",
            code="film_length",
        )


def _check_asset(jam: Jam, storage: Storage, asset: Asset) -> FilmCheck:
    """A stored video counts only if it is still in the store and fits the jam's limits.

    Assets are immutable (server-made keys, written once), so a video we
    probed when it was stored is judged on what that probe recorded plus a
    look at the store (no 2 GiB download per save); anything else is
    fetched and probed now.
    """
    if not asset.mime.startswith("video/"):
        raise InvalidInput("That file is not a video.", code="invalid_film")
    _check_size(jam, asset.bytes)
    recorded = (asset.duration, asset.width, asset.height, asset.codec)
    # Sound recorded (True/False) since sound was tracked; older videos are probed again.
    sound_known = asset.has_audio is not None or not jam.film_needs_sound
    if None not in recorded and asset.duration is not None and sound_known:
        if not storage.exists(asset.storage_key):
            raise InvalidInput(
                "That film is missing from the media store; upload it again.",
                code="film_missing",
            )
        _check_length(jam, asset.duration)
        _check_sound(jam, bool(asset.has_audio))
        assert asset.width is not None and asset.height is not None
        return FilmCheck(asset.id, asset.duration, asset.width, asset.height, asset.bytes)
    try:
        with storage.local_copy(asset.storage_key) as path:
            info = _probe(jam, path)
    except ObjectMissing:
        raise InvalidInput(
            "That film is missing from the media store; upload it again.", code="film_missing"
        ) from None
    return FilmCheck(asset.id, info.duration, info.width, info.height, asset.bytes)


def _resolve_film(
    session: Session,
    actor: Actor,
    jam: Jam,
    team: JamTeam,
    values: EntryInput,
    storage: Storage,
) -> tuple[FilmCheck, FilmSource, int | None, int | None] | None:
    """The film a save names: its check, source, source id and poster (a frame of it:
    the upload's poster, the take's, the rough cut's; None where it has none)."""
    given = [
        v
        for v in (values.film_asset_id, values.film_take_id, values.film_rough_cut_id)
        if v is not None
    ]
    if not given:
        return None
    if len(given) > 1:
        raise InvalidInput(
            "Choose one film: an upload, a take or a rough cut.", code="one_film_source"
        )
    source_id: int | None
    poster: int | None = None
    if values.film_asset_id is not None:
        source, source_id, asset_id = FilmSource.UPLOAD, None, values.film_asset_id
    elif values.film_take_id is not None:
        source, source_id = FilmSource.TAKE, values.film_take_id
        try:
            take = takes.get_take(session, actor, values.film_take_id)
        except NotFound:
            raise NotFound(FILM_NOT_FOUND, code="film_not_found") from None
        taken = takes.view(session, actor, take)
        if taken.output_asset_id is None:
            raise InvalidInput("That take has no finished video yet.", code="film_not_ready")
        asset_id = taken.output_asset_id
        poster = taken.job.poster_asset_id if taken.job is not None else None
    else:
        assert values.film_rough_cut_id is not None
        source, source_id = FilmSource.ROUGH_CUT, values.film_rough_cut_id
        asset_id, poster = _rough_cut_output(session, actor, values.film_rough_cut_id)
    asset = session.get(Asset, asset_id)
    # Only the team's own workspace: a film from anywhere else is "not found".
    if asset is None or asset.workspace_id != team.workspace_id:
        raise NotFound(FILM_NOT_FOUND, code="film_not_found")
    if poster is None:  # an uploaded film or take: the poster made when it was kept
        poster = asset.poster_asset_id
    return _check_asset(jam, storage, asset), source, source_id, poster


def _rough_cut_output(session: Session, actor: Actor, cut_id: int) -> tuple[int, int | None]:
    """A finished rough cut's video and poster."""
    cut = session.get(RoughCut, cut_id)
    if cut is None:
        raise NotFound(FILM_NOT_FOUND, code="film_not_found")
    try:
        projects.get_project(session, actor, cut.project_id)
    except NotFound:
        raise NotFound(FILM_NOT_FOUND, code="film_not_found") from None
    job = session.get(Job, cut.job_id)
    if job is None or job.status != JobStatus.SUCCEEDED or job.output_asset_id is None:
        raise InvalidInput("That rough cut has not finished rendering.", code="film_not_ready")
    return job.output_asset_id, job.poster_asset_id


def _resolve_poster(session: Session, team: JamTeam, asset_id: int | None) -> int | None:
    if asset_id is None:
        return None
    asset = session.get(Asset, asset_id)
    if asset is None or asset.workspace_id != team.workspace_id:
        raise NotFound("No such poster in your team's workspace.", code="poster_not_found")
    if not asset.mime.startswith("image/"):
        raise InvalidInput("The poster must be an image.", code="invalid_poster")
    return asset.id
