"""Untrusted image input: byte and pixel limits, formats, data URIs."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.media.ffmpeg import MediaError
from studio.media.images import CORRUPT, NO_URLS, decode_data_uri, load_image, save_png

MB = 1024 * 1024
LIMITS = {"max_bytes": 10 * MB, "max_pixels": 40_000_000}


def encoded(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **kw: object) -> bytes:
    image = Image.new(mode, size)
    if mode in ("RGB", "RGBA"):
        pixels = np.zeros((size[1], size[0], len(mode)), np.uint8)
        pixels[..., 0] = np.linspace(0, 255, size[0], dtype=np.uint8)[None, :]
        pixels[..., 1] = 90
        if mode == "RGBA":
            pixels[..., 3] = 255
        image = Image.fromarray(pixels, mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kw)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (no pixel data to match)."""
    data = bytearray(encoded("PNG", (1, 1)))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_accepts_png_jpeg_webp(fmt: str) -> None:
    image = load_image(encoded(fmt), **LIMITS)
    assert image.mode == "RGB"
    assert image.size == (64, 48)


def test_transparency_is_flattened_to_rgb() -> None:
    image = load_image(encoded("PNG", mode="RGBA"), **LIMITS)
    assert image.mode == "RGB" and image.size == (64, 48)


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = encoded("JPEG", (40, 20), exif=exif.tobytes())
    assert load_image(data, **LIMITS).size == (20, 40)


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_refuses_other_formats(fmt: str) -> None:
    with pytest.raises(MediaError) as info:
        load_image(encoded(fmt), **LIMITS)
    assert str(info.value) == CORRUPT


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        bytes(range(256)) * 4,
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    ],
)
def test_refuses_corrupt_bytes(data: bytes) -> None:
    with pytest.raises(MediaError, match="corrupt"):
        load_image(data, **LIMITS)


def test_refuses_a_truncated_png() -> None:
    noisy = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, format="PNG")
    with pytest.raises(MediaError, match="corrupt"):
        load_image(buffer.getvalue()[: len(buffer.getvalue()) // 2], **LIMITS)


def test_refuses_oversize_bytes_before_decoding() -> None:
    data = b"\x00" * (14 * MB + MB // 5)  # garbage: the size check must come first
    with pytest.raises(MediaError) as info:
        load_image(data, **LIMITS)
    assert str(info.value) == "The image is 14.2 MB; the limit is 10 MB."


def test_refuses_too_many_pixels_from_the_header() -> None:
    with pytest.raises(MediaError) as info:
        load_image(png_claiming(8000, 6000), **LIMITS)
    assert str(info.value) == "The image is 8000x6000 pixels; the limit is 40 megapixels."


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_refuses_a_pixel_bomb_without_touching_pil_globals() -> None:
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(MediaError) as info:
        load_image(png_claiming(12000, 12000), **LIMITS)
    assert str(info.value) == "The image is 12000x12000 pixels; the limit is 40 megapixels."
    # Past PIL's own bomb guard (2x MAX_IMAGE_PIXELS): refused by Image.open itself.
    with pytest.raises(MediaError, match="the limit is 40 megapixels"):
        load_image(png_claiming(20000, 20000), **LIMITS)
    with pytest.raises(MediaError, match="the limit is 500 megapixels"):
        load_image(png_claiming(20000, 20000), max_bytes=MB, max_pixels=500_000_000)
    assert before == Image.MAX_IMAGE_PIXELS


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_bomb_warning_as_error_is_still_a_media_error() -> None:
    with pytest.raises(MediaError, match="megapixels"):
        load_image(png_claiming(12000, 12000), max_bytes=MB, max_pixels=200_000_000)


def test_data_uri_roundtrip() -> None:
    data = encoded("PNG")
    uri = "data:image/png;base64," + base64.b64encode(data).decode()
    assert decode_data_uri(uri, max_bytes=MB) == data
    jpeg = encoded("JPEG")
    assert decode_data_uri(
        "data:image/jpeg;base64," + base64.b64encode(jpeg).decode(), max_bytes=MB
    )
    assert load_image(decode_data_uri(uri, max_bytes=MB), **LIMITS).size == (64, 48)


@pytest.mark.parametrize(
    "uri",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/cat.png",
        "HTTPS://example.com/cat.png",
        "file:///etc/passwd",
        "ftp://example.com/x.png",
        "//example.com/x.png",
        "/etc/passwd",
        "cat.png",
    ],
)
def test_data_uri_refuses_urls(uri: str) -> None:
    with pytest.raises(MediaError) as info:
        decode_data_uri(uri, max_bytes=MB)
    assert str(info.value) == NO_URLS


@pytest.mark.parametrize(
    "uri",
    [
        "data:image/png;base64,@@@not base64@@@",
        "data:image/png;base64,iVBORw0KGgo",  # bad padding
        "data:text/html;base64,PGgxPmhpPC9oMT4=",
        "data:image/svg+xml;base64,PHN2Zy8+",
        "data:image/png,rawdata",
        "data:image/png;base64,",
    ],
)
def test_data_uri_refuses_bad_data(uri: str) -> None:
    with pytest.raises(MediaError):
        decode_data_uri(uri, max_bytes=MB)


def test_data_uri_refuses_oversize_before_decoding() -> None:
    uri = "data:image/png;base64," + "!" * (2 * MB)  # invalid too: size is checked first
    with pytest.raises(MediaError, match=r"the limit is 1 MB"):
        decode_data_uri(uri, max_bytes=MB)
    exact = base64.b64encode(b"\x00" * (MB + 1)).decode()
    with pytest.raises(MediaError, match="MB"):
        decode_data_uri("data:image/png;base64," + exact, max_bytes=MB)
    assert (
        len(
            decode_data_uri(
                "data:image/png;base64," + base64.b64encode(b"\x00" * MB).decode(), max_bytes=MB
            )
        )
        == MB
    )


def test_save_png_is_atomic(tmp_path: Path) -> None:
    image = load_image(encoded("JPEG"), **LIMITS)
    path = tmp_path / "sub" / "ref.png"
    save_png(image, path)
    with Image.open(path) as saved:
        assert saved.format == "PNG" and saved.size == (64, 48)
    assert [p.name for p in path.parent.iterdir()] == ["ref.png"]
