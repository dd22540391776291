"""Which controls a model and mode offer, and with what values: pure functions.

`form_for` narrows each control to what the chosen model and mode support,
hides what they do not, and keeps a value only while it is still valid for
them, else the model's default. `submission_for` reads back only the
controls that are shown, so a hidden field's leftover value never reaches
the service, which checks the rest with clear messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.generation import registry as reg
from studio.generation import service as jobs

MODE_LABELS = {
    "text_to_video": "Text to video",
    "image_to_video": "Image to video",
    "text_to_image": "Text to image",
}
CAMERA_CHOICES = [(m.replace("_", " ").capitalize(), m) for m in reg.CAMERA_MOVES]
DEFAULT_MOTION = 0.5
# The form's fields, by name; page.py maps each to its component.
FIELDS = (
    "mode",
    "prompt",
    "negative",
    "reference",
    "ratio",
    "duration",
    "camera",
    "motion",
    "random_seed",
    "seed",
)


def seconds_label(seconds: int) -> str:
    return f"{seconds} s"


def mode_choices(modes: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    return [(MODE_LABELS[m], m) for m in modes]


def ratio_choices(spec: reg.ModelSpec) -> list[str]:
    return list(spec.ratios)


def duration_choices(spec: reg.ModelSpec) -> list[tuple[str, int]]:
    return [(seconds_label(d), d) for d in sorted(spec.durations)]


@dataclass(frozen=True)
class Current:
    """What the form shows now (from the browser); anything may be stale or junk."""

    mode: Any = None
    ratio: Any = None
    duration: Any = None
    camera: Any = None


def chosen_mode(spec: reg.ModelSpec, mode: Any) -> str:
    """The mode kept when switching to `spec`: the same one if it can, else its first."""
    return mode if isinstance(mode, str) and spec.supports(mode) else spec.modes[0]


def has_camera(spec: reg.ModelSpec, mode: str) -> bool:
    return mode != "text_to_image" and spec.camera_move != "none"


def default_duration(spec: reg.ModelSpec) -> int | None:
    return spec.default_seconds() if spec.durations else None


def form_for(spec: reg.ModelSpec, mode: Any, current: Current | None = None) -> dict[str, Any]:
    """field name -> gr.update for `spec` in `mode` (a mode it lacks becomes its first).

    A value still valid for the model stays; anything else becomes its default.
    """
    now = current or Current()
    mode = chosen_mode(spec, mode)
    video = mode != "text_to_image"
    ratio = now.ratio if now.ratio in spec.ratios else next(iter(spec.ratios))
    duration = None
    if video:
        duration = now.duration if now.duration in spec.durations else default_duration(spec)
    camera_on = has_camera(spec, mode)
    camera = now.camera if camera_on and now.camera in reg.CAMERA_MOVES else "static"
    return {
        "mode": gr.update(choices=mode_choices(spec.modes), value=mode),
        "prompt": gr.update(visible=spec.prompt, interactive=spec.prompt),
        "negative": gr.update(visible=spec.negative_prompt, interactive=spec.negative_prompt),
        "reference": gr.update(visible=mode == "image_to_video"),
        "ratio": gr.update(choices=ratio_choices(spec), value=ratio),
        "duration": gr.update(
            choices=duration_choices(spec), value=duration, visible=video, interactive=video
        ),
        "camera": gr.update(value=camera, visible=camera_on, interactive=camera_on),
        "motion": gr.update(visible=spec.motion_strength, interactive=spec.motion_strength),
        "random_seed": gr.update(visible=spec.seed, interactive=spec.seed),
        "seed": gr.update(visible=spec.seed, interactive=spec.seed),
    }


@dataclass(frozen=True)
class Form:
    """The values a Generate press sends, as the browser has them."""

    mode: Any
    prompt: Any
    negative: Any
    ratio: Any
    duration: Any
    camera: Any
    motion: Any
    random_seed: Any
    seed: Any


def submission_for(
    spec: reg.ModelSpec, form: Form, reference: jobs.Reference | None
) -> jobs.Submission:
    """The request for the controls `spec` shows in this mode; the service checks the rest
    (a mode the model lacks, a ratio or duration it does not render) with clear messages."""
    mode = str(form.mode or "")
    video = mode != "text_to_image"
    return jobs.Submission(
        mode=mode,
        prompt=str(form.prompt or "") if spec.prompt else "",
        model=spec.key,
        ratio=str(form.ratio) if form.ratio else None,
        duration=_seconds(form.duration) if video else None,
        seed=None if bool(form.random_seed) or not spec.seed else _seed(form.seed),
        negative_prompt=(str(form.negative or "") or None) if spec.negative_prompt else None,
        camera_move=str(form.camera or "static") if has_camera(spec, mode) else None,
        motion_strength=_motion(form.motion) if spec.motion_strength else None,
        reference=reference if mode == "image_to_video" else None,
    )


def _seconds(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise gr.Error("Choose a duration from the list.")
    try:
        return int(float(str(value).removesuffix(" s")))
    except ValueError:
        raise gr.Error("Choose a duration from the list.") from None


def _seed(value: Any) -> int:
    """A whole number; the service checks its range."""
    try:
        return int(float(value or 0))
    except (TypeError, ValueError, OverflowError):
        raise gr.Error(f"The seed is a whole number from 0 to {jobs.SEED_MAX}.") from None


def _motion(value: Any) -> float:
    try:
        return float(DEFAULT_MOTION if value is None else value)
    except (TypeError, ValueError):
        raise gr.Error("Motion strength goes from 0 to 1.") from None
