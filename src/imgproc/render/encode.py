"""Encode a finished variant; only pixels go out, never EXIF, GPS or the original's profile."""

from __future__ import annotations

import io

from PIL import Image

from ..errors import VariantFailed
from ..formats import format_named
from .plugins import load_plugin
from .vips import encode_jpeg

# From this effort up, JPEG goes through mozjpeg (trellis quantisation): ~15 % fewer bytes at
# equal SSIM for ~4× the encode time (+40 % render time); up to the default 4, libjpeg-turbo.
MOZJPEG_EFFORT = 5


def encode(image: Image.Image, fmt: str, quality: int, effort: int = 4) -> bytes:
    if fmt == "jpeg" and effort >= MOZJPEG_EFFORT:
        return encode_jpeg(image, quality, effort)
    load_plugin(fmt)
    options = _options(fmt, quality, effort)
    buffer = io.BytesIO()
    try:
        # `exif=b""` and no icc_profile: encoders only write what they are given.
        image.save(buffer, format_named(fmt).pillow, exif=b"", **options)
    except (OSError, ValueError, KeyError) as exc:
        raise VariantFailed(f"The {format_named(fmt).label} encoder failed: {exc}.") from None
    return buffer.getvalue()


def _options(fmt: str, quality: int, effort: int) -> dict:
    if fmt == "jpeg":
        return {"quality": quality, "optimize": True, "progressive": True, "subsampling": "4:2:0"}
    if fmt == "webp":
        # method 2 would be 2.3× faster, but loses ~0.002 SSIM at equal bytes (bench/run.py)
        return {"quality": quality, "method": effort}
    if fmt == "avif":
        return {"quality": quality, "speed": 10 - effort}
    return {"optimize": False, "compress_level": 6}
