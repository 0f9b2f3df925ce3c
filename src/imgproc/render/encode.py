"""Encode a finished variant; only pixels go out, never EXIF, GPS or the original's profile."""

from __future__ import annotations

import io

from PIL import Image

from ..errors import VariantFailed
from ..formats import format_named
from .plugins import load_plugin

# JPEG is jpegli (Google's libjpeg-compatible encoder, through pyjpegli), 4:2:0: at equal SSIM
# it writes about as few bytes as mozjpeg's trellis quantisation (sharp's `mozjpeg: true`),
# ten times faster (bench/encoders.py, docs/performance.md "Encoder options"). From effort 4
# (the default) its baseline output is made progressive, with optimal Huffman tables, by
# mozjpeg's lossless transcoder: the same pixels in ~8 % fewer bytes, for ~4× the JPEG time.
# Below 4, baseline: the fastest JPEG imgproc writes.
PROGRESSIVE_EFFORT = 4


def encode(image: Image.Image, fmt: str, quality: int, effort: int = 4) -> bytes:
    if fmt == "jpeg":
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


def encode_jpeg(image: Image.Image, quality: int, effort: int) -> bytes:
    """An RGB picture as JPEG at `quality`, progressive from `effort` 4 (see above)."""
    import pyjpegli  # imported on first JPEG: commands that never render do not pay for it

    if image.mode != "RGB":
        image = image.convert("RGB")
    try:
        data = pyjpegli.encode(image.tobytes(), image.width, image.height, quality=quality)
        if effort >= PROGRESSIVE_EFFORT:
            import mozjpeg_lossless_optimization as lossless

            data = lossless.optimize(data, lossless.COPY_MARKERS.NONE)
    except (RuntimeError, ValueError, MemoryError) as exc:
        raise VariantFailed(f"The JPEG encoder failed: {exc}.") from None
    return data


def _options(fmt: str, quality: int, effort: int) -> dict:
    if fmt == "webp":
        # method 2 would be 2.3× faster, but loses ~0.002 SSIM at equal bytes; method 6 is ~5 %
        # smaller but ~0.0004 SSIM lower, on the same curve, for 2.5× the WebP time
        # (bench/encoders.py, docs/performance.md)
        return {"quality": quality, "method": effort}
    if fmt == "avif":
        # icc_profile: Pillow's AVIF writer would otherwise copy the picture's own. One
        # thread, like every other step (render/vips.py). libaom tuned for SSIM: ~10 % fewer
        # bytes at equal SSIM than its PSNR tuning, at the same speed; speed 9 (effort 1) is
        # what examples/config/avif.toml uses, 4× faster than speed 8 (bench/encoders.py).
        return {"quality": quality, "speed": 10 - effort, "icc_profile": b"", "max_threads": 1,
                "advanced": {"tune": "ssim"}}
    return {"optimize": False, "compress_level": 6}
