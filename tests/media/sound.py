"""Reading a file's sound back with the real ffmpeg, for tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from studio.media import ffmpeg

RATE = 48_000


def decode_audio(path: Path, *, rate: int = RATE) -> np.ndarray:
    """The first audio track decoded by ffmpeg as float32 (samples, 2) at `rate`."""
    done = subprocess.run(
        [
            ffmpeg.ffmpeg_binary(),
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-f",
            "f32le",
            "-ac",
            "2",
            "-ar",
            str(rate),
            "-",
        ],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(done.stdout, dtype="<f4").reshape(-1, 2)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0


def audible(path: Path) -> bool:
    """Whether the file's sound decodes and is not silence."""
    return rms(decode_audio(path)) > 1e-4
