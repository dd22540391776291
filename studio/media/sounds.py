"""Sound files (voice-over, temp music) and the sound tracks of cuts.

Uploaded sound files are sniffed from their first bytes and opened only with
the demuxer that matches (WAV, MP3, FLAC, Ogg, M4A/MP4, WebM/Matroska), the
``file`` protocol and a format allow-list, like videos in ffmpeg.py; a probe
reads headers only (packets are counted, never decoded, where a container has
no length). The demuxer found is recorded with the asset, and every later
read forces it again.

A cut's sound track is built in one ffmpeg run: each clip's own sound (or
silence where it has none) cut or padded to exactly its picture's length, so
clip N's sound starts on clip N's first frame, then concatenated, an optional
bed (music or voice) mixed under it at a level, and encoded to AAC.

Pure like ffmpeg.py: no settings, no database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import ffmpeg

from studio.media.audio import AAC_OPTIONS, SoundFile, fit_length, silence, sound_input
from studio.media.ffmpeg import MediaError, _run
from studio.media.storage import atomic_path

NOT_A_SOUND = "This file is not a sound file we can read (allowed: WAV, MP3, FLAC, OGG, M4A, WebM)."
SOUND_FORMATS = ("wav", "mp3", "flac", "ogg", "mov", "matroska")
MIME_BY_FORMAT = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "mov": "audio/mp4",
    "matroska": "audio/webm",
}
SUFFIX_BY_FORMAT = {
    "wav": ".wav",
    "mp3": ".mp3",
    "flac": ".flac",
    "ogg": ".ogg",
    "mov": ".m4a",
    "matroska": ".weba",
}
MAX_SOUND_SECONDS = 3 * 3600.0
_MAX_PACKETS = 2_000_000


@dataclass(frozen=True)
class SoundProbe:
    format: str  # the demuxer forced to read it: one of SOUND_FORMATS
    codec: str
    rate: int
    channels: int
    seconds: float


def sniff_sound(path: Path) -> str:
    """The demuxer for this sound file, from its first bytes; MediaError otherwise."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise MediaError(NOT_A_SOUND) from exc
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "mov"
    raise MediaError(NOT_A_SOUND)


def probe_sound(path: Path, *, max_seconds: float = MAX_SOUND_SECONDS) -> SoundProbe:
    """Describe a sound file from its headers; MediaError for anything else."""
    demuxer = sniff_sound(Path(path))
    try:
        container = av.open(
            f"file:{Path(path).resolve()}",
            mode="r",
            format=demuxer,
            container_options={
                "protocol_whitelist": "file",
                "format_whitelist": "wav,mp3,flac,ogg,mov,mp4,m4a,matroska,webm",
            },
        )
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise MediaError(NOT_A_SOUND) from exc
    try:
        if not container.streams.audio:
            raise MediaError("This file has no sound in it.")
        stream = container.streams.audio[0]
        context = stream.codec_context
        rate, channels = int(context.sample_rate or 0), int(context.channels or 0)
        if not 0 < rate <= 384_000 or not 0 < channels <= 8:
            raise MediaError(NOT_A_SOUND)
        seconds = container.duration / av.time_base if container.duration else 0.0
        if seconds <= 0 and stream.duration and stream.time_base:
            seconds = float(stream.duration * Fraction(stream.time_base))
        if seconds <= 0:
            seconds = _packet_seconds(container, stream, max_seconds)
        if seconds > max_seconds:
            raise MediaError(
                f"This sound runs {seconds:.0f} s; sound files are limited to {max_seconds:.0f} s."
            )
        if seconds <= 0:
            raise MediaError("This sound file is empty.")
        return SoundProbe(demuxer, str(context.name), rate, channels, float(seconds))
    except av.FFmpegError as exc:
        raise MediaError(NOT_A_SOUND) from exc
    finally:
        container.close()


def _packet_seconds(container: Any, stream: Any, max_seconds: float) -> float:
    """A length from the packets alone (no decoding), for files whose headers have none."""
    base = Fraction(stream.time_base) if stream.time_base else Fraction(1, 1000)
    end = 0.0
    for count, packet in enumerate(container.demux(stream), start=1):
        if packet.pts is not None:
            end = max(end, float((packet.pts + (packet.duration or 0)) * base))
        if count > _MAX_PACKETS or end > max_seconds:
            raise MediaError(f"Sound files are limited to {max_seconds:.0f} s.")
    return end


# ---------------------------------------------------------------- levels


def gain_db(*, db: float | None = None, percent: float | None = None) -> float:
    """A level as dB (0 = as recorded, negative = quieter) from dB or 0-100 %."""
    if (db is None) == (percent is None):
        raise ValueError("give the level in dB or in percent, not both")
    if db is not None:
        if not math.isfinite(db) or not -60.0 <= db <= 12.0:
            raise ValueError("a level in dB goes from -60 to 12")
        return float(db)
    assert percent is not None
    if not math.isfinite(percent) or not 0.0 <= percent <= 100.0:
        raise ValueError("a level in percent goes from 0 to 100")
    return -120.0 if percent == 0 else 20.0 * math.log10(percent / 100.0)


# ---------------------------------------------------------------- cut sound tracks


@dataclass(frozen=True)
class Segment:
    """One clip's place in the track: its picture length, and its sound (None: silence)."""

    seconds: float
    sound: SoundFile | None


def build_track(
    segments: list[Segment], target: Path, *, bed: SoundFile | None = None, bed_gain_db: float = 0.0
) -> None:
    """The cut's sound track as AAC in an audio-only MP4 at ``target``.

    Each segment lasts exactly its picture's length (its sound cut, or padded
    with silence); a bed, when given, is cut or padded to the whole length and
    mixed under at ``bed_gain_db`` (the clips' sound keeps its own level).
    """
    if not segments:
        raise ValueError("a sound track needs at least one segment")
    # One silence source, split: ffmpeg-python merges identical nodes, so separate
    # sources for two silent clips of the same length would become one.
    silent = [index for index, s in enumerate(segments) if s.sound is None]
    quiet: dict[int, Any] = {}
    if silent:
        source = silence(total_seconds(segments)).filter_multi_output("asplit", len(silent))
        quiet = {index: source.stream(k) for k, index in enumerate(silent)}
    parts = [
        fit_length(sound_input(s.sound) if s.sound else quiet[index], s.seconds)
        for index, s in enumerate(segments)
    ]
    track = parts[0] if len(parts) == 1 else ffmpeg.concat(*parts, v=0, a=1)
    total = total_seconds(segments)
    if bed is not None:
        under = fit_length(sound_input(bed), total).filter("volume", f"{bed_gain_db:.3f}dB")
        track = ffmpeg.filter([track, under], "amix", inputs=2, duration="first", normalize=0)
    with atomic_path(Path(target)) as tmp:
        out = track.output(f"file:{tmp}", format="mp4", movflags="+faststart", **AAC_OPTIONS)
        _run(out, "Mixing the sound")


def total_seconds(segments: list[Segment]) -> float:
    return sum(s.seconds for s in segments)


def mux(picture: Path, track: Path, target: Path) -> None:
    """The picture's video and the track's sound in one MP4 (both copied), index first."""
    with atomic_path(Path(target)) as tmp:
        video = ffmpeg.input(f"file:{picture}", format="mp4", protocol_whitelist="file").video
        audio = ffmpeg.input(f"file:{track}", format="mp4", protocol_whitelist="file").audio
        out = ffmpeg.output(
            video, audio, f"file:{tmp}", format="mp4", c="copy", movflags="+faststart"
        )
        _run(out, "Putting the sound under the picture")
