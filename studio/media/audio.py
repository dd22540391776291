"""Sound under pictures: the sound files ffmpeg reads and how they are fitted.

Every MP4 Studio writes carries AAC-LC at 48 kHz stereo (browser-safe). A
sound laid under a picture is resampled to that, padded with silence and cut
to exactly the picture's length, so it never runs short or long.

Pure like ffmpeg.py: no settings, no database.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg
import numpy as np

from studio.media.storage import atomic_path

# Browser-safe sound: AAC-LC, 48 kHz stereo.
AUDIO_RATE = 48_000
AAC_OPTIONS: dict[str, Any] = {"acodec": "aac", "audio_bitrate": "160k", "ar": AUDIO_RATE, "ac": 2}


@dataclass(frozen=True)
class SoundFile:
    """A sound to read with a forced demuxer (``format``), file protocol only."""

    path: Path
    format: str  # FFmpeg demuxer name: "wav", "mp3", "flac", "ogg", "mov", "matroska"


def sound_input(sound: SoundFile) -> Any:
    """The sound's audio stream, read with its demuxer forced and the file protocol only."""
    return ffmpeg.input(
        f"file:{Path(sound.path).resolve()}", format=sound.format, protocol_whitelist="file"
    ).audio


def fit_length(audio: Any, seconds: float) -> Any:
    """An audio stream resampled to 48 kHz stereo, padded with silence and cut to
    exactly ``seconds``: the length of the picture it goes under."""
    return (
        audio.filter("aresample", AUDIO_RATE)
        .filter("aformat", sample_fmts="fltp", sample_rates=AUDIO_RATE, channel_layouts="stereo")
        .filter("apad", whole_dur=f"{seconds:.6f}")
        .filter("atrim", duration=f"{seconds:.6f}")
        .filter("asetpts", "N/SR/TB")
    )


def fitted_audio(sound: SoundFile, seconds: float) -> Any:
    return fit_length(sound_input(sound), seconds)


def silence(seconds: float) -> Any:
    """``seconds`` of 48 kHz stereo silence."""
    return ffmpeg.input(
        f"anullsrc=r={AUDIO_RATE}:cl=stereo", format="lavfi", t=f"{seconds:.6f}"
    ).audio.filter("aformat", sample_fmts="fltp", sample_rates=AUDIO_RATE, channel_layouts="stereo")


def write_wav(samples: np.ndarray, rate: int, path: Path) -> SoundFile:
    """(channels, samples) float audio in [-1, 1] as a 16-bit PCM WAV (a model's track)."""
    array = np.asarray(samples, dtype=np.float32)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or not 1 <= array.shape[0] <= 8 or array.shape[1] < 1 or rate < 1:
        raise ValueError(f"audio must be (channels, samples), got {array.shape} at {rate} Hz")
    pcm = (np.clip(np.nan_to_num(array), -1.0, 1.0) * 32767.0).round().astype("<i2")
    with atomic_path(Path(path)) as tmp, wave.open(str(tmp), "wb") as out:
        out.setnchannels(int(array.shape[0]))
        out.setsampwidth(2)
        out.setframerate(int(rate))
        out.writeframes(np.ascontiguousarray(pcm.T).tobytes())
    return SoundFile(Path(path), "wav")
