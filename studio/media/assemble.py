"""Assembling a cut from clips on disk: a pure media function (files in, a file
out; no database, no store). `projects.roughcut` gathers the circled takes
and cards; this joins them.

Matching clips (same codec, size, frame rate, pixel format) are joined by
stream copy; otherwise each is letterboxed to the cut's size and frame rate
first, with an optional burned-in code. The result must last the sum of its
clips (within one frame each) or assembly fails naming the piece.

Sound: the picture is joined as above, and the sound is always rebuilt as one
AAC track: joining AAC tracks by stream copy drifts, because every clip
carries its encoder's priming samples (measured: the fourth clip of a
copy-join started 100 ms late), so each clip's sound is cut or padded to
exactly its picture's length and the pieces are laid end to end, with
silence where a clip has none and an optional bed under the whole cut.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from studio.media import ffmpeg, sounds


class AssemblyFailed(ffmpeg.MediaError):
    """The cut cannot be trusted; the message names the piece (never a path)."""


@dataclass(frozen=True)
class Piece:
    path: Path
    code: str | None  # the shot code (burned in on request); None for the title card
    probe: ffmpeg.Probe
    # What the store recorded of a take (codec, width, height, pix_fmt, fps); None
    # for what was made for this cut (cards, stills).
    recorded: tuple[Any, ...] | None = None

    @property
    def name(self) -> str:
        return self.code or "The title card"


@dataclass(frozen=True)
class Bed:
    """A music or voice track under the whole cut."""

    path: Path
    format: str  # the demuxer recorded when it was uploaded
    gain_db: float


@dataclass(frozen=True)
class Assembled:
    method: str  # "copy" or "normalized"
    sha256: str  # of the file written to the target
    info: ffmpeg.Probe  # of the file written to the target


def assemble(
    pieces: list[Piece],
    target: Path,
    work: Path,
    *,
    width: int,
    height: int,
    fps: int,
    overlay_codes: bool = False,
    bed: Bed | None = None,
    poster: Path | None = None,
    step: Callable[[int, int], None] = lambda done, total: None,
) -> Assembled:
    """Join `pieces` into `target` (scratch files in `work`) and write its poster, the
    first frame, to `poster`. `step(done, total)` reports progress."""
    total = len(pieces) + 1
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cut-poster") as pool:
        if not overlay_codes and _can_copy(pieces):
            joined, lengths = [p.path for p in pieces], [p.probe for p in pieces]
            method = "copy"
        else:
            joined, lengths = [], []
            for index, piece in enumerate(pieces):
                overlay_png = None
                if overlay_codes and piece.code:
                    overlay_png = work / f"overlay-{index}.png"
                    code_overlay(piece.code, width, height).save(overlay_png)
                out = work / f"norm-{index:03d}.mp4"
                try:
                    ffmpeg.normalize_clip(
                        piece.path,
                        out,
                        width=width,
                        height=height,
                        fps=fps,
                        overlay_png=overlay_png,
                    )
                    lengths.append(ffmpeg.probe(out))
                except ffmpeg.MediaError:
                    raise AssemblyFailed(f"{piece.name}: re-encoding its clip failed.") from None
                _check_length(piece, lengths[-1], fps)
                joined.append(out)
                step(index + 1, total)
            method = "normalized"
        posted: Future[tuple[int, int]] | None = None
        if poster is not None:
            posted = pool.submit(ffmpeg.write_video_poster, joined[0], poster)
        try:
            if bed is not None or any(p.probe.has_audio for p in pieces):
                result = _join_with_sound(joined, pieces, lengths, target, work, bed)
            else:
                result = ffmpeg.concat_copy(joined, target)
        except AssemblyFailed:
            raise
        except ffmpeg.MediaError:
            for piece in pieces:  # which one? the first that does not probe
                probe_piece(piece.path, piece.name)
            raise AssemblyFailed("Joining the clips failed; no cut was made.") from None
        try:
            _check_total(pieces, lengths, result.probe)
        except AssemblyFailed:
            for piece in pieces:  # a piece that does not even probe is the better name
                probe_piece(piece.path, piece.name)
            raise
        if posted is not None:
            posted.result()
    step(total, total)
    return Assembled(method, result.sha256, result.probe)


def probe_piece(path: Path, name: str) -> ffmpeg.Probe:
    try:
        return ffmpeg.probe(path)
    except ffmpeg.MediaError as exc:
        raise AssemblyFailed(f"{name}: its circled take cannot be read ({exc.message})") from None


def _can_copy(pieces: list[Piece]) -> bool:
    """Stream copy is possible when every clip shares codec, size, pixel format and rate,
    judged on each piece's probe and on what the store recorded of each take."""
    probes = [p.probe for p in pieces]
    if not ffmpeg.clips_match(probes):
        return False
    first = probes[0]
    now = (first.codec, first.width, first.height, first.pix_fmt, round(first.fps, 3))
    return all(
        (c, w, h, pf, round(f or 0, 3)) == now or None in (c, w, h, pf, f)
        for c, w, h, pf, f in (p.recorded for p in pieces if p.recorded is not None)
    )


def _check_length(piece: Piece, got: ffmpeg.Probe, fps: int) -> None:
    """A normalized clip keeps its length (within one frame of the cut's rate)."""
    expected = piece.probe.duration
    if abs(got.duration - expected) > 1.0 / fps + 1e-3:
        raise AssemblyFailed(
            f"{piece.name}: its clip came out {got.duration:.2f} s long instead of "
            f"{expected:.2f} s; no cut was made."
        )


def _check_total(pieces: list[Piece], lengths: list[ffmpeg.Probe], result: ffmpeg.Probe) -> None:
    """The cut lasts the sum of its clips, within one frame per clip, or it fails.

    ffmpeg's concat exits 0 when a later file cannot be read and writes a
    short film; this is what catches that. The piece named is the first whose
    clip does not start where the result says it should.
    """
    expected = sum(p.duration for p in lengths)
    tolerance = sum(1.0 / p.fps if p.fps else 0.05 for p in lengths) + 1e-3
    if abs(result.duration - expected) <= tolerance:
        return
    elapsed = 0.0
    culprit = pieces[-1]
    for piece, length in zip(pieces, lengths, strict=True):
        elapsed += length.duration
        if elapsed > result.duration + tolerance:
            culprit = piece
            break
    raise AssemblyFailed(
        f"{culprit.name}: the joined cut runs {result.duration:.2f} s instead of "
        f"{expected:.2f} s, so this shot did not make it in; no cut was made."
    )


def _sound_of(piece: Piece) -> ffmpeg.SoundFile | None:
    if not piece.probe.has_audio:
        return None
    matroska = piece.probe.format_name.startswith("matroska")
    return ffmpeg.SoundFile(piece.path, "matroska" if matroska else "mov")


def _join_with_sound(
    pictures: list[Path],
    pieces: list[Piece],
    lengths: list[ffmpeg.Probe],
    target: Path,
    work: Path,
    bed: Bed | None,
) -> ffmpeg.Joined:
    """The joined picture with the cut's sound track under it, at `target`."""
    picture = ffmpeg.concat_copy(pictures, work / "picture.mp4", video_only=True)
    track = work / "sound.mp4"
    segments = [
        sounds.Segment(length.duration, _sound_of(piece))
        for piece, length in zip(pieces, lengths, strict=True)
    ]
    try:
        sounds.build_track(
            segments,
            track,
            bed=ffmpeg.SoundFile(bed.path, bed.format) if bed else None,
            bed_gain_db=bed.gain_db if bed else 0.0,
        )
        sounds.mux(work / "picture.mp4", track, target)
    except ffmpeg.MediaError as exc:
        raise AssemblyFailed(f"The cut's sound could not be made: {exc.message}") from None
    info = ffmpeg.probe(target)
    _check_sync(info, picture.probe)
    return ffmpeg.Joined(_sha256(target), info)


def _check_sync(result: ffmpeg.Probe, picture: ffmpeg.Probe) -> None:
    """The sound lasts the picture (within one frame), or the cut fails."""
    frame = 1.0 / picture.fps if picture.fps else 0.05
    seconds = result.audio_seconds
    if seconds is None or abs(seconds - picture.duration) > frame + 1e-3:
        raise AssemblyFailed(
            f"The cut's sound runs {seconds or 0:.2f} s against {picture.duration:.2f} s of "
            "picture; no cut was made."
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def code_overlay(code: str, width: int, height: int) -> Image.Image:
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
