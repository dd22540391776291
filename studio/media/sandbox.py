"""Probing uploaded videos in a child process, with a time and a memory limit.

A video's bytes decide how much work its demuxer and decoder do (FFmpeg
decodes frames even to open some files). Uploaded files are probed in a
separate Python process (`python -m studio.media.sandbox <path> <limits>`)
with an address-space cap and a CPU and wall-clock limit: a file built to be
slow or huge to read costs that process, never the web process, and is
refused with a readable message when a limit hits. Our own outputs are
probed in-process (ffmpeg.probe, which is bounded by the same limits).
An uploaded video's poster (its first keyframe as a JPEG) is made the same
way (`poster_isolated`).

Pure like ffmpeg.py: no settings, no database.
"""

from __future__ import annotations

import dataclasses
import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from studio.media.ffmpeg import (
    DEFAULT_LIMITS,
    MediaError,
    Probe,
    ProbeLimits,
    probe,
    write_video_poster,
)
from studio.media.sounds import SoundProbe, probe_sound

TIMEOUT_SECONDS = 30.0
MEMORY_BYTES = 4 * 1024**3
SOUND = "sound"  # the child's second argument for a sound file (else: video limits as JSON)
POSTER = "poster"  # ... for a poster: then the JPEG's path and the poster's largest width


def probe_isolated(
    path: Path,
    *,
    limits: ProbeLimits = DEFAULT_LIMITS,
    timeout: float = TIMEOUT_SECONDS,
    memory_bytes: int = MEMORY_BYTES,
) -> Probe:
    """ffmpeg.probe in a child process; MediaError when the file is refused or a limit hits."""
    answer = _in_child(path, json.dumps(dataclasses.asdict(limits)), timeout, memory_bytes)
    return Probe(**answer)


def probe_sound_isolated(
    path: Path, *, timeout: float = TIMEOUT_SECONDS, memory_bytes: int = MEMORY_BYTES
) -> SoundProbe:
    """sounds.probe_sound (an uploaded voice-over or music file) in a child process."""
    return SoundProbe(**_in_child(path, SOUND, timeout, memory_bytes))


def poster_isolated(
    path: Path,
    dest: Path,
    *,
    max_width: int = 640,
    timeout: float = TIMEOUT_SECONDS,
    memory_bytes: int = MEMORY_BYTES,
) -> tuple[int, int]:
    """ffmpeg.write_video_poster (an uploaded video's first keyframe as a JPEG at `dest`)
    in a child process; the poster's (width, height). MediaError when it cannot be made
    within the limits (then `dest` is not written)."""
    extra = [str(Path(dest).resolve()), str(int(max_width))]
    answer = _in_child(path, POSTER, timeout, memory_bytes, extra)
    return int(answer["width"]), int(answer["height"])


def _in_child(
    path: Path, what: str, timeout: float, memory_bytes: int, extra: list[str] | None = None
) -> dict[str, Any]:
    command = [sys.executable, "-m", "studio.media.sandbox", str(Path(path).resolve()), what]
    command += extra or []
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module, a path we made
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
    )
    try:  # the child is still importing when this lands: long before it reads the file
        resource.prlimit(child.pid, resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        cpu = int(timeout) + 1
        resource.prlimit(child.pid, resource.RLIMIT_CPU, (cpu, cpu))
    except (ProcessLookupError, OSError, ValueError):
        pass
    try:
        out, _ = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise MediaError(
            f"This file took more than {timeout:.0f} s to check, so it was refused "
            "(it may be damaged, or built to be slow to read)."
        ) from None
    try:
        answer = json.loads(out or b"{}")
    except ValueError:
        answer = {}
    if child.returncode == 0 and "probe" in answer:
        return dict(answer["probe"])
    if "error" in answer:
        raise MediaError(str(answer["error"]))
    raise MediaError(
        "This file could not be checked within the server's limits "
        "(it may be damaged, or too large to read)."
    )


def _main(argv: list[str]) -> int:
    path = Path(argv[0])
    try:
        if argv[1] == SOUND:
            info: Any = probe_sound(path)
        elif argv[1] == POSTER:
            width, height = write_video_poster(path, Path(argv[2]), max_width=int(argv[3]))
            info = {"width": width, "height": height}
        else:
            info = probe(path, limits=ProbeLimits(**json.loads(argv[1])))
    except MediaError as exc:
        print(json.dumps({"error": exc.message}))
        return 1
    print(json.dumps({"probe": info if isinstance(info, dict) else dataclasses.asdict(info)}))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
