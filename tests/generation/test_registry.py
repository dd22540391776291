"""The model registry: the shipped file parses, and requests are checked against it."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.errors import InvalidInput
from studio.generation import registry as reg


def test_shipped_registry_lists_real_open_checkpoints() -> None:
    registry = reg.load_registry()
    keys = {m.key for m in registry.all()}
    assert {"animatic", "ltx-video", "wan2_1-t2v-1_3b", "svd-xt", "sd-1_5"} <= keys
    for mode in reg.MODES:
        assert registry.for_mode(mode), mode
    # No weights on this machine: the animatic is what a fresh install uses.
    assert registry.default_for("text_to_video").key == "animatic"
    assert not reg.weights_available(registry.get("ltx-video"))


def resolve(key: str, **kwargs: object) -> reg.Resolved:
    spec = reg.load_registry().get(key)
    args: dict[str, object] = {"mode": "text_to_video", "prompt": "a harbour at dawn", **kwargs}
    return reg.resolve(spec, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "kwargs", "code"),
    [
        ("svd-xt", {"mode": "text_to_video"}, "unsupported_mode"),
        ("svd-xt", {"mode": "image_to_video"}, "unsupported_control"),  # takes no prompt
        ("animatic", {"ratio": "4:3"}, "unsupported_ratio"),
        ("animatic", {"duration": 11}, "unsupported_duration"),
        ("ltx-video", {"duration": 0}, "unsupported_duration"),
        ("animatic", {"negative_prompt": "blurry"}, "unsupported_control"),
        (
            "svd-xt",
            {"mode": "image_to_video", "prompt": "", "camera_move": "zoom_in"},
            "unsupported_control",
        ),
        ("ltx-video", {"motion_strength": 0.5}, "unsupported_control"),
        ("animatic", {"camera_move": "barrel_roll"}, "invalid_camera_move"),
        ("animatic", {"prompt": "   "}, "prompt_required"),
        ("animatic", {"prompt": "x" * 2001}, "prompt_too_long"),
        ("sd-1_5", {"mode": "text_to_image", "duration": 4}, "unsupported_control"),
        ("no-such-model", {}, "unknown_model"),
    ],
)
def test_unsupported_controls_are_refused_not_dropped(
    key: str, kwargs: dict[str, object], code: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve(key, **kwargs)
    assert caught.value.code == code
    assert len(caught.value.message) > 15


def test_camera_moves_become_prompt_text_where_the_model_has_no_native_control() -> None:
    assert (
        resolve("ltx-video", camera_move="pan_left").prompt == "a harbour at dawn, camera pans left"
    )
    native = resolve("animatic", camera_move="pan_left")
    assert native.prompt == "a harbour at dawn" and native.camera_move == "pan_left"
    timed = resolve("animatic", duration=4, ratio="720:1280")
    assert (timed.width, timed.height, timed.num_frames, timed.fps) == (720, 1280, 96, 24)


def test_a_broken_registry_file_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "models.toml"
    bad.write_text(
        '[models.x]\nengine = "diffusers"\nmodes = ["text_to_video"]\n'
        'ratios = { "1:1" = [64, 64] }\n'
    )
    with pytest.raises(reg.RegistryError, match="model 'x': video modes need durations"):
        reg.load_registry(bad)
    bad.write_text('[models.x]\nengine = "comfy"\n')
    with pytest.raises(reg.RegistryError, match="engine must be one of"):
        reg.load_registry(bad)
