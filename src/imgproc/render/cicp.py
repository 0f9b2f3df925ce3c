"""CICP (ITU-T H.273) colour descriptions — AVIF/HEIF `nclx`, PNG `cICP` — as ICC profiles.

Only primaries and transfer say what decoded RGB means; the matrix coefficients and range
flag only matter for YCbCr → RGB, which libavif and libheif already did while decoding. The
profile converts through LittleCMS like an embedded one (`colour.srgb_converter`), so HDR
transfers arrive tone-mapped (`transfer`) and wide primaries are clipped to sRGB's gamut.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from .icc_build import rgb_profile
from .transfer import SRGB_LIKE, table_of

D65 = (0.3127, 0.3290)
_C = (0.310, 0.316)
# H.273 ColourPrimaries: ((red), (green), (blue)), white — xy chromaticities.
PRIMARIES: dict[int, tuple[tuple[tuple[float, float], ...], tuple[float, float]]] = {
    1: (((0.640, 0.330), (0.300, 0.600), (0.150, 0.060)), D65),  # BT.709, sRGB
    4: (((0.670, 0.330), (0.210, 0.710), (0.140, 0.080)), _C),  # BT.470 M
    5: (((0.640, 0.330), (0.290, 0.600), (0.150, 0.060)), D65),  # BT.470 B/G, BT.601 625
    6: (((0.630, 0.340), (0.310, 0.595), (0.155, 0.070)), D65),  # BT.601 525, SMPTE 170M
    7: (((0.630, 0.340), (0.310, 0.595), (0.155, 0.070)), D65),  # SMPTE 240M
    8: (((0.681, 0.319), (0.243, 0.692), (0.145, 0.049)), _C),  # generic film
    9: (((0.708, 0.292), (0.170, 0.797), (0.131, 0.046)), D65),  # BT.2020, BT.2100
    10: (((1.0, 0.0), (0.0, 1.0), (0.0, 0.0)), (1 / 3, 1 / 3)),  # SMPTE ST 428 (CIE XYZ)
    11: (((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), (0.314, 0.351)),  # DCI-P3
    12: (((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), D65),  # Display P3
    22: (((0.630, 0.340), (0.295, 0.605), (0.155, 0.077)), D65),  # EBU Tech. 3213
}


@dataclass(frozen=True)
class Cicp:
    primaries: int
    transfer: int
    matrix: int
    full_range: bool


def profile_for(cicp: Cicp | None) -> bytes | None:
    """An ICC profile for the description; None when it is sRGB (nothing to convert)."""
    if cicp is None:
        return None
    primaries = cicp.primaries if cicp.primaries in PRIMARIES else 1  # 2: unspecified → BT.709
    if primaries == 1 and cicp.transfer in SRGB_LIKE:
        return None
    return _profile(primaries, cicp.transfer)


@functools.lru_cache(maxsize=16)
def _profile(primaries: int, transfer: int) -> bytes:
    rgb, white = PRIMARIES[primaries]
    return rgb_profile(f"CICP {primaries}/{transfer}", rgb, white, table_of(transfer))
