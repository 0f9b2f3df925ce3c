"""Reference colour conversions for tests, written from the standards' constants (BT.709,
BT.2020, Display P3 primaries; IEC 61966-2-1 sRGB; SMPTE ST 2084 PQ; BT.2100 HLG; the
BT.2390 EETF), independently of imgproc's code: plain D65 → D65 3×3 matrices in linear light,
no ICC and no LittleCMS.
"""

from __future__ import annotations

import math

D65 = (0.3127, 0.3290)
SRGB = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06))
BT2020 = ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046))
DISPLAY_P3 = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))


def _solve(m, v):
    """m⁻¹·v by Cramer's rule."""
    def det(a):
        return (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
                - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]))
    d = det(m)
    return [det([[v[r] if c == i else m[r][c] for c in range(3)] for r in range(3)]) / d
            for i in range(3)]


def rgb_to_xyz(primaries, white=D65):
    """The normalised primary matrix (SMPTE RP 177): linear RGB → XYZ, white Y = 1."""
    cols = [(x / y, 1.0, (1 - x - y) / y) for x, y in primaries]
    m = [[cols[j][i] for j in range(3)] for i in range(3)]
    wx, wy = white
    s = _solve(m, [wx / wy, 1.0, (1 - wx - wy) / wy])
    return [[m[i][j] * s[j] for j in range(3)] for i in range(3)]


def linear_to_srgb_linear(rgb, primaries):
    """Linear RGB in `primaries` (D65) → linear sRGB, unclipped."""
    xyz = [sum(a * b for a, b in zip(row, rgb, strict=True)) for row in rgb_to_xyz(primaries)]
    return _solve(rgb_to_xyz(SRGB), xyz)


def srgb_encode(linear: float) -> int:
    v = min(1.0, max(0.0, linear))
    v = 12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
    return round(255 * v)


def srgb_decode(code: int) -> float:
    v = code / 255
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


# SMPTE ST 2084
M1, M2, C1, C2, C3 = 0.1593017578125, 78.84375, 0.8359375, 18.8515625, 18.6875


def pq_to_nits(e: float) -> float:
    p = e ** (1 / M2)
    return 10000 * (max(p - C1, 0) / (C2 - C3 * p)) ** (1 / M1)


def nits_to_pq(nits: float) -> float:
    y = (nits / 10000) ** M1
    return ((C1 + C2 * y) / (1 + C3 * y)) ** M2


def hlg_to_nits(e: float, peak: float = 1000.0) -> float:
    """BT.2100 HLG inverse OETF then OOTF (gamma 1.2 at 1000 cd/m²) for a neutral grey."""
    a = 0.17883277
    b, c = 1 - 4 * a, 0.5 - a * math.log(4 * a)
    scene = e * e / 3 if e <= 0.5 else (math.exp((e - c) / a) + b) / 12
    return peak * scene ** 1.2


def eetf(nits: float, source_peak: float = 1000.0, target_peak: float = 203.0) -> float:
    """ITU-R BT.2390 EETF (section 5.4.1), black levels 0."""
    top = nits_to_pq(source_peak)
    e1 = min(1.0, nits_to_pq(nits) / top)
    max_lum = nits_to_pq(target_peak) / top
    ks = 1.5 * max_lum - 0.5
    if e1 > ks:
        t = (e1 - ks) / (1 - ks)
        e1 = ((2 * t**3 - 3 * t**2 + 1) * ks + (t**3 - 2 * t**2 + t) * (1 - ks)
              + (-2 * t**3 + 3 * t**2) * max_lum)
    return pq_to_nits(e1 * top)


def expected_srgb(linear_rgb, primaries) -> tuple[int, int, int]:
    """What a colour-managed viewer shows for linear light (1.0 = SDR white) in `primaries`."""
    return tuple(srgb_encode(v) for v in linear_to_srgb_linear(linear_rgb, primaries))
