"""Hostile videos cost bounded time to probe (issue 13, finding 2).

The corpus is made here with ffmpeg: the reviewer's 125 KB Matroska (100 s of
3840x2160 black at 30 fps, which took 70 s of one core to probe because
every frame was decoded to count them), a huge frame size, a stream written
to a pipe (no duration, no index: "endless" until read), a header claiming
days, and a header claiming 1 s over 100 s of frames. Each is answered from
headers, packets and one decoded frame, through the same child-process probe
uploads use. The time bound below is far above what a probe takes now and
far below what it took before; it is a guard, not a benchmark.
"""

from __future__ import annotations

import struct
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from studio.db.session import Database
from studio.media import ffmpeg, sandbox
from tests.factories import bearer
from tests.jams.helpers import running_jam_team

FAST = 20.0  # seconds: the old probe needed 70+ for the first file alone


def run_ffmpeg(*args: str) -> None:
    subprocess.run(
        [ffmpeg.ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    second = folder / "second.mkv"
    # One second of 4K black, then the same packets looped 100 times (stream copy).
    run_ffmpeg(
        "-f", "lavfi", "-i", "color=black:s=3840x2160:r=30:d=1",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "51", "-g", "300", str(second),
    )  # fmt: skip
    black = folder / "black-4k-100s.mkv"
    run_ffmpeg("-stream_loop", "99", "-i", str(second), "-c", "copy", str(black))
    wide = folder / "wide.mkv"
    run_ffmpeg(
        "-f", "lavfi", "-i", "color=black:s=16384x16:r=1:d=1",
        "-c:v", "libx264", "-preset", "ultrafast", str(wide),
    )  # fmt: skip
    endless = folder / "piped.mkv"
    with open(endless, "wb") as out:
        subprocess.run(
            [
                ffmpeg.ffmpeg_binary(), "-hide_banner", "-loglevel", "error",
                "-f", "lavfi", "-i", "color=gray:s=64x64:r=30:d=100",
                "-c:v", "libx264", "-preset", "ultrafast", "-f", "matroska", "pipe:1",
            ],
            stdout=out,
            check=True,
            timeout=300,
        )  # fmt: skip
    small = folder / "small-100s.mkv"
    run_ffmpeg(
        "-f", "lavfi", "-i", "color=gray:s=64x64:r=30:d=100",
        "-c:v", "libx264", "-preset", "ultrafast", str(small),
    )  # fmt: skip
    days = folder / "claims-days.mkv"
    lying = folder / "claims-one-second.mkv"
    days.write_bytes(_with_duration(small.read_bytes(), 9e12))  # in milliseconds
    lying.write_bytes(_with_duration(small.read_bytes(), 1000.0))
    garbage = folder / "wrong-header.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 12 + b"\xff" * 50_000)
    return {
        "black": black,
        "wide": wide,
        "endless": endless,
        "days": days,
        "lying": lying,
        "garbage": garbage,
    }


def _with_duration(data: bytes, milliseconds: float) -> bytes:
    """Rewrite the Matroska Segment Info Duration (ID 0x4489, an 8-byte float)."""
    at = data.index(b"\x44\x89\x88")
    return data[: at + 3] + struct.pack(">d", milliseconds) + data[at + 11 :]


def timed_probe(path: Path) -> tuple[float, ffmpeg.Probe | ffmpeg.MediaError]:
    start = time.monotonic()
    try:
        result: ffmpeg.Probe | ffmpeg.MediaError = sandbox.probe_isolated(path)
    except ffmpeg.MediaError as exc:
        result = exc
    return time.monotonic() - start, result


def test_the_hostile_corpus_is_answered_fast(corpus: dict[str, Path]) -> None:
    assert corpus["black"].stat().st_size < 5_000_000  # black compresses to almost nothing
    took, black = timed_probe(corpus["black"])
    assert took < FAST, took
    assert isinstance(black, ffmpeg.Probe), black
    assert abs(black.duration - 100) < 1.5 and abs(black.frames - 3000) <= 30
    assert (black.width, black.height) == (3840, 2160)

    took, wide = timed_probe(corpus["wide"])
    assert took < FAST and isinstance(wide, ffmpeg.MediaError)
    assert "16384x16" in wide.message and "limited" in wide.message

    took, endless = timed_probe(corpus["endless"])  # no duration, no index: counted
    assert took < FAST and isinstance(endless, ffmpeg.Probe), endless
    assert abs(endless.duration - 100) < 1.5

    took, days = timed_probe(corpus["days"])
    assert took < FAST and isinstance(days, ffmpeg.MediaError)
    assert "limited to" in days.message

    took, lying = timed_probe(corpus["lying"])  # the packets, not the header, decide
    assert took < FAST and isinstance(lying, ffmpeg.Probe), lying
    assert lying.duration > 90

    took, garbage = timed_probe(corpus["garbage"])
    assert took < FAST and isinstance(garbage, ffmpeg.MediaError)


def test_a_probe_over_its_time_limit_is_refused(corpus: dict[str, Path]) -> None:
    with pytest.raises(ffmpeg.MediaError, match="took more than"):
        sandbox.probe_isolated(corpus["black"], timeout=0.01)


def test_a_jam_team_uploading_the_4k_file_is_refused_fast(
    db: Database, http: httpx.Client, corpus: dict[str, Path]
) -> None:
    """The reviewer's attack through the API: refused in seconds, the server responsive."""
    slug, _team, key = running_jam_team(db)
    start = time.monotonic()
    response = http.post(
        f"/v1/jams/{slug}/entry/film",
        content=corpus["black"].read_bytes(),
        headers={**bearer(key), "Content-Type": "video/x-matroska"},
    )
    assert time.monotonic() - start < FAST
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "film_length"  # 100 s; this jam takes 1 to 4 s
    assert http.get("/healthz").status_code == 200


def test_posters_of_the_hostile_corpus_are_bounded(corpus: dict[str, Path], tmp_path: Path) -> None:
    """An uploaded video's poster is made in the same kind of child: the first keyframe
    of the 100 s 4K file (shrunk to 640 px), the over-size frame refused from its
    headers, garbage refused, and a child over its time limit killed."""
    poster = tmp_path / "black.jpg"
    start = time.monotonic()
    assert sandbox.poster_isolated(corpus["black"], poster) == (640, 360)
    assert time.monotonic() - start < FAST
    assert poster.read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    for name in ("wide", "garbage"):
        with pytest.raises(ffmpeg.MediaError):
            sandbox.poster_isolated(corpus[name], tmp_path / f"{name}.jpg")
        assert not (tmp_path / f"{name}.jpg").exists()
    with pytest.raises(ffmpeg.MediaError, match="took more than"):
        sandbox.poster_isolated(corpus["black"], tmp_path / "slow.jpg", timeout=0.01)
    assert not (tmp_path / "slow.jpg").exists()
