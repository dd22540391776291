"""A rough cut's sound (worker side): each take's own sound in sync, silence where a
take has none, and an optional bed under the whole cut.

The picture is joined as before (stream copy when the clips match). The
sound is always rebuilt as one AAC track: joining AAC tracks by stream copy
drifts, because every clip carries its encoder's priming samples (measured:
the fourth clip of a copy-join started 100 ms late), so each clip's sound is
cut or padded to exactly its picture's length and the pieces are laid end to
end. Clip N's sound then starts on clip N's first frame, within one audio
frame, however many clips the cut has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from studio.media import ffmpeg, sounds
from studio.media.models import Asset
from studio.media.service import sha256_of
from studio.media.storage import ObjectMissing, Storage


class SoundFailed(ffmpeg.MediaError):
    """The cut's sound could not be made or is out of sync; the message says which."""


@dataclass(frozen=True)
class Clip:
    path: Path  # the take's own file (its sound is read from here)
    probe: ffmpeg.Probe  # of that file
    seconds: float  # the clip's picture length in the cut


@dataclass(frozen=True)
class Bed:
    path: Path
    format: str  # the demuxer recorded when it was uploaded
    gain_db: float


def clip_sound(clip: Clip) -> ffmpeg.SoundFile | None:
    if not clip.probe.has_audio:
        return None
    matroska = clip.probe.format_name.startswith("matroska")
    return ffmpeg.SoundFile(clip.path, "matroska" if matroska else "mov")


def join_with_sound(
    pictures: list[Path], clips: list[Clip], target: Path, work: Path, bed: Bed | None
) -> ffmpeg.Joined:
    """The joined picture with the cut's sound track under it, at `target`."""
    picture = ffmpeg.concat_copy(pictures, work / "picture.mp4", video_only=True)
    track = work / "sound.mp4"
    segments = [sounds.Segment(c.seconds, clip_sound(c)) for c in clips]
    try:
        sounds.build_track(
            segments,
            track,
            bed=ffmpeg.SoundFile(bed.path, bed.format) if bed else None,
            bed_gain_db=bed.gain_db if bed else 0.0,
        )
        sounds.mux(work / "picture.mp4", track, target)
    except ffmpeg.MediaError as exc:
        raise SoundFailed(f"The cut's sound could not be made: {exc.message}") from None
    info = ffmpeg.probe(target)
    check_sync(info, picture.probe)
    return ffmpeg.Joined(sha256_of(target), info)


def check_sync(result: ffmpeg.Probe, picture: ffmpeg.Probe) -> None:
    """The sound lasts the picture (within one frame), or the cut fails."""
    frame = 1.0 / picture.fps if picture.fps else 0.05
    seconds = result.audio_seconds
    if seconds is None or abs(seconds - picture.duration) > frame + 1e-3:
        raise SoundFailed(
            f"The cut's sound runs {seconds or 0:.2f} s against {picture.duration:.2f} s of "
            "picture; no cut was made."
        )


def bed_row(session: Session, music: dict[str, Any] | None) -> tuple[str, str, float] | None:
    """The bed's (storage key, demuxer, level in dB), read while the session is open."""
    if not music:
        return None
    asset = session.get(Asset, int(music["asset_id"]))
    if asset is None or asset.codec is None:
        raise SoundFailed("The music under the cut no longer exists; choose it again.")
    return asset.storage_key, asset.codec, float(music["gain_db"])


def fetch_bed(storage: Storage, row: tuple[str, str, float] | None, work: Path) -> Bed | None:
    """The bed into scratch; a missing one fails the cut with a readable message."""
    if row is None:
        return None
    key, demuxer, gain = row
    (work / "bed").mkdir()
    try:
        path = storage.fetch_all([key], work / "bed")[key]
    except ObjectMissing:
        raise SoundFailed(
            "The music under the cut is missing from the media store; upload it again."
        ) from None
    return Bed(path, demuxer, gain)
