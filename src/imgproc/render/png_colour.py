"""What a PNG's colour chunks say its numbers mean, as an ICC profile.

PNG (third edition, 4.3 and 11.3.2) ranks them: `cICP`, then `iCCP`, then `sRGB`, then
`cHRM` and `gAMA`; a decoder uses the highest present and ignores the rest. Browsers render
gAMA/cHRM-only PNGs so; imgproc does the same, converting through a profile built from them:
- gAMA without cHRM: sRGB primaries with that gamma (what Chromium's Skia decoder assumes);
- cHRM without gAMA: those primaries with the sRGB curve (Skia again);
- gAMA 1/2.2 with sRGB's primaries (or none) is read as sRGB itself: the pair is what
  encoders write next to an sRGB chunk for older readers, and the pure power differs from the
  sRGB curve by at most a few levels in the deepest shadows; such files stay untouched.
"""

from __future__ import annotations

import functools
import struct

from .cicp import Cicp, profile_for
from .icc_build import rgb_profile
from .transfer import srgb_eotf

_SRGB_XY = (0.3127, 0.3290, 0.64, 0.33, 0.30, 0.60, 0.15, 0.06)  # white, red, green, blue
_SRGB_GAMMA = 1 / 2.2


def png_profile(data: bytes, info: dict) -> bytes | None:
    """The profile to convert through (embedded or built); None when the PNG is sRGB."""
    cicp = png_cicp(data)
    if cicp is not None:
        return profile_for(cicp)
    icc = info.get("icc_profile")
    if isinstance(icc, bytes) and icc:
        return icc
    if "srgb" in info:
        return None
    gamma = info.get("gamma")
    chromaticity = info.get("chromaticity")
    if not _valid_gamma(gamma):
        gamma = None
    if not _valid_chromaticity(chromaticity):
        chromaticity = None
    if gamma is None and chromaticity is None:
        return None
    xy = tuple(round(v, 5) for v in chromaticity) if chromaticity else _SRGB_XY
    if gamma is None:
        return _profile(xy, None)
    if abs(gamma - _SRGB_GAMMA) < 0.0005 and all(abs(a - b) < 0.002
                                                 for a, b in zip(xy, _SRGB_XY, strict=True)):
        return None
    return _profile(xy, round(gamma, 5))


def png_cicp(data: bytes) -> Cicp | None:
    """The cICP chunk, which must come before the image data; None when absent or malformed."""
    pos = 8
    while pos + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        if kind in (b"IDAT", b"IEND") or length > len(data):
            return None
        if kind == b"cICP" and length == 4:
            cp, tc, mc, full = data[pos + 8:pos + 12]
            return Cicp(cp, tc, mc, bool(full)) if mc == 0 else None  # PNG holds RGB only
        pos += 12 + length
    return None


def _valid_gamma(gamma) -> bool:
    return isinstance(gamma, float) and 0.01 <= gamma <= 10.0


def _valid_chromaticity(xy) -> bool:
    return (isinstance(xy, tuple) and len(xy) == 8
            and all(0.0 <= v <= 1.0 for v in xy) and all(xy[i] > 0 for i in (1, 3, 5, 7)))


@functools.lru_cache(maxsize=16)
def _profile(xy: tuple[float, ...], gamma: float | None) -> bytes | None:
    white, primaries = (xy[0], xy[1]), ((xy[2], xy[3]), (xy[4], xy[5]), (xy[6], xy[7]))
    curve = [srgb_eotf(i / 4095) for i in range(4096)] if gamma is None else 1 / gamma
    try:
        return rgb_profile("PNG gAMA/cHRM", primaries, white, curve)
    except (ZeroDivisionError, ValueError, struct.error):  # collinear primaries, absurd values
        return None
