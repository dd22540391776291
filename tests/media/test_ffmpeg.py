"""Encoding and probing with the real ffmpeg and PyAV (no mocks)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.media import ffmpeg
from studio.media.ffmpeg import (
    NOT_A_VIDEO,
    MediaError,
    concat_copy,
    encode_mp4,
    ffmpeg_binary,
    last_frame,
    probe,
    read_frames,
    write_png,
    write_poster,
    write_video_poster,
)


def moving_gradient(count: int, height: int, width: int) -> np.ndarray:
    """Smooth frames (codec-friendly) that change over time."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = np.empty((count, height, width, 3), np.uint8)
    for t in range(count):
        frames[t, ..., 0] = (xs * 255 / max(1, width - 1) + t * 4) % 256
        frames[t, ..., 1] = ys * 255 / max(1, height - 1)
        frames[t, ..., 2] = 128 + 60 * np.sin((xs + ys + t * 3) / 12)
    return frames


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    frames = moving_gradient(30, 96, 128)
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    encode_mp4(frames, 24, path)
    return path, frames


def ffmpeg_cli(*args: str) -> None:
    subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_ffmpeg_binary_runs() -> None:
    result = subprocess.run([ffmpeg_binary(), "-version"], capture_output=True, timeout=30)
    assert result.returncode == 0 and b"ffmpeg version" in result.stdout


def test_encode_then_probe_is_browser_playable(clip: tuple[Path, np.ndarray]) -> None:
    path, _ = clip
    info = probe(path)
    assert info.codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert (info.width, info.height) == (128, 96)
    assert info.frames == 30
    assert info.fps == pytest.approx(24.0)
    assert info.duration == pytest.approx(30 / 24, abs=0.05)
    assert info.faststart is True
    assert "mp4" in info.format_name.split(",")
    assert leftovers(path.parent) == []


def test_encoded_video_plays_back(clip: tuple[Path, np.ndarray]) -> None:
    path, frames = clip
    decoded = read_frames(path)
    assert decoded.shape == frames.shape and decoded.dtype == np.uint8
    error = np.abs(decoded.astype(np.int16) - frames.astype(np.int16)).mean()
    assert error < 6, f"decoded frames differ too much from the input: {error:.2f}"
    assert read_frames(path, max_frames=5).shape[0] == 5
    assert np.array_equal(last_frame(path), decoded[-1])


def test_odd_sizes_become_even(tmp_path: Path) -> None:
    path = tmp_path / "odd.mp4"
    encode_mp4(moving_gradient(5, 47, 65), 8, path)
    info = probe(path)
    assert (info.width, info.height) == (64, 46)
    assert info.frames == 5 and info.fps == pytest.approx(8.0)
    assert read_frames(path).shape == (5, 46, 64, 3)


def test_single_frame_video(tmp_path: Path) -> None:
    path = tmp_path / "one.mp4"
    encode_mp4(moving_gradient(1, 32, 32), 24, path)
    assert probe(path).frames == 1
    assert last_frame(path).shape == (32, 32, 3)


def test_failed_encode_raises_media_error_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    path.write_bytes(b"previous version")
    with pytest.raises(MediaError, match="Video encoding failed") as info:
        encode_mp4(moving_gradient(3, 32, 32), 24, path, preset="no-such-preset")
    assert "preset" in str(info.value).lower()  # ffmpeg's own words, for the log
    assert path.read_bytes() == b"previous version"  # the old file is untouched
    assert leftovers(tmp_path) == []


def test_encode_refuses_bad_frames(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        encode_mp4(np.zeros((3, 32, 32), np.uint8), 24, tmp_path / "x.mp4")
    with pytest.raises(ValueError):
        encode_mp4(np.zeros((3, 32, 32, 3), np.float32), 24, tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()


def test_poster_is_a_small_jpeg(tmp_path: Path) -> None:
    frame = moving_gradient(1, 720, 1280)[0]
    path = tmp_path / "poster.jpg"
    write_poster(frame, path, max_width=640)
    assert path.read_bytes()[:3] == b"\xff\xd8\xff"
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert image.size == (640, 360)
    small = tmp_path / "small.jpg"
    write_poster(frame[:100, :160], small, max_width=640)
    with Image.open(small) as image:
        assert image.size == (160, 100)  # never upscaled
    assert leftovers(tmp_path) == []


def test_write_png_is_lossless(tmp_path: Path) -> None:
    frame = moving_gradient(1, 33, 47)[0]
    path = tmp_path / "still.png"
    write_png(frame, path)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert np.array_equal(np.asarray(image.convert("RGB")), frame)


def test_probe_reads_matroska_without_a_frame_count(tmp_path: Path) -> None:
    path = tmp_path / "clip.mkv"
    ffmpeg_cli(
        "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "1", "-c:v", "mpeg4", str(path)
    )
    info = probe(path)
    assert info.format_name == "matroska,webm"
    assert info.frames == 10
    assert (info.width, info.height) == (64, 48)
    assert info.faststart is False
    assert read_frames(path).shape == (10, 48, 64, 3)
    with pytest.raises(MediaError):
        probe(path, allowed_formats=("mp4", "mov"))


def test_probe_sees_a_file_without_faststart(tmp_path: Path) -> None:
    path = tmp_path / "slow.mp4"
    ffmpeg_cli(
        "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "1",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path),
    )  # fmt: skip
    info = probe(path)
    assert info.frames == 10
    assert info.faststart is False


def test_probe_respects_the_allow_list(clip: tuple[Path, np.ndarray]) -> None:
    with pytest.raises(MediaError):
        probe(clip[0], allowed_formats=("webm", "matroska"))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", b"hello, this is not a video\n" * 20),
        ("empty.mp4", b""),
        ("playlist.m3u8", b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n"),
        ("playlist.mp4", b"#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:1/x.ts\n#EXT-X-ENDLIST\n"),
        ("list.mp4", b"ffconcat version 1.0\nfile '/etc/passwd'\n"),
        ("list.txt", b"file 'a.mp4'\nfile 'b.mp4'\n"),
        ("image.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64),
        ("random.mp4", bytes(range(256)) * 8),
    ],
)
def test_probe_refuses_non_videos(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MediaError) as info:
        probe(path)
    assert str(tmp_path) not in str(info.value)
    with pytest.raises(MediaError):
        read_frames(path)


def test_probe_refuses_a_png(tmp_path: Path) -> None:
    path = tmp_path / "still.mp4"
    Image.new("RGB", (64, 64), "red").save(path, format="PNG")
    with pytest.raises(MediaError, match="not a video"):
        probe(path)
    assert NOT_A_VIDEO.startswith("This file is not a video")


def test_probe_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        probe(tmp_path / "nope.mp4")
    with pytest.raises(MediaError):
        probe(tmp_path)  # a folder


@pytest.mark.parametrize("keep", [0.6, 0.95, 200])
def test_probe_refuses_a_truncated_mp4(
    clip: tuple[Path, np.ndarray], tmp_path: Path, keep: float
) -> None:
    data = clip[0].read_bytes()
    cut = int(keep) if keep > 1 else int(len(data) * keep)
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[:cut])
    with pytest.raises(MediaError):
        probe(path)


# ---------------------------------------------------------------- joining and posters


def box_kinds(path: Path) -> list[bytes]:
    return [kind for kind, _, _ in ffmpeg._box_layout(path)]


def count_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The argument lists of every ffmpeg run concat_copy makes."""
    runs: list[list[str]] = []
    real = ffmpeg._run

    def counted(stream, what):  # type: ignore[no-untyped-def]
        runs.append(stream.get_args())
        real(stream, what)  # a failure still counts as a run

    monkeypatch.setattr(ffmpeg, "_run", counted)
    return runs


def test_concat_copy_puts_the_index_first_in_one_pass_and_returns_the_hash(
    clip: tuple[Path, np.ndarray], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, frames = clip
    runs = count_runs(monkeypatch)
    target = tmp_path / "joined.mp4"
    joined = concat_copy([path, path, path], target)
    digest = joined.sha256
    assert digest == hashlib.sha256(target.read_bytes()).hexdigest()
    info = probe(target)
    assert joined.probe == info  # probed as it was written
    assert (info.codec, info.pix_fmt, info.width, info.height) == ("h264", "yuv420p", 128, 96)
    assert info.frames == 90 and abs(info.duration - 90 / 24) <= 3 / 24
    assert info.faststart is True  # streamable: the index before the media
    assert len(runs) == 1 and "-moov_size" in runs[0] and "+faststart" not in runs[0]
    reserve = int(runs[0][runs[0].index("-moov_size") + 1])
    assert ffmpeg._index_fits(target, reserve)
    decoded = read_frames(target)
    assert decoded.shape == (90, 96, 128, 3)
    assert np.abs(decoded[30].astype(np.int16) - frames[0].astype(np.int16)).mean() < 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["joined.mp4"]  # no list, no temp


def _bundled_ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@pytest.mark.parametrize("build", ["system", "bundled"])
def test_concat_copy_redoes_the_join_with_faststart_when_the_index_does_not_fit(
    clip: tuple[Path, np.ndarray], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, build: str
) -> None:
    # The system ffmpeg (5.1) exits 0 and leaves a broken layout when the index
    # outgrows the room; the bundled one (imageio-ffmpeg, newer) exits non-zero.
    if build == "bundled":
        monkeypatch.setattr(ffmpeg, "ffmpeg_binary", _bundled_ffmpeg)
    path, _ = clip
    runs = count_runs(monkeypatch)
    monkeypatch.setattr(ffmpeg, "_moov_reserve", lambda paths: 64)  # far too small
    target = tmp_path / "joined.mp4"
    digest = concat_copy([path, path], target).sha256
    assert len(runs) == 2 and "-moov_size" in runs[0] and "+faststart" in runs[1]
    assert digest == hashlib.sha256(target.read_bytes()).hexdigest()
    info = probe(target)
    assert info.faststart is True and info.frames == 60
    assert read_frames(target).shape == (60, 96, 128, 3)
    assert box_kinds(target)[:2] == [b"ftyp", b"moov"]
    assert leftovers(tmp_path) == []


def test_concat_copy_of_matroska_clips_uses_faststart(
    clip: tuple[Path, np.ndarray], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mkv = tmp_path / "clip.mkv"
    ffmpeg_cli("-i", str(clip[0]), "-c", "copy", str(mkv))
    runs = count_runs(monkeypatch)
    target = tmp_path / "joined.mp4"
    digest = concat_copy([mkv, mkv], target).sha256
    assert len(runs) == 1 and "+faststart" in runs[0]
    assert digest == hashlib.sha256(target.read_bytes()).hexdigest()
    info = probe(target)
    assert info.faststart is True and info.frames == 60


def test_index_fits_refuses_a_faststart_layout_and_a_broken_file(
    clip: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    assert not ffmpeg._index_fits(clip[0], 100_000)  # +faststart: no reserved room
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip[0].read_bytes()[:200])
    assert not ffmpeg._index_fits(broken, 100_000)


def test_video_poster_is_the_first_frame_as_a_small_jpeg(
    clip: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    path, frames = clip
    small = tmp_path / "small.jpg"
    write_video_poster(path, small)
    with Image.open(small) as image:
        assert image.format == "JPEG" and image.size == (128, 96)  # never upscaled
        first = np.asarray(image.convert("RGB")).astype(np.int16)
    assert np.abs(first - frames[0].astype(np.int16)).mean() < 8
    assert np.abs(first - frames[-1].astype(np.int16)).mean() > 20  # not some later frame
    wide = tmp_path / "wide.mp4"
    encode_mp4(moving_gradient(3, 360, 1280), 24, wide, preset="ultrafast")
    poster = tmp_path / "poster.jpg"
    write_video_poster(wide, poster, max_width=640)
    with Image.open(poster) as image:
        assert image.size == (640, 180)
    assert leftovers(tmp_path) == []


def test_video_poster_refuses_non_videos(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_bytes(b"not a video" * 50)
    with pytest.raises(MediaError):
        write_video_poster(path, tmp_path / "poster.jpg")
    assert not (tmp_path / "poster.jpg").exists()


def test_video_poster_needs_a_keyframe_the_probe_does_not(tmp_path: Path) -> None:
    """A clip whose only keyframe was dropped still probes (one concealed frame) but has
    no poster: only keyframes are decoded for one, within a bounded number of packets."""
    from tests.projects.test_upload_posters import keyless_clip

    path = tmp_path / "keyless.mp4"
    path.write_bytes(keyless_clip(tmp_path))
    assert probe(path).frames > 0
    with pytest.raises(MediaError, match="no frames"):
        write_video_poster(path, tmp_path / "poster.jpg")
    assert not (tmp_path / "poster.jpg").exists()
