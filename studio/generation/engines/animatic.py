"""The animatic engine: a still (the reference image, or a drawn storyboard card)
with a Ken Burns camera move. CPU only, no weights, deterministic.

Camera moves, as a viewer sees them:
- zoom_in / zoom_out: the view closes in on / pulls back from the centre.
- pan_right: the camera turns right, so the picture slides left in the frame;
  pan_left the opposite.
- tilt_up: the camera looks up, so the picture slides down in the frame;
  tilt_down the opposite.
"""

from __future__ import annotations

import colorsys
import functools
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from studio.generation.engines.base import (
    CAMERA_MOVES,
    EngineOutput,
    GenerationRequest,
    ProgressFn,
)
from studio.generation.registry import ModelSpec
from studio.media.images import load_image

# The reference image was validated on upload; these only bound a bad file on disk.
REFERENCE_MAX_BYTES = 128 * 1024 * 1024
REFERENCE_MAX_PIXELS = 80_000_000
DEFAULT_STRENGTH = 0.5
CAPTION_MAX_CHARS = 800

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def motion_amount(strength: float | None) -> float:
    """How far a move goes: the zoom factor minus one, or the pan/tilt travel as a
    fraction of the frame. 0.24 at the default strength (0.5), 0.08..0.40 overall.
    """
    value = DEFAULT_STRENGTH if strength is None else min(1.0, max(0.0, float(strength)))
    return 0.08 + 0.32 * value


def _ease(u: float) -> float:
    """Ease in and out (sine)."""
    return 0.5 - 0.5 * math.cos(math.pi * min(1.0, max(0.0, u)))


@dataclass(frozen=True)
class _View:
    cx: float  # centre, source pixels
    cy: float
    width: float  # crop width, source pixels (height follows the frame's aspect)


def _views(
    move: str, count: int, src: tuple[int, int], aspect: float, amount: float
) -> list[_View]:
    """The crop for every frame, in source-image coordinates."""
    sw, sh = src
    # The largest frame-shaped crop: the still "cover"-fitted.
    base = sh * aspect if sw / sh > aspect else float(sw)
    cx, cy = sw / 2, sh / 2
    small = base / (1 + amount)  # pans and tilts crop in a little so there is room
    views: list[_View] = []
    for i in range(count):
        e = _ease(i / (count - 1)) if count > 1 else 0.0
        if move in ("zoom_in", "zoom_out"):
            start, end = (base, small) if move == "zoom_in" else (small, base)
            views.append(_View(cx, cy, start * (end / start) ** e))  # even on a log scale
        elif move in ("pan_left", "pan_right"):
            travel = min(sw - small, small * amount)
            sign = 1 if move == "pan_right" else -1
            views.append(_View(cx + sign * travel * (e - 0.5), cy, small))
        elif move in ("tilt_up", "tilt_down"):
            travel = min(sh - small / aspect, small / aspect * amount)
            sign = -1 if move == "tilt_up" else 1
            views.append(_View(cx, cy + sign * travel * (e - 0.5), small))
        else:
            views.append(_View(cx, cy, base))
    return views


Box = tuple[float, float, float, float]


def _box(view: _View, aspect: float, scale: float, bounds: tuple[int, int]) -> Box:
    w, h = view.width * scale, view.width / aspect * scale
    x0 = min(max(view.cx * scale - w / 2, 0.0), bounds[0] - w)
    y0 = min(max(view.cy * scale - h / 2, 0.0), bounds[1] - h)
    x0, y0 = max(x0, 0.0), max(y0, 0.0)
    return (x0, y0, min(x0 + w, float(bounds[0])), min(y0 + h, float(bounds[1])))


def render_move(
    still: Image.Image,
    width: int,
    height: int,
    count: int,
    move: str,
    amount: float,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """(count, height, width, 3) uint8 frames of ``move`` over ``still``."""
    aspect = width / height
    views = _views(move, count, still.size, aspect, amount)
    # Pre-shrink a big still once, so each frame is a cheap resize of at most ~1.5x.
    smallest = min(v.width for v in views)
    scale = 1.0
    canvas = still
    if width / smallest < 0.66:
        scale = width * 1.25 / smallest
        size = (max(1, round(still.width * scale)), max(1, round(still.height * scale)))
        scale = size[0] / still.width
        canvas = still.resize(size, Image.Resampling.LANCZOS)
    frames = np.empty((count, height, width, 3), dtype=np.uint8)
    previous: Box | None = None
    for i, view in enumerate(views):
        box = _box(view, aspect, scale, canvas.size)
        if box == previous:
            frames[i] = frames[i - 1]
        else:
            image = canvas.resize((width, height), Image.Resampling.BICUBIC, box=box)
            frames[i] = np.asarray(image)
        previous = box
        if progress is not None:
            progress(i + 1, count)
    return frames


def crossfade(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Blend two clips of the same shape from all-`first` to all-`last`, eased."""
    count = first.shape[0]
    weights = np.array([_ease(i / (count - 1)) for i in range(count)], dtype=np.float32)
    weights = weights[:, None, None, None]
    mixed = first.astype(np.float32) * (1 - weights) + last.astype(np.float32) * weights
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- the card


@functools.lru_cache(maxsize=32)
def _font(size: int) -> Font:
    return ImageFont.load_default(size=max(8, size))


def _fit_font(text: str, size: int, max_width: float) -> Font:
    font = _font(size)
    while size > 10 and font.getlength(text) > max_width:
        size = int(size * 0.9)
        font = _font(size)
    return font


def _wrap(text: str, font: Font, max_width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            while font.getlength(word) > max_width and len(word) > 1:  # break very long words
                cut, over = 1, len(word)  # the longest prefix that fits: binary search
                while over - cut > 1:
                    mid = (cut + over) // 2
                    cut, over = (
                        (mid, over) if font.getlength(word[:mid]) <= max_width else (cut, mid)
                    )
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:cut])
                word = word[cut:]
            candidate = f"{line} {word}".strip()
            if font.getlength(candidate) <= max_width:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _accent(seed: int) -> tuple[int, int, int]:
    rng = random.Random(seed)  # noqa: S311 - a colour, not a secret
    r, g, b = colorsys.hsv_to_rgb(rng.random(), 0.55, 0.9)
    return round(r * 255), round(g * 255), round(b * 255)


def _background(width: int, height: int, seed: int, accent: tuple[int, int, int]) -> Image.Image:
    rng = random.Random(seed ^ 0x5EED)  # noqa: S311 - a colour, not a secret
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    top, bottom = np.array([14, 16, 21], np.float32), np.array([24, 27, 34], np.float32)
    gx, gy = rng.uniform(0.55, 0.95), rng.uniform(0.05, 0.45)
    aspect = width / height
    dist = np.sqrt(((xs - gx) * aspect) ** 2 + (ys - gy) ** 2) / max(aspect, 1.0)
    glow = (np.clip(1.0 - dist / 0.9, 0.0, 1.0) ** 2 * 0.16)[..., None]
    base = top + (bottom - top) * ys[..., None]
    pixels = base * (1 - glow) + np.array(accent, np.float32) * glow
    return Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8), "RGB")


def draw_card(
    width: int,
    height: int,
    *,
    title: str,
    caption: str,
    seed: int,
    footer: str = "",
    safe: tuple[int, int, int, int] | None = None,
) -> Image.Image:
    """A storyboard card: dark panel, seed-tinted accent, big title, wrapped caption.

    ``safe`` (x0, y0, x1, y1) is where the panel and its text go (the part of a
    bigger canvas that a camera move keeps in view); the whole card by default.
    """
    accent = _accent(seed)
    card = _background(width, height, seed, accent)
    draw = ImageDraw.Draw(card)
    left, top, right, bottom = safe or (0, 0, width, height)
    short = min(right - left, bottom - top)
    margin = max(8, round(short * 0.09))
    inset = max(3, margin // 3)
    draw.rectangle(
        (left + inset, top + inset, right - 1 - inset, bottom - 1 - inset),
        outline=(46, 50, 60),
        width=max(1, short // 360),
    )
    bar = max(3, round(short * 0.012))
    text_x = left + margin + bar * 3
    text_width = right - margin - text_x

    title_font = _fit_font(title, round(short * 0.13), text_width)
    title_top = top + round((bottom - top) * 0.2)
    tb = draw.textbbox((text_x, title_top), title, font=title_font, anchor="lt")
    draw.text((text_x, title_top), title, font=title_font, fill=(242, 243, 245), anchor="lt")

    small = max(9, round(short * 0.035))
    footer_font = _font(small)
    footer_y = bottom - margin
    caption_font = _font(max(10, round(short * 0.05)))
    line_h = round(caption_font.size * 1.3) if hasattr(caption_font, "size") else 14
    y = tb[3] + round(short * 0.06)
    lines = _wrap(caption[:CAPTION_MAX_CHARS], caption_font, text_width)
    room = int(max(0, (footer_y - small * 2 - y) // max(1, line_h)))
    if len(lines) > room:
        lines = lines[:room]
        if lines:
            last = lines[-1]
            while last and caption_font.getlength(last + "…") > text_width:
                last = last[:-1]
            lines[-1] = last.rstrip() + "…"
    for line in lines:
        draw.text((text_x, y), line, font=caption_font, fill=(184, 188, 198), anchor="lt")
        y += line_h
    bar_x = left + margin
    draw.rectangle((bar_x, tb[1], bar_x + bar - 1, max(tb[3], y - line_h // 3)), fill=accent)

    draw.text((bar_x, footer_y), "ANIMATIC", font=footer_font, fill=accent, anchor="ls")
    if footer:
        draw.text(
            (right - margin, footer_y), footer, font=footer_font, fill=(120, 126, 140), anchor="rs"
        )
    return card


# ---------------------------------------------------------------- the engine


def _reference(path: Path) -> Image.Image:
    return load_image(
        Path(path).read_bytes(),
        max_bytes=REFERENCE_MAX_BYTES,
        max_pixels=REFERENCE_MAX_PIXELS,
    )


def _card_for(
    request: GenerationRequest, width: int, height: int, count: int, move: str, amount: float
) -> Image.Image:
    """The card, drawn on a canvas big enough for the move to play at native scale,
    with its text kept inside what every frame of the move shows."""
    grow = 1.0 if move == "static" else 1.0 + amount
    size = (round(width * grow), round(height * grow))
    safe = (0, 0, size[0], size[1])
    if move != "static":
        boxes = [
            _box(v, width / height, 1.0, size)
            for v in _views(move, count, size, width / height, amount)
        ]
        safe = (
            math.ceil(max(b[0] for b in boxes)),
            math.ceil(max(b[1] for b in boxes)),
            math.floor(min(b[2] for b in boxes)),
            math.floor(min(b[3] for b in boxes)),
        )
    return draw_card(
        size[0],
        size[1],
        title=(request.title or "Animatic").strip() or "Animatic",
        caption=(request.caption or request.prompt or "").strip(),
        seed=int(request.seed),
        footer="" if move == "static" else move.replace("_", " ").upper(),
        safe=safe,
    )


class AnimaticEngine:
    """Implements studio.generation.engines.base.Engine."""

    def run(
        self, spec: ModelSpec, request: GenerationRequest, progress: ProgressFn
    ) -> EngineOutput:
        width, height = int(request.width), int(request.height)
        if width < 2 or height < 2:
            raise ValueError(f"frame size must be at least 2x2, got {width}x{height}")
        move = request.camera_move or "static"
        if move not in CAMERA_MOVES:
            raise ValueError(f"Unknown camera move {move!r}; use one of {', '.join(CAMERA_MOVES)}.")
        count = 1 if request.mode == "text_to_image" else max(1, int(request.num_frames))
        if count == 1:
            move = "static"
        amount = motion_amount(request.motion_strength)
        if request.image_path is not None:
            still, source = _reference(request.image_path), "image"
        else:
            still, source = _card_for(request, width, height, count, move, amount), "card"
        frames = render_move(still, width, height, count, move, amount, progress)
        if request.last_image_path is not None and count > 1:
            # First and last frame given: the last image (held still) is
            # cross-faded in over the move, so the clip ends exactly on it.
            end = _reference(request.last_image_path)
            last = render_move(end, width, height, count, "static", 0.0)
            frames = crossfade(frames, last)
            source = "first_last"
        return EngineOutput(
            frames=frames,
            fps=int(request.fps),
            extra={"engine": "animatic", "source": source, "camera_move": move},
        )

    def is_warm(self, spec: ModelSpec) -> bool:
        return True

    def weights_present(self, spec: ModelSpec) -> bool:
        return True


def create_engine() -> AnimaticEngine:
    return AnimaticEngine()
