"""What an original says about itself: orientation, colour profile and a safe EXIF subset.

Metadata is advisory: a broken EXIF block or ICC profile never fails a picture, it is ignored.
The EXIF subset is an allow-list, so GPS, serial numbers and maker notes can never leak.
Which colour signal counts, per format: docs/colour.md.
"""

from __future__ import annotations

from fractions import Fraction

from PIL import Image

from ..formats import format_named
from .bmff import primary_nclx
from .cicp import profile_for
from .png_colour import png_profile

_EXIF_IFD = 0x8769
_ORIENTATION = 0x0112
# (IFD, tag, record field) — the only EXIF that ever reaches a record.
_ALLOWED = (
    (None, 0x010F, "make"),
    (None, 0x0110, "model"),
    (_EXIF_IFD, 0xA433, "lensMake"),
    (_EXIF_IFD, 0xA434, "lensModel"),
    (_EXIF_IFD, 0x9003, "dateTaken"),
    (_EXIF_IFD, 0x9011, "offsetTime"),
    (_EXIF_IFD, 0x829A, "exposureTime"),
    (_EXIF_IFD, 0x829D, "fNumber"),
    (_EXIF_IFD, 0x8827, "iso"),
    (_EXIF_IFD, 0x920A, "focalLength"),
)


def read_exif(image: Image.Image) -> Image.Exif | None:
    try:
        return image.getexif()
    except Exception:  # malformed EXIF: offsets out of range, bad types, truncated blocks
        return None


def orientation_of(exif: Image.Exif | None) -> int:
    """EXIF orientation 1-8; anything else (missing, bogus) means 'as stored'."""
    try:
        value = int(exif.get(_ORIENTATION, 1)) if exif is not None else 1
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def orientation_to_apply(exif: Image.Exif | None, fmt: str) -> int:
    """The orientation imgproc still has to apply: 1 for formats whose reader already turns
    the picture upright (Pillow's TIFF reader does, for every compression, and then reports
    the displayed size even before loading)."""
    return 1 if format_named(fmt).upright_on_load else orientation_of(exif)


def icc_profile_of(image: Image.Image) -> bytes | None:
    profile = image.info.get("icc_profile")
    return profile if isinstance(profile, bytes) and profile else None


def colour_profile_of(image: Image.Image, data: bytes, fmt: str) -> bytes | None:
    """The ICC profile that says what the decoded numbers mean: the embedded one, or one
    built from the format's other colour signals; None for sRGB (nothing to convert).

    AVIF and HEIF: an ICC profile wins over nclx, as libavif, Chromium and Firefox decide
    (AOMediaCodec/av1-avif#84: with ICC present, nclx primaries and transfer are ignored;
    its matrix coefficients still drove YCbCr → RGB in the decoder). Without either, MIAF
    says sRGB (7.3.6.4); colour in the AV1/HEVC bitstream is ignored, as MIAF requires.
    PNG: cICP, then iCCP, sRGB, then cHRM/gAMA (`png_colour`).
    """
    if fmt == "png":
        return png_profile(data, image.info)
    embedded = icc_profile_of(image)
    if embedded is None and fmt in ("avif", "heif"):
        return profile_for(primary_nclx(data))
    return embedded


def exif_subset(exif: Image.Exif | None) -> dict | None:
    """Camera, lens, date taken and exposure; None when the original has none of them."""
    if exif is None:
        return None
    subset = {}
    for ifd, tag, field in _ALLOWED:
        try:
            source = exif if ifd is None else exif.get_ifd(ifd)
            value = _clean(source.get(tag))
        except Exception:
            continue
        if value is not None:
            subset[field] = value
    return subset or None


def _clean(value: object) -> str | int | float | None:
    """EXIF values as JSON-friendly scalars; rationals keep a readable form."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        text = value.replace("\x00", "").strip()
        return text[:128] or None
    if isinstance(value, tuple):  # e.g. ISO given as a list
        return _clean(value[0]) if value else None
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    if number.is_integer():
        return int(number)
    if 0 < number < 1:  # exposure times read best as 1/250
        fraction = Fraction(number).limit_denominator(100000)
        if fraction.numerator == 1:
            return f"1/{fraction.denominator}"
    return round(number, 4)
