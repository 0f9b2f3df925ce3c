"""Encode a finished variant; only pixels go out, never EXIF, GPS or the original's profile."""

from __future__ import annotations

import io

from PIL import Image

from ..errors import VariantFailed

_NAMES = {"jpeg": "JPEG", "webp": "WEBP", "png": "PNG", "avif": "AVIF"}
# libwebp's method 2 is the fastest before its slow rate-distortion passes (3+): measured at
# 2.3× faster than method 4 for +0.6 % bytes at equal quality (bench/run.py).
WEBP_METHOD = 2


def encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    options = _options(fmt, quality)
    buffer = io.BytesIO()
    try:
        # `exif=b""` and no icc_profile: encoders only write what they are given.
        image.save(buffer, _NAMES[fmt], exif=b"", **options)
    except (OSError, ValueError, KeyError) as exc:
        raise VariantFailed(f"The {fmt.upper()} encoder failed: {exc}.") from None
    return buffer.getvalue()


def _options(fmt: str, quality: int) -> dict:
    if fmt == "jpeg":
        return {"quality": quality, "optimize": True, "progressive": True, "subsampling": "4:2:0"}
    if fmt == "webp":
        return {"quality": quality, "method": WEBP_METHOD}
    if fmt == "avif":
        return {"quality": quality, "speed": 6}
    return {"optimize": False, "compress_level": 6}
