"""The Generate form's rules, without a server: a hidden control's leftover
value never reaches the service, and a model switch keeps only valid values."""

from __future__ import annotations

from studio.generation import registry as reg
from studio.generation import service as jobs
from studio.ui.generate import controls

REGISTRY = reg.load_registry()  # the shipped models


def form(**changes: object) -> controls.Form:
    values: dict[str, object] = {
        "mode": "text_to_video",
        "prompt": "waves",
        "negative": "blurry",
        "ratio": "960:960",
        "duration": "4",
        "camera": "zoom_in",
        "motion": 0.8,
        "random_seed": False,
        "seed": 12.0,
    }
    return controls.Form(**(values | changes))  # type: ignore[arg-type]


def test_hidden_controls_are_left_out_of_the_request() -> None:
    reference = jobs.Reference(asset_id=1)
    animatic = controls.submission_for(REGISTRY.get("animatic"), form(), reference)
    # The animatic has no negative prompt or motion; text to video takes no reference.
    assert (animatic.negative_prompt, animatic.motion_strength, animatic.reference) == (
        None,
        None,
        None,
    )
    assert (animatic.duration, animatic.camera_move, animatic.seed) == (4, "zoom_in", 12)
    still = controls.submission_for(REGISTRY.get("sd-1_5"), form(mode="text_to_image"), None)
    assert (still.duration, still.camera_move, still.negative_prompt) == (None, None, "blurry")
    svd = REGISTRY.get("svd-xt")
    moving = controls.submission_for(svd, form(mode="image_to_video"), reference)
    assert (moving.prompt, moving.camera_move, moving.motion_strength) == ("", None, 0.8)
    assert moving.reference is reference
    random = controls.submission_for(svd, form(mode="image_to_video", random_seed=True), None)
    assert random.seed is None


def test_a_switch_keeps_valid_values_and_defaults_the_rest() -> None:
    now = controls.Current("image_to_video", "720:1280", 5, "pan_left")
    ltx = controls.form_for(REGISTRY.get("ltx-video"), "image_to_video", now)
    assert (ltx["ratio"]["value"], ltx["duration"]["value"], ltx["camera"]["value"]) == (
        "720:1280",
        5,
        "pan_left",
    )
    wan = controls.form_for(REGISTRY.get("wan2_1-t2v-1_3b"), "image_to_video", now)
    assert wan["mode"]["value"] == "text_to_video" and wan["reference"]["visible"] is False
    assert (wan["ratio"]["value"], wan["duration"]["value"]) == ("720:1280", 5)
    square = controls.Current("text_to_video", "960:960", 4, "tilt_up")
    wan = controls.form_for(REGISTRY.get("wan2_1-t2v-1_3b"), "text_to_video", square)
    assert (wan["ratio"]["value"], wan["duration"]["value"]) == ("1280:720", 2)
