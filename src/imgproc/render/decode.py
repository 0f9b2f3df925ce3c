"""Open an upload header-first, then decode it exactly once, as small as the variants allow."""

from __future__ import annotations

import io
import math
import warnings

from PIL import Image

from ..errors import CorruptImage

# imgproc checks the pixel count itself from the header (limits.check_pixels) before any
# decode, with the configured limit; Pillow's own guard would refuse or warn by another number.
Image.MAX_IMAGE_PIXELS = None

_NAMES = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "gif": "GIF", "tiff": "TIFF",
          "heif": "HEIC/HEIF", "avif": "AVIF"}
_heif_registered = False


def open_image(data: bytes, fmt: str) -> Image.Image:
    """Parse the header only; no pixel data is decoded yet."""
    if fmt == "heif":
        _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Image.open(io.BytesIO(data), formats=[_pillow_format(fmt)])
    except Exception as exc:  # Pillow raises many types for bad headers
        raise CorruptImage(
            f"The {_NAMES[fmt]} file is truncated or corrupt: its header cannot be read "
            f"({_detail(exc)})."
        ) from None


def decode(image: Image.Image, fmt: str, scale: float) -> Image.Image:
    """Load the first frame; JPEGs are shrunk in the DCT domain to at least `scale` of full size.

    Shrink-on-load (`Image.draft`) makes libjpeg skip most of the work for big photos: a 12 MP
    upload whose largest variant is 1200 px wide is decoded at 1/2 or 1/4 scale, never larger
    than needed and never smaller than the largest variant.
    """
    if fmt == "jpeg" and scale < 1:
        width, height = image.size
        image.draft(image.mode, (math.ceil(width * scale), math.ceil(height * scale)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
    except Exception as exc:  # truncated data, bad chunks, decoder errors
        raise CorruptImage(
            f"The {_NAMES[fmt]} data is truncated or corrupt ({_detail(exc)})."
        ) from None
    return image


def _pillow_format(fmt: str) -> str:
    return "HEIF" if fmt == "heif" else fmt.upper()


def _register_heif() -> None:
    """pillow-heif is imported only when a HEIC arrives, keeping the Lambda's cold start lean."""
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True


def _detail(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]
