"""What every engine receives and returns. No torch here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from studio.generation.registry import ModelSpec

Mode = Literal["text_to_image", "text_to_video", "image_to_video"]
CAMERA_MOVES = ("static", "zoom_in", "zoom_out", "pan_left", "pan_right", "tilt_up", "tilt_down")


class JobCanceled(Exception):
    """Raised from a progress callback to stop an engine at once."""


# progress(done_steps, total_steps); may raise JobCanceled.
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class GenerationRequest:
    mode: Mode
    prompt: str
    width: int
    height: int
    seed: int
    steps: int
    guidance: float
    num_frames: int = 1  # 1 for text_to_image
    fps: int = 8
    negative_prompt: str | None = None
    image_path: Path | None = None  # the reference image (image_to_video; animatic still)
    last_image_path: Path | None = None  # the frame to end on (models with last_frame)
    camera_move: str | None = None  # one of CAMERA_MOVES
    motion_strength: float | None = None  # 0..1
    title: str | None = None  # animatic card text when there is no image (shot code)
    caption: str | None = None  # animatic card body (shot description)


@dataclass
class EngineOutput:
    """frames: uint8 array (T, H, W, 3). T == 1 for an image.

    audio: the clip's sound where the model makes one (LTX-2), float samples in
    [-1, 1] shaped (channels, samples) at ``sample_rate``.
    """

    frames: np.ndarray
    fps: int
    extra: dict[str, object] = field(default_factory=dict)
    audio: np.ndarray | None = None
    sample_rate: int = 0

    @property
    def is_video(self) -> bool:
        return int(self.frames.shape[0]) > 1


class Engine(Protocol):
    def run(
        self, spec: ModelSpec, request: GenerationRequest, progress: ProgressFn
    ) -> EngineOutput:
        """Generate. Calls progress once per step; lets JobCanceled propagate."""
        ...

    def is_warm(self, spec: ModelSpec) -> bool:
        """Whether this process has the model loaded (no load cost for the next job)."""
        ...

    def weights_present(self, spec: ModelSpec) -> bool: ...
