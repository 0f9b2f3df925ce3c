"""What an original says about itself: orientation, colour profile and a safe EXIF subset.

Metadata is advisory: a broken EXIF block or ICC profile never fails a picture, it is ignored.
The EXIF subset is an allow-list, so GPS, serial numbers and maker notes can never leak.
"""

from __future__ import annotations

from fractions import Fraction

from PIL import Image

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


def icc_profile_of(image: Image.Image) -> bytes | None:
    profile = image.info.get("icc_profile")
    return profile if isinstance(profile, bytes) and profile else None


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
