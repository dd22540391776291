"""The model registry: which models exist, what each supports, where weights live.

Read from a TOML file (the shipped `models.toml`, or STUDIO_MODELS_FILE).
The UI and the API offer only what a model supports, and resolve() turns
anything else into a clear InvalidInput rather than dropping it.

Runway clients send Runway's model names (`gen4_turbo`, ...), durations of 5
or 10 s and ratios such as "1920:1080". The file's `[aliases]` table maps a
Runway name to installed models (the first one here that can do the mode);
every video model takes any whole number of seconds from 1 to 10 (a duration
outside its table is mapped to its nearest frame count, and the job says so);
a ratio with the same shape as one of the model's is rendered at that size.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from studio.errors import InvalidInput

MODES = ("text_to_image", "text_to_video", "image_to_video")
ENGINES = ("diffusers", "animatic")
CAMERA_SUPPORT = ("native", "prompt", "none")
CAMERA_MOVES = ("static", "zoom_in", "zoom_out", "pan_left", "pan_right", "tilt_up", "tilt_down")
SHIPPED_FILE = Path(__file__).with_name("models.toml")
# Every video model takes whole seconds in this range (Runway's clients send 5 or 10).
DURATION_MIN, DURATION_MAX = 1, 10
# Two ratios are "the same shape" when their aspects differ by less than this.
_ASPECT_TOLERANCE = 0.01

# How a model without native camera control is asked for a move.
CAMERA_PROMPTS = {
    "zoom_in": "slow camera zoom in",
    "zoom_out": "slow camera zoom out",
    "pan_left": "camera pans left",
    "pan_right": "camera pans right",
    "tilt_up": "camera tilts up",
    "tilt_down": "camera tilts down",
}


class RegistryError(ValueError):
    """The models file is wrong; the message names the model and the field."""


@dataclass(frozen=True)
class ModelSpec:
    key: str
    name: str
    engine: Literal["diffusers", "animatic"]
    modes: tuple[str, ...]
    ratios: dict[str, tuple[int, int]]  # "1280:720" -> (width, height) actually rendered
    durations: dict[int, int] = field(default_factory=dict)  # seconds -> frame count
    fps: int = 8
    # Frame counts the family takes: (k, offset) means k*n + offset (LTX 8k+1, Wan 4k+1).
    # With it, a duration outside `durations` maps to the nearest such count up to
    # max_frames; without it, to the nearest entry of `durations`.
    frame_rule: tuple[int, int] | None = None
    max_frames: int = 0  # 0: the largest count in `durations`
    last_frame: bool = False  # image_to_video can end on a given frame
    audio: bool = False  # its takes come with a generated sound track (LTX-2)
    audio_file: bool = False  # lays a given sound file under its clip (the animatic)
    default_duration: int = 0  # seconds when a request names none; 0: the shortest
    pipelines: dict[str, str] = field(default_factory=dict)  # mode -> diffusers class name
    weights: str = ""  # local folder, or a hub id resolved from the local HF cache
    revision: str | None = None
    default_steps: int = 25
    default_guidance: float = 7.0
    prompt: bool = True  # False: image-only models (SVD) refuse a prompt
    negative_prompt: bool = False
    seed: bool = True
    camera_move: Literal["native", "prompt", "none"] = "none"
    motion_strength: bool = False
    dtype: Literal["float32", "float16", "bfloat16"] = "float16"
    cpu_offload: bool = False
    vae_tiling: bool = False
    memory_gb: float = 8.0  # resident size estimate, for the warm-pipeline budget
    description: str = ""

    @property
    def queue(self) -> str:
        return "gpu" if self.engine == "diffusers" else "cpu"

    def supports(self, mode: str) -> bool:
        return mode in self.modes

    def default_seconds(self) -> int:
        return self.default_duration or min(self.durations)

    def weights_path(self) -> Path | None:
        path = Path(self.weights)
        return path if self.weights and (path.is_absolute() or path.exists()) else None


class Registry:
    def __init__(
        self,
        models: list[ModelSpec],
        source: Path,
        aliases: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.source = source
        self._models = {m.key: m for m in models}
        self.aliases: dict[str, tuple[str, ...]] = dict(aliases or {})

    def all(self) -> list[ModelSpec]:
        return list(self._models.values())

    def get(self, key: str, mode: str | None = None) -> ModelSpec:
        """A model by its key, or by an alias (resolved for `mode` when given)."""
        spec = self._models.get(key)
        if spec is not None:
            return spec
        if key in self.aliases:
            return self.resolve_alias(key, mode)
        known = ", ".join(sorted([*self._models, *self.aliases]))
        raise InvalidInput(f"Unknown model '{key}'. Available: {known}.", code="unknown_model")

    def resolve_alias(self, alias: str, mode: str | None = None) -> ModelSpec:
        """The first model the alias lists that can do `mode` and is installed here;
        else the first that can do `mode` (its job then fails with a clear message)."""
        candidates = [self._models[k] for k in self.aliases[alias]]
        able = [m for m in candidates if mode is None or m.supports(mode)]
        if not able:
            raise InvalidInput(
                f"'{alias}' cannot do {mode} here; it maps to "
                f"{', '.join(m.key for m in candidates)}.",
                code="unsupported_mode",
            )
        return next((m for m in able if weights_available(m)), able[0])

    def aliases_of(self, key: str) -> list[str]:
        return sorted(alias for alias, keys in self.aliases.items() if key in keys)

    def for_mode(self, mode: str) -> list[ModelSpec]:
        return [m for m in self._models.values() if m.supports(mode)]

    def default_for(self, mode: str) -> ModelSpec:
        """The first model for this mode whose weights are here (else simply the first)."""
        models = self.for_mode(mode)
        if not models:
            raise InvalidInput(f"No model here can do {mode}.", code="unsupported_mode")
        return next((m for m in models if weights_available(m)), models[0])


def weights_available(spec: ModelSpec) -> bool:
    """Whether this machine has the model's weights, without importing torch.

    A local folder needs a model_index.json; a hub id must be in the local
    Hugging Face cache (Studio never downloads at run time).
    """
    if spec.engine == "animatic":
        return True
    path = spec.weights_path()
    if path is not None:
        return (path / "model_index.json").is_file()
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(spec.weights, "model_index.json", revision=spec.revision)
    except Exception:  # a malformed id: not available
        return False
    return isinstance(found, str)


def load_registry(path: Path | None = None) -> Registry:
    source = Path(path) if path else SHIPPED_FILE
    try:
        data = tomllib.loads(source.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegistryError(f"Cannot read models file {source}: {exc}") from exc
    entries = data.get("models")
    if not isinstance(entries, dict) or not entries:
        raise RegistryError(f"{source} has no [models.<key>] tables.")
    models = [_parse(key, entry, source.parent) for key, entry in entries.items()]
    return Registry(models, source, _aliases(data.get("aliases", {}), {m.key for m in models}))


def _aliases(raw: Any, keys: set[str]) -> dict[str, tuple[str, ...]]:
    """[aliases] name = "model" or ["model", "fallback", ...]; every target must exist."""
    if not isinstance(raw, dict):
        raise RegistryError("[aliases] must be a table of name = model key(s).")
    out: dict[str, tuple[str, ...]] = {}
    for alias, target in raw.items():
        targets = (target,) if isinstance(target, str) else tuple(target)
        if not targets or any(not isinstance(t, str) or t not in keys for t in targets):
            raise RegistryError(f"alias '{alias}': names a model that is not in the file")
        if alias in keys:
            raise RegistryError(f"alias '{alias}': is also a model key")
        out[str(alias)] = targets
    return out


def _parse(key: str, raw: dict[str, Any], base: Path) -> ModelSpec:
    def fail(message: str) -> RegistryError:
        return RegistryError(f"model '{key}': {message}")

    entry = dict(raw)
    engine = entry.get("engine")
    if engine not in ENGINES:
        raise fail(f"engine must be one of {ENGINES}")
    modes = tuple(entry.get("modes", ()))
    if not modes or any(m not in MODES for m in modes):
        raise fail(f"modes must be a non-empty list from {MODES}")
    ratios = {}
    for ratio, size in dict(entry.get("ratios", {})).items():
        if not (
            isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) for v in size)
        ):
            raise fail(f"ratio '{ratio}' must map to [width, height]")
        ratios[str(ratio)] = (int(size[0]), int(size[1]))
    if not ratios:
        raise fail("needs at least one ratio")
    durations = {int(k): int(v) for k, v in dict(entry.get("durations", {})).items()}
    if any(m != "text_to_image" for m in modes) and not durations:
        raise fail("video modes need durations = { seconds = frames }")
    pipelines = {str(k): str(v) for k, v in dict(entry.get("pipelines", {})).items()}
    if engine == "diffusers":
        missing = [m for m in modes if m not in pipelines]
        if missing:
            raise fail(f"diffusers models name a pipeline class per mode; missing {missing}")
        if not entry.get("weights"):
            raise fail("diffusers models need weights (a folder or a hub id)")
    weights = str(entry.get("weights", ""))
    if weights.startswith((".", "/")) or weights.startswith("~"):
        weights = str((base / Path(weights).expanduser()).resolve())
    rule = entry.get("frame_rule")
    if rule is not None:
        if not (
            isinstance(rule, list)
            and len(rule) == 2
            and all(isinstance(v, int) for v in rule)
            and rule[0] >= 1
            and rule[1] >= 0
        ):
            raise fail("frame_rule must be [k, offset] (frame counts k*n + offset)")
        entry["frame_rule"] = (int(rule[0]), int(rule[1]))
    camera = entry.get("camera_move", "none")
    if camera not in CAMERA_SUPPORT:
        raise fail(f"camera_move must be one of {CAMERA_SUPPORT}")
    known = {f for f in ModelSpec.__dataclass_fields__}
    unknown = set(entry) - known
    if unknown:
        raise fail(f"unknown fields {sorted(unknown)}")
    entry.update(
        key=key,
        name=str(entry.get("name", key)),
        modes=modes,
        ratios=ratios,
        durations=durations,
        pipelines=pipelines,
        weights=weights,
    )
    return ModelSpec(**entry)


# ---------------------------------------------------------------- requests


@dataclass(frozen=True)
class Resolved:
    """A request checked against a model: exactly what the engine will be asked."""

    model: ModelSpec
    mode: str
    ratio: str
    width: int
    height: int
    duration: int | None
    num_frames: int
    fps: int
    duration_note: str | None  # set when the frames rendered differ from the duration asked
    prompt: str
    negative_prompt: str | None
    camera_move: str | None
    motion_strength: float | None
    steps: int
    guidance: float


PROMPT_MAX = 2000


def resolve(
    spec: ModelSpec,
    *,
    mode: str,
    prompt: str,
    ratio: str | None = None,
    duration: int | None = None,
    negative_prompt: str | None = None,
    camera_move: str | None = None,
    motion_strength: float | None = None,
    steps: int | None = None,
    guidance: float | None = None,
) -> Resolved:
    """Check a request against what the model supports; InvalidInput names what is wrong."""
    if not spec.supports(mode):
        raise InvalidInput(
            f"{spec.name} cannot do {mode}; it does {', '.join(spec.modes)}.",
            code="unsupported_mode",
        )
    text = (prompt or "").strip()
    if text and not spec.prompt:
        raise InvalidInput(
            f"{spec.name} takes no prompt: it animates the reference image alone.",
            code="unsupported_control",
        )
    if mode != "image_to_video" and not text:
        raise InvalidInput("Write a prompt: what should the shot show?", code="prompt_required")
    if len(text) > PROMPT_MAX:
        raise InvalidInput(
            f"The prompt is limited to {PROMPT_MAX} characters.", code="prompt_too_long"
        )
    chosen_ratio = equivalent_ratio(spec, ratio) if ratio else next(iter(spec.ratios))
    width, height = spec.ratios[chosen_ratio]
    frames, chosen_duration, note = 1, None, None
    if mode != "text_to_image":
        chosen_duration = duration if duration is not None else spec.default_seconds()
        frames, note = frames_for(spec, chosen_duration)
    elif duration is not None:
        raise InvalidInput("Images have no duration.", code="unsupported_control")
    negative = (negative_prompt or "").strip() or None
    if negative and not spec.negative_prompt:
        raise InvalidInput(
            f"{spec.name} does not take a negative prompt.", code="unsupported_control"
        )
    move = camera_move or None
    if move is not None and move not in CAMERA_MOVES:
        raise InvalidInput(
            f"Camera move must be one of {', '.join(CAMERA_MOVES)}.", code="invalid_camera_move"
        )
    if move not in (None, "static"):
        if mode == "text_to_image" or spec.camera_move == "none":
            raise InvalidInput(f"{spec.name} has no camera control.", code="unsupported_control")
        if spec.camera_move == "prompt":
            text = f"{text}, {CAMERA_PROMPTS[move]}" if text else CAMERA_PROMPTS[move]
    if motion_strength is not None:
        if not spec.motion_strength:
            raise InvalidInput(
                f"{spec.name} has no motion strength control.", code="unsupported_control"
            )
        if not 0.0 <= motion_strength <= 1.0:
            raise InvalidInput("Motion strength goes from 0 to 1.", code="invalid_motion_strength")
    chosen_steps = spec.default_steps if steps is None else steps
    if not 1 <= chosen_steps <= 150:
        raise InvalidInput("Steps go from 1 to 150.", code="invalid_steps")
    chosen_guidance = spec.default_guidance if guidance is None else guidance
    if not 0.0 <= chosen_guidance <= 30.0:
        raise InvalidInput("Guidance goes from 0 to 30.", code="invalid_guidance")
    return Resolved(
        model=spec,
        mode=mode,
        ratio=chosen_ratio,
        width=width,
        height=height,
        duration=chosen_duration,
        num_frames=frames,
        fps=spec.fps,
        duration_note=note,
        prompt=text,
        negative_prompt=negative,
        camera_move=move,
        motion_strength=motion_strength,
        steps=chosen_steps,
        guidance=chosen_guidance,
    )


def equivalent_ratio(spec: ModelSpec, ratio: str) -> str:
    """The model's ratio key for `ratio`: itself, or one of the same shape
    ("1920:1080" -> "1280:720"); InvalidInput when the model has none."""
    if ratio in spec.ratios:
        return ratio
    wanted = _aspect(ratio)
    if wanted is not None:
        for key in spec.ratios:
            have = _aspect(key)
            if have is not None and abs(have - wanted) / wanted < _ASPECT_TOLERANCE:
                return key
    raise InvalidInput(
        f"{spec.name} renders ratios {', '.join(spec.ratios)} (or the same shapes at "
        f"other sizes, e.g. 1920:1080 for 1280:720); not {ratio}.",
        code="unsupported_ratio",
    )


def _aspect(ratio: str) -> float | None:
    width, sep, height = ratio.partition(":")
    if not sep or not width.isdigit() or not height.isdigit() or len(ratio) > 20:
        return None
    w, h = int(width), int(height)
    return w / h if w > 0 and h > 0 else None


def frames_for(spec: ModelSpec, seconds: int) -> tuple[int, str | None]:
    """Frame count for a whole-second duration, and a note when it is not exact."""
    if seconds in spec.durations:
        return spec.durations[seconds], None
    if isinstance(seconds, bool) or not DURATION_MIN <= seconds <= DURATION_MAX:
        raise InvalidInput(
            f"Durations are whole seconds from {DURATION_MIN} to {DURATION_MAX}; not {seconds}.",
            code="unsupported_duration",
        )
    largest = spec.max_frames or max(spec.durations.values())
    if spec.frame_rule is not None:
        k, offset = spec.frame_rule
        n = max(0, round((seconds * spec.fps - offset) / k))
        frames = k * n + offset
        if frames > largest:
            frames = k * ((largest - offset) // k) + offset
        frames = max(frames, offset if offset > 0 else k)
    else:
        nearest = min(spec.durations, key=lambda d: (abs(d - seconds), -d))
        frames = spec.durations[nearest]
    rendered = frames / spec.fps
    if abs(rendered - seconds) < 1e-9:
        return frames, None
    return frames, (
        f"{spec.name} renders {frames} frames at {spec.fps} fps ({rendered:.2f} s) "
        f"for a {seconds} s request (its nearest frame count)."
    )
