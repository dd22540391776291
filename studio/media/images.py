"""Untrusted images in: size checked before decoding, pixels checked before loading.

Only PNG, JPEG and WebP are decoded. No global PIL state is changed: the pixel
cap is checked on the header (Image.open is lazy) and PIL's own bomb guard is
caught rather than reconfigured. Data URIs are decoded here; URLs never are
fetched (no SSRF).

Pure: limits come in as arguments.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import struct
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from studio.media.ffmpeg import MediaError
from studio.media.storage import atomic_path

FORMATS = ("PNG", "JPEG", "WEBP")
CORRUPT = "The image is corrupt or not a PNG, JPEG or WebP file."
NO_URLS = "URLs are not fetched; send the image as a data URI or an uploaded asset id."
_DATA_URI = re.compile(
    r"data:image/(?P<kind>png|jpeg|jpg|webp);base64,(?P<payload>.*)", re.IGNORECASE | re.DOTALL
)
_MB = 1024 * 1024


def _mb(size: float) -> str:
    return f"{size / _MB:.1f}".removesuffix(".0")


def _too_big(size: float, max_bytes: int) -> MediaError:
    return MediaError(f"The image is {_mb(size)} MB; the limit is {_mb(max_bytes)} MB.")


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}".removesuffix(".0")


def load_image(data: bytes, *, max_bytes: int, max_pixels: int) -> Image.Image:
    """Decode an uploaded PNG/JPEG/WebP into an RGB image; MediaError otherwise.

    The first frame of an animated file is used; EXIF orientation is applied;
    transparency is flattened onto black.
    """
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes)
    if not data:
        raise MediaError(CORRUPT)
    limit = f"the limit is {_megapixels(max_pixels)} megapixels."
    try:
        opened = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(f"The image has far too many pixels; {limit}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise MediaError(CORRUPT) from exc
    try:
        width, height = opened.size
        if opened.format not in FORMATS:  # formats= already restricts; belt and braces
            raise MediaError(CORRUPT)
        if width < 1 or height < 1:
            raise MediaError(CORRUPT)
        if width * height > max_pixels:
            raise MediaError(f"The image is {width}x{height} pixels; {limit}")
        opened.load()
        try:
            upright = ImageOps.exif_transpose(opened)
        except (OSError, SyntaxError, ValueError, KeyError, TypeError, struct.error):
            upright = opened  # unreadable EXIF: keep the pixels as stored
        return _to_rgb(upright)
    except MediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(f"The image has far too many pixels; {limit}") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        raise MediaError(CORRUPT) from exc
    finally:
        opened.close()


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        # 16-bit/float greyscale: scale to 8 bits instead of clipping.
        image = image.convert("I").point(lambda v: v / 256).convert("L")
    return image.convert("RGB")


def decode_data_uri(uri: str, *, max_bytes: int) -> bytes:
    """The bytes of a ``data:image/png|jpeg|webp;base64,...`` URI; MediaError otherwise.

    Never fetches anything. The encoded length is checked before decoding.
    """
    if not isinstance(uri, str):
        raise MediaError(NO_URLS)
    text = uri.strip()
    if not text[:5].lower() == "data:":
        raise MediaError(NO_URLS)
    match = _DATA_URI.fullmatch(text)
    if match is None:
        raise MediaError("Only base64 data URIs of PNG, JPEG or WebP images are accepted.")
    payload = match.group("payload")
    # base64 grows 4 bytes per 3; refuse before decoding anything.
    if len(payload) > 4 * -(-max_bytes // 3):
        raise _too_big(len(payload) * 3 / 4, max_bytes)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MediaError("The image data URI is not valid base64.") from exc
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes)
    if not data:
        raise MediaError(CORRUPT)
    return data


def save_png(image: Image.Image, path: Path) -> None:
    """Save ``image`` as PNG, atomically."""
    with atomic_path(Path(path)) as tmp:
        image.save(tmp, format="PNG")
