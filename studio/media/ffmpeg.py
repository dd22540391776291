"""Encoding frames to browser-playable MP4, and reading videos back safely.

Output: H.264, yuv420p, ``+faststart``, even width/height, raw RGB frames piped
into ffmpeg (ffmpeg-python). Input (uploads and our own files): the container
is sniffed from its first bytes and only ISO-BMFF (MP4/MOV) and Matroska/WebM
are opened, with that demuxer forced, a demuxer allow-list and the ``file``
protocol only, so playlists (HLS), concat lists and images never reach FFmpeg.

Pure: no settings, no database; every path and limit comes in as an argument.
Errors users can see are MediaError with a readable message.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import struct
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from io import FileIO
from pathlib import Path
from typing import IO, Any

import av
import ffmpeg
import numpy as np
from PIL import Image

from studio.media.audio import AAC_OPTIONS, SoundFile, fitted_audio, write_wav
from studio.media.storage import atomic_path

NOT_A_VIDEO = "This file is not a video we can read (allowed: MP4, MOV, WebM, MKV)."
DEFAULT_FORMATS = ("mp4", "mov", "webm", "matroska")

# The demuxer forced for each sniffed container family, and FFmpeg's full name for it.
_ISO_DEMUXER = "mov"
_MATROSKA_DEMUXER = "matroska"
_DEMUXER_NAMES = {_ISO_DEMUXER: "mov,mp4,m4a,3gp,3g2,mj2", _MATROSKA_DEMUXER: "matroska,webm"}
_ISO_FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"}
# HEIF/AVIF stills are ISO-BMFF too; they are images, not videos.
_IMAGE_BRANDS = {b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1"}
_IMAGE_BRANDS |= {b"msf1"}
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_MAX_BOXES = 100_000
_HASH_CHUNK = 8 << 20


class MediaError(Exception):
    """A media problem with a message fit to show a user (no paths, no stack traces)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def ffmpeg_binary() -> str:
    """The system ffmpeg, or the one bundled with imageio-ffmpeg."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg  # optional fallback, imported only when needed
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise MediaError("ffmpeg is not installed on this server.") from exc
    return str(imageio_ffmpeg.get_ffmpeg_exe())


# ---------------------------------------------------------------- writing


def _check_frames(frames: np.ndarray) -> np.ndarray:
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[3] != 3:
        shape = getattr(frames, "shape", None)
        raise ValueError(f"frames must be a (T, H, W, 3) array, got shape {shape}")
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {frames.dtype}")
    if min(frames.shape[:3]) < 1:
        raise ValueError(f"frames must not be empty, got shape {frames.shape}")
    return frames


def _drain(stream: IO[bytes], sink: list[bytes]) -> None:
    for chunk in iter(lambda: stream.read(65536), b""):
        sink.append(chunk)
        if len(sink) > 64:  # keep only the tail
            del sink[:-32]


# Absolute paths (with or without ffmpeg's "file:" prefix) in ffmpeg's own words.
_PATH_RE = re.compile(r"(?:file:)?(?:/[^\s'\":,]+)+")


def scrub_paths(text: str) -> str:
    """ffmpeg's messages name the files it worked on; a message a user sees never does."""
    return _PATH_RE.sub("<file>", text)


def _stderr_tail(chunks: list[bytes], limit: int = 1500) -> str:
    text = b"".join(chunks).decode("utf-8", "replace").strip()
    return scrub_paths(text[-limit:])


def encode_mp4(
    frames: np.ndarray,
    fps: int,
    path: Path,
    *,
    crf: int = 18,
    preset: str = "veryfast",
    audio: SoundFile | None = None,
) -> None:
    """Encode (T, H, W, 3) uint8 RGB frames to a browser-playable MP4 at ``path``.

    Written to a temporary file next to ``path`` and renamed, so ``path`` is
    either the complete video or untouched. Odd sizes are cropped to even by
    the scale filter. MediaError (with ffmpeg's stderr tail) on failure.

    ``audio``: a sound file (ours, or an upload already probed) laid under the
    picture as AAC, cut or padded with silence to the picture's exact length.
    """
    frames = _check_frames(frames)
    if fps < 1:
        raise ValueError(f"fps must be >= 1, got {fps}")
    count, height, width, _ = frames.shape
    path = Path(path)
    with atomic_path(path) as tmp:
        video = ffmpeg.input(
            "pipe:",
            format="rawvideo",
            pix_fmt="rgb24",
            s=f"{width}x{height}",
            framerate=fps,
        ).filter("scale", "trunc(iw/2)*2", "trunc(ih/2)*2")
        streams = [video]
        options: dict[str, Any] = {"an": None}
        if audio is not None:
            streams.append(fitted_audio(audio, count / fps))
            options = dict(AAC_OPTIONS)
        stream = (
            ffmpeg.output(
                *streams,
                f"file:{tmp}",
                format="mp4",
                vcodec="libx264",
                pix_fmt="yuv420p",
                crf=crf,
                preset=preset,
                r=fps,
                movflags="+faststart",
                **options,
            )
            .global_args("-hide_banner", "-nostats", "-loglevel", "error")
            .overwrite_output()
        )
        try:
            process = ffmpeg.run_async(
                stream, cmd=ffmpeg_binary(), pipe_stdin=True, pipe_stderr=True
            )
        except OSError as exc:
            raise MediaError(f"Could not start ffmpeg: {exc.strerror or exc}.") from exc
        err: list[bytes] = []
        reader = threading.Thread(target=_drain, args=(process.stderr, err), daemon=True)
        reader.start()
        broken = False
        try:
            for index in range(count):
                process.stdin.write(np.ascontiguousarray(frames[index]).data)
        except (BrokenPipeError, ConnectionResetError):
            broken = True
        finally:
            try:
                process.stdin.close()
            except (BrokenPipeError, ConnectionResetError):
                broken = True
            try:
                code = process.wait(timeout=600)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            reader.join(timeout=10)
        if code != 0 or broken:
            tail = _stderr_tail(err) or "no output"
            raise MediaError(f"Video encoding failed (ffmpeg exit {code}): {tail}")


def _to_image(frame: np.ndarray) -> Image.Image:
    array = np.asarray(frame)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"a frame must be (H, W, 3) uint8, got {array.shape} {array.dtype}")
    return Image.fromarray(np.ascontiguousarray(array), "RGB")


def write_png(frame: np.ndarray, path: Path) -> None:
    """One (H, W, 3) uint8 RGB frame as a PNG, atomically."""
    image = _to_image(frame)
    with atomic_path(Path(path)) as tmp:
        image.save(tmp, format="PNG")


def write_poster(frame: np.ndarray, path: Path, *, max_width: int = 640) -> None:
    """A JPEG poster (quality 85) no wider than ``max_width``, atomically."""
    image = _to_image(frame)
    if image.width > max_width:
        height = max(1, round(image.height * max_width / image.width))
        image = image.resize((max_width, height), Image.Resampling.LANCZOS)
    _save_poster(image, Path(path))


def _save_poster(image: Image.Image, path: Path) -> None:
    with atomic_path(path) as tmp:
        image.save(tmp, format="JPEG", quality=85, optimize=True, progressive=True)


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class Probe:
    format_name: str  # FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    codec: str  # e.g. "h264"
    pix_fmt: str | None  # e.g. "yuv420p"
    width: int
    height: int
    frames: int
    fps: float
    duration: float  # seconds
    faststart: bool  # MP4/MOV with 'moov' before 'mdat'; always False for Matroska/WebM
    # The first audio track, from its headers (None: the file is silent).
    audio_codec: str | None = None  # e.g. "aac"
    audio_rate: int | None = None  # samples a second
    audio_channels: int | None = None
    audio_seconds: float | None = None  # the track's own length, where the container says

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


def _sniff(path: Path) -> str:
    """The demuxer to force for this file, from its first bytes; MediaError otherwise."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise MediaError(NOT_A_VIDEO) from exc
    if head.startswith(_EBML_MAGIC):
        return _MATROSKA_DEMUXER
    if len(head) >= 12 and head[4:8] in _ISO_FIRST_BOXES:
        if head[4:8] == b"ftyp" and head[8:12] in _IMAGE_BRANDS:
            raise MediaError("This is an image, not a video (allowed: MP4, MOV, WebM, MKV).")
        return _ISO_DEMUXER
    raise MediaError(NOT_A_VIDEO)


def _top_level_boxes(path: Path) -> list[bytes]:
    """The types of an ISO-BMFF file's top-level boxes; MediaError if truncated or broken."""
    return [kind for kind, _, _ in _box_layout(path)]


def _box_layout(path: Path) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of each top-level ISO-BMFF box; MediaError if truncated or broken."""
    size_total = path.stat().st_size
    boxes: list[tuple[bytes, int, int]] = []
    offset = 0
    with open(path, "rb") as handle:
        while offset < size_total:
            if len(boxes) >= _MAX_BOXES:
                raise MediaError(NOT_A_VIDEO)
            handle.seek(offset)
            header = handle.read(8)
            if len(header) < 8:
                raise MediaError("This video file is incomplete or damaged.")
            size, kind = struct.unpack(">I4s", header)
            header_len = 8
            if size == 1:
                large = handle.read(8)
                if len(large) < 8:
                    raise MediaError("This video file is incomplete or damaged.")
                (size,) = struct.unpack(">Q", large)
                header_len = 16
            elif size == 0:  # extends to the end of the file
                size = size_total - offset
            if size < header_len or offset + size > size_total:
                raise MediaError("This video file is incomplete or damaged.")
            boxes.append((kind, offset, size))
            offset += size
    return boxes


def _open(path: Path, allowed_formats: tuple[str, ...]) -> tuple[Any, str]:
    """Open ``path`` with a forced, allow-listed demuxer and the file protocol only."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(NOT_A_VIDEO)
    demuxer = _sniff(path)
    allowed = {f.strip().lower() for f in allowed_formats if f.strip()}
    if not set(_DEMUXER_NAMES[demuxer].split(",")) & allowed:
        raise MediaError(NOT_A_VIDEO)
    try:
        container = av.open(
            f"file:{path.resolve()}",
            mode="r",
            format=demuxer,
            container_options={
                "protocol_whitelist": "file",
                "format_whitelist": ",".join(sorted(allowed)),
            },
        )
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise MediaError(NOT_A_VIDEO) from exc
    if not container.streams.video:
        container.close()
        raise MediaError("This file has no video track.")
    return container, demuxer


def _rate(stream: Any) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(rate)
    return 0.0


@dataclass(frozen=True)
class ProbeLimits:
    """What a probe accepts, checked from the headers before any frame is decoded.

    Probing never decodes a whole file: frame counts come from the index or
    from demuxing packets (no decoding), and one frame is decoded to prove
    the file plays. A file over a limit is refused with a message saying so.
    """

    max_side: int = 8192  # pixels, width or height
    max_pixels: int = 8192 * 4320  # 8K UHD
    max_fps: float = 240.0
    max_seconds: float = 4 * 3600.0
    max_frames: int = 500_000


DEFAULT_LIMITS = ProbeLimits()


def _check_size(width: int, height: int, limits: ProbeLimits) -> None:
    if width < 1 or height < 1:
        raise MediaError(NOT_A_VIDEO)
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise MediaError(
            f"This video is {width}x{height}; videos are limited to {limits.max_side} pixels "
            f"a side and {limits.max_pixels / 1e6:.0f} megapixels."
        )


def _too_long(seconds: float, limits: ProbeLimits) -> MediaError:
    return MediaError(
        f"This video runs {seconds:.0f} s; videos are limited to {limits.max_seconds:.0f} s."
    )


def _count_packets(container: Any, stream: Any, limits: ProbeLimits) -> tuple[int, float]:
    """(frames, seconds) from the packets alone (no decoding), bounded by the limits:
    for containers without a frame count or a duration (or with wrong ones)."""
    count, end = 0, 0.0
    base = Fraction(stream.time_base) if stream.time_base else Fraction(1, 1000)
    start = stream.start_time or 0
    for packet in container.demux(stream):
        if packet.size == 0:
            continue
        count += 1
        if packet.pts is not None:
            end = max(end, float((packet.pts - start + (packet.duration or 0)) * base))
        if count > limits.max_frames:
            raise MediaError(f"This video has more than {limits.max_frames} frames.")
        if end > limits.max_seconds:
            raise _too_long(end, limits)
    return count, end


def probe(
    path: Path,
    *,
    allowed_formats: tuple[str, ...] = DEFAULT_FORMATS,
    limits: ProbeLimits = DEFAULT_LIMITS,
) -> Probe:
    """Describe a video; MediaError for anything that is not an allowed, readable video
    within `limits`. Costs the headers, one pass over the packets where the
    container has no index, and one decoded frame, whatever the file claims."""
    path = Path(path)
    container, demuxer = _open(path, allowed_formats)
    try:
        faststart = False
        if demuxer == _ISO_DEMUXER:
            boxes = _top_level_boxes(path)
            if b"moov" not in boxes or b"mdat" not in boxes:
                raise MediaError("This video file is incomplete or damaged.")
            faststart = boxes.index(b"moov") < boxes.index(b"mdat")
        stream = container.streams.video[0]
        context = stream.codec_context
        width, height = int(context.width or 0), int(context.height or 0)
        _check_size(width, height, limits)
        fps = _rate(stream)
        if fps > limits.max_fps:
            raise MediaError(
                f"This video claims {fps:.0f} frames a second; the limit is {limits.max_fps:.0f}."
            )
        header_seconds = container.duration / av.time_base if container.duration else 0.0
        if header_seconds > limits.max_seconds:
            raise _too_long(header_seconds, limits)
        frames = int(stream.frames or 0)
        if frames > limits.max_frames:
            raise MediaError(f"This video has more than {limits.max_frames} frames.")
        if frames > 0 and demuxer == _ISO_DEMUXER:  # the index counts them
            if header_seconds:
                duration = header_seconds
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * Fraction(stream.time_base))
            else:
                duration = frames / fps if fps else 0.0
        else:  # Matroska/WebM carry no count, and a duration that may be wrong or absent
            frames, duration = _count_packets(container, stream, limits)
            container.seek(0)
        if frames <= 0:
            raise MediaError("This video has no frames we can decode.")
        _first_frame(container, stream, limits)  # proves it plays: one decoded frame
        pix_fmt = getattr(context, "pix_fmt", None)
        sound = _audio_headers(container, limits)
        return Probe(
            format_name=_DEMUXER_NAMES[demuxer],
            codec=str(context.name),
            pix_fmt=str(pix_fmt) if pix_fmt else None,
            width=width,
            height=height,
            frames=frames,
            fps=fps,
            duration=float(duration),
            faststart=faststart,
            **sound,
        )
    except av.FFmpegError as exc:
        raise MediaError(NOT_A_VIDEO) from exc
    finally:
        container.close()


def _audio_headers(container: Any, limits: ProbeLimits) -> dict[str, Any]:
    """The first audio track's codec, rate, channels and length, from headers only
    (nothing is decoded: a track that does not play fails where it is used)."""
    if not container.streams.audio:
        return {}
    stream = container.streams.audio[0]
    context = stream.codec_context
    seconds = None
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * Fraction(stream.time_base))
        if seconds > limits.max_seconds:
            raise _too_long(seconds, limits)
    rate = int(context.sample_rate or 0)
    if not 0 < rate <= 384_000:
        return {}  # no usable sound: treated as silent rather than refusing the picture
    return {
        "audio_codec": str(context.name),
        "audio_rate": rate,
        "audio_channels": int(context.channels or 0) or None,
        "audio_seconds": seconds,
    }


def _first_frame(container: Any, stream: Any, limits: ProbeLimits) -> None:
    for frame in container.decode(stream):
        _check_size(frame.width, frame.height, limits)
        return
    raise MediaError("This video has no frames we can decode.")


def read_frames(
    path: Path,
    max_frames: int | None = None,
    *,
    allowed_formats: tuple[str, ...] = DEFAULT_FORMATS,
    size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Decode frames as a (T, H, W, 3) uint8 RGB array (the first ``max_frames``),
    scaled to ``size`` (width, height) as they are decoded when given."""
    scale = {"width": size[0], "height": size[1]} if size else {}
    container, _ = _open(Path(path), allowed_formats)
    out: list[np.ndarray] = []
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if max_frames is not None and max_frames <= 0:
            raise ValueError("max_frames must be positive")
        for frame in container.decode(stream):
            out.append(frame.to_ndarray(format="rgb24", **scale))
            if max_frames is not None and len(out) >= max_frames:
                break
    except av.FFmpegError as exc:
        raise MediaError(NOT_A_VIDEO) from exc
    finally:
        container.close()
    if not out:
        raise MediaError("This video has no frames we can decode.")
    return np.stack(out)


def last_frame(path: Path, *, allowed_formats: tuple[str, ...] = DEFAULT_FORMATS) -> np.ndarray:
    """The last decodable frame as (H, W, 3) uint8 RGB (seeks near the end first)."""
    path = Path(path)
    container, _ = _open(path, allowed_formats)
    last: np.ndarray | None = None
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if stream.duration and stream.duration > 0:
            start = stream.start_time or 0
            try:  # to the keyframe before the end; decode forward from there
                container.seek(start + stream.duration, stream=stream, backward=True)
                for frame in container.decode(stream):
                    last = frame.to_ndarray(format="rgb24")
            except av.FFmpegError:
                last = None
    except av.FFmpegError as exc:
        raise MediaError(NOT_A_VIDEO) from exc
    finally:
        container.close()
    if last is None:  # no seek support or it failed: decode everything
        frames = read_frames(path, allowed_formats=allowed_formats)
        return frames[-1]
    return last


POSTER_MAX_PACKETS = 2000  # a poster gives up after this many packets without a keyframe


def write_video_poster(
    source: Path,
    path: Path,
    *,
    max_width: int = 640,
    allowed_formats: tuple[str, ...] = DEFAULT_FORMATS,
    limits: ProbeLimits = DEFAULT_LIMITS,
    max_packets: int = POSTER_MAX_PACKETS,
) -> tuple[int, int]:
    """A JPEG poster, as write_poster makes, of a video's first keyframe; its (width, height).

    Cheap and bounded, so it may run on uploads (in a child process: see
    sandbox.poster_isolated): the frame size is checked against `limits`
    from the headers, only keyframes are decoded (and only the first is
    kept), without frame threading (which would decode several frames
    before returning one), at most `max_packets` packets are read looking
    for one, and swscale converts and shrinks it to the poster's size in
    one step. MediaError when no keyframe decodes within that.
    """
    container, _ = _open(Path(source), allowed_formats)
    image: Image.Image | None = None
    try:
        stream = container.streams.video[0]
        context = stream.codec_context
        _check_size(int(context.width or 0), int(context.height or 0), limits)
        context.skip_frame = "NONKEY"
        image = _first_keyframe(container, stream, max_width, max_packets, limits)
    except av.FFmpegError as exc:
        raise MediaError(NOT_A_VIDEO) from exc
    finally:
        container.close()
    if image is None:
        raise MediaError("This video has no frames we can decode.")
    _save_poster(image, Path(path))
    return image.width, image.height


def _first_keyframe(
    container: Any, stream: Any, max_width: int, max_packets: int, limits: ProbeLimits
) -> Image.Image | None:
    for count, packet in enumerate(container.demux(stream), 1):
        if count > max_packets:
            return None
        for frame in packet.decode():  # an empty packet at the end flushes the decoder
            _check_size(frame.width, frame.height, limits)
            width, height = frame.width, frame.height
            if width > max_width:
                width, height = max_width, max(1, round(height * max_width / width))
            small = frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA")
            image: Image.Image = small.to_image()
            return image
    return None


__all__ = [
    "DEFAULT_FORMATS",
    "DEFAULT_LIMITS",
    "NOT_A_VIDEO",
    "POSTER_MAX_PACKETS",
    "Joined",
    "MediaError",
    "Probe",
    "ProbeLimits",
    "SoundFile",
    "encode_mp4",
    "ffmpeg_binary",
    "last_frame",
    "probe",
    "read_frames",
    "write_png",
    "write_poster",
    "write_video_poster",
    "write_wav",
]


# ---------------------------------------------------------------- rough cuts


def _run(stream: Any, what: str) -> None:
    """Run an ffmpeg-python graph on files we made; MediaError with stderr on failure."""
    try:
        ffmpeg.run(
            stream.global_args("-hide_banner", "-nostats", "-loglevel", "error").overwrite_output(),
            cmd=ffmpeg_binary(),
            capture_stdout=True,
            capture_stderr=True,
        )
    except ffmpeg.Error as exc:
        tail = scrub_paths((exc.stderr or b"").decode(errors="replace")[-1500:].strip())
        tail = tail or "no output"
        raise MediaError(f"{what} failed: {tail}") from None
    except OSError as exc:
        raise MediaError(f"Could not start ffmpeg: {exc.strerror or exc}.") from exc


def normalize_clip(
    source: Path,
    target: Path,
    *,
    width: int,
    height: int,
    fps: int,
    overlay_png: Path | None = None,
    crf: int = 18,
    preset: str = "veryfast",
) -> None:
    """Re-encode a clip we already probed to the cut's size and frame rate.

    Letterboxed (scale to fit, pad), constant frame rate, yuv420p, H.264, no
    audio; an optional RGBA PNG of the same size is laid over every frame
    (shot-code burn-in without needing fonts inside ffmpeg).
    """
    target = Path(target)
    with atomic_path(target) as tmp:
        video = (
            ffmpeg.input(f"file:{source}", protocol_whitelist="file")
            .video.filter("scale", width, height, force_original_aspect_ratio="decrease")
            .filter("pad", width, height, "(ow-iw)/2", "(oh-ih)/2", color="black")
            .filter("setsar", 1)
            .filter("fps", fps=fps)
        )
        if overlay_png is not None:
            video = ffmpeg.overlay(video, ffmpeg.input(f"file:{overlay_png}").video, x=0, y=0)
        out = video.filter("format", "yuv420p").output(
            f"file:{tmp}",
            format="mp4",
            vcodec="libx264",
            crf=crf,
            preset=preset,
            r=fps,
            movflags="+faststart",
            an=None,
        )
        _run(out, "Normalizing a clip")


@dataclass(frozen=True)
class Joined:
    sha256: str  # of the file written
    probe: Probe  # of the file written


def concat_copy(sources: list[Path], target: Path, *, video_only: bool = False) -> Joined:
    """Join clips that share codec, size and frame rate without re-encoding.

    ``video_only``: the picture alone (the clips' sound is left out; a cut's
    sound track is built separately, see media/assemble.py).

    Returns the written file's SHA-256 and probe, both taken while it is
    being flushed to disk (the hash on a second thread).

    The result has its index ('moov') first, so a browser can play it while it
    downloads. ffmpeg's ``+faststart`` gets there by writing the whole file and
    then rewriting it; instead, room for the index is reserved at the front
    (``-moov_size``), sized from the clips' own indexes, which together
    describe every sample the join will hold. The layout is checked
    afterwards; should the index not have fitted (ffmpeg still exits 0), the
    join is redone with ``+faststart``. Clips without an MP4 index (Matroska)
    go straight to ``+faststart``.

    The concat list is written here from server paths (never a user's list).
    """
    target = Path(target)
    paths = [Path(source).resolve() for source in sources]
    reserve = _moov_reserve(paths)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="concat-hash") as pool:
        with atomic_path(target) as tmp:
            listing = tmp.with_suffix(".txt")
            lines = []
            for path in paths:
                escaped = str(path).replace("'", "'\\''")
                lines.append(f"file '{escaped}'")
            listing.write_text("\n".join(lines) + "\n")
            try:
                joined = ffmpeg.input(
                    f"file:{listing}", format="concat", safe=0, protocol_whitelist="file"
                )
                if video_only:
                    joined = joined.video
                fitted = False
                if reserve is not None:
                    # ffmpeg 5.1 exits 0 when the index outgrows the room (hence the
                    # layout check); newer builds exit non-zero. Either way: redo it.
                    try:
                        _run(_mp4_copy(joined, tmp, moov_size=reserve), "Joining the clips")
                        fitted = _index_fits(tmp, reserve)
                    except MediaError:
                        fitted = False
                if not fitted:
                    _run(_mp4_copy(joined, tmp, movflags="+faststart"), "Joining the clips")
            finally:
                listing.unlink(missing_ok=True)
            digest = pool.submit(_sha256, FileIO(tmp, "rb"))
            info = probe(tmp)
        # meanwhile atomic_path has fsynced the file and renamed it into place
        return Joined(digest.result(), info)


def _mp4_copy(joined: Any, tmp: Path, **options: Any) -> Any:
    return joined.output(f"file:{tmp}", format="mp4", c="copy", **options)


def _sha256(handle: FileIO) -> str:
    """Hash in large reads: each read and update runs without the GIL, and few
    chunks mean few waits to get it back while other threads work."""
    digest = hashlib.sha256()
    view = memoryview(bytearray(_HASH_CHUNK))
    with handle:
        while size := handle.readinto(view):
            digest.update(view[:size])
    return digest.hexdigest()


def _moov_reserve(paths: list[Path]) -> int | None:
    """Bytes to reserve for the joined file's index, or None when a clip has no MP4 index.

    The clips' indexes hold every sample's size, time, offset and sync flag
    plus one set of headers each; the join's index holds the same samples
    under one set of headers. A quarter more and 4 KiB cover chunking that
    differs from the clips' (and 64-bit offsets).
    """
    total = 0
    for path in paths:
        try:
            if _sniff(path) != _ISO_DEMUXER:
                return None
            sizes = [size for kind, _, size in _box_layout(path) if kind == b"moov"]
        except MediaError:
            return None
        if not sizes:
            return None
        total += sizes[0]
    return total + total // 4 + 4096


def _index_fits(path: Path, reserve: int) -> bool:
    """Whether ffmpeg placed the index inside the room reserved for it, ahead of the media.

    On success the file is ftyp, moov, free (the unused room) ... mdat. When
    the index was too big ffmpeg logs an error, overwrites the start of the
    media with it and still exits 0; this catches that.
    """
    try:
        boxes = _box_layout(path)
    except MediaError:
        return False
    kinds = [kind for kind, _, _ in boxes]
    if len(boxes) < 4 or kinds[:3] != [b"ftyp", b"moov", b"free"] or b"mdat" not in kinds:
        return False
    _, room_start, moov_size = boxes[1]
    _, free_start, free_size = boxes[2]
    return moov_size + 8 <= reserve and free_start + free_size == room_start + reserve


def clips_match(probes: list[Probe]) -> bool:
    """Whether clips can be joined by stream copy (same codec, size, fps, pixel format)."""
    first = probes[0]
    return (
        all(
            (p.codec, p.width, p.height, p.pix_fmt, round(p.fps, 3))
            == (first.codec, first.width, first.height, first.pix_fmt, round(first.fps, 3))
            for p in probes
        )
        and first.codec == "h264"
        and first.pix_fmt == "yuv420p"
    )
